"""The last line of defence: log the failure, apologise to the person in their language."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def apologise(event: ErrorEvent) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    apology = _("Sorry, something went wrong on our side. Please try again in a moment.")
    try:
        if event.update.message is not None:
            await event.update.message.answer(apology)
        elif event.update.callback_query is not None:
            await event.update.callback_query.answer(apology, show_alert=True)
    except TelegramAPIError:
        log.warning("could not deliver the apology for update %s", event.update.update_id)


def build_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(apologise)
    return router

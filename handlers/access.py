"""Role checks for committee features. Updates say nothing of which menu a user saw, so every
committee handler checks the sender's rights on the server (../shared/telegram/LIMITS.md §8)."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.services.identity import Me, RoleName


class HasRole(Filter):
    """Passes when the sender holds one of `roles` in at least one village."""

    def __init__(self, *roles: RoleName) -> None:
        self.roles = roles

    async def __call__(self, event: TelegramObject, me: Me | None = None, **_data: Any) -> bool:
        return me is not None and bool(me.villages_with(*self.roles))


def not_allowed_text() -> str:
    return _("Sorry, this is only for the village's election committee.")

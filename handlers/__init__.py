"""Telegram side: one router per feature, assembled here in a deliberate order."""

from __future__ import annotations

from aiogram import Router

from handlers import cancel, errors, fallback, help, language, start


def build_root_router() -> Router:
    root = Router(name="cunmin")
    # /cancel first: it must win over any conversation state a later router waits in;
    # the fallback last: it answers whatever no feature took.
    root.include_routers(
        cancel.router, start.router, help.router, language.router, fallback.router, errors.router
    )
    return root

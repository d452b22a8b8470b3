"""Bringing the database to the schema this code expects (no Telegram imports: the shell uses it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import SettingsError
from storage.db import is_sqlite
from storage.migrate import current_revision, head_revision, upgrade_database


async def prepare_database(engine: AsyncEngine, url: str) -> None:
    """An embedded SQLite file upgrades itself; a server database is upgraded by its operator."""
    if is_sqlite(url):
        await upgrade_database(engine)
        return
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SettingsError(
            f"The database at CUNMIN_DATABASE_URL is at schema {current or 'empty'}, not {head}: "
            "run `cunmin db upgrade` first."
        )

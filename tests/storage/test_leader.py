"""The single-sender lock: one holder per database, free again once released (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.leader import SenderLock, lock_file_for


async def test_one_holder_at_a_time(engine: AsyncEngine, database_url: str) -> None:
    other_engine = create_engine(database_url)  # as a second process would have
    first, second = SenderLock(engine, database_url), SenderLock(other_engine, database_url)
    try:
        assert await first.acquire() and first.held
        assert await first.acquire()  # asking again changes nothing
        assert not await second.acquire() and not second.held
        await first.release()
        assert not first.held
        assert await second.acquire()
        assert not await first.acquire()
    finally:
        await first.release()
        await second.release()
        await other_engine.dispose()


def test_lock_file_sits_beside_the_database() -> None:
    assert str(lock_file_for("sqlite+aiosqlite:////srv/cunmin/cunmin.sqlite3")) == (
        "/srv/cunmin/cunmin.sqlite3.sender.lock"
    )
    assert lock_file_for("sqlite+aiosqlite:///:memory:") is None

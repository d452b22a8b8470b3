"""The single-sender lock: of several bot processes on one database, only one fires reminders.

PostgreSQL: a session-level advisory lock, held on one dedicated connection for as long as the
process runs (the server drops it when the connection or the process dies). SQLite: an exclusive
`flock` on a file beside the database (`<database>.sender.lock`), released by the kernel when the
process exits, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# An arbitrary 64-bit key, the same for every process of this program ("cunmin-s" in ASCII).
ADVISORY_KEY = 0x63756E6D696E2D73


def lock_file_for(url: str) -> Path | None:
    """The lock file beside a SQLite database; None for an in-memory one (one process only)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.sender.lock")


class SenderLock:
    """Try once to become the sender; `held` says whether this process is it."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self._engine = engine
        self._url = url
        self._connection: AsyncConnection | None = None
        self._file: IO[str] | None = None
        self.held = False

    @property
    def description(self) -> str:
        if make_url(self._url).get_backend_name() == "sqlite":
            return f"lock file {lock_file_for(self._url)}"
        return f"PostgreSQL advisory lock {ADVISORY_KEY}"

    async def acquire(self) -> bool:
        if self.held:
            return True
        if make_url(self._url).get_backend_name() == "sqlite":
            self.held = self._lock_file()
        else:
            self.held = await self._lock_advisory()
        return self.held

    def _lock_file(self) -> bool:
        path = lock_file_for(self._url)
        if path is None:
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="ascii")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    async def _lock_advisory(self) -> bool:
        connection = await self._engine.connect()
        # Autocommit: the lock belongs to the connection, and no transaction stays open for hours.
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        got = (
            await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        ).scalar()
        if not got:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            finally:
                await self._connection.close()
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self.held = False

"""Engine and session factory for SQLite (embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]

# How long a writer waits for SQLite's single write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE writes."""
    if not is_sqlite(url):
        return create_async_engine(url, echo=echo, pool_pre_ping=True)

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SQLite has one writer. A deferred transaction that reads and then writes fails at once
        # with "database is locked" when another writer got in between; BEGIN IMMEDIATE takes the
        # write lock up front, so concurrent writers queue behind busy_timeout instead.
        # The price: every transaction, even a read, holds the lock until it ends. So services end
        # their transaction (commit) before returning, and nothing holds one across a Telegram call.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    # expire_on_commit=False: handlers render objects after the service committed them.
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

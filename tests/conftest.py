"""Shared fixtures: a migrated database per test, on SQLite by default or PostgreSQL.

Set CUNMIN_TEST_POSTGRES_URL (scripts/test does, from scripts/pg) to run the same suite on
PostgreSQL: each test then gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SessionFactory, create_engine, create_session_factory
from storage.migrate import upgrade_database

POSTGRES_URL = os.environ.get("CUNMIN_TEST_POSTGRES_URL", "")
TEMPLATE_DB = f"cunmin_template_{os.getpid()}"


def _asyncpg_dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL, "postgres"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


def pytest_report_header() -> str:
    return f"cunmin database backend: {'postgresql' if POSTGRES_URL else 'sqlite'}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy for each test (migrating once keeps the suite fast)."""
    if POSTGRES_URL:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{TEMPLATE_DB}"'))
        asyncio.run(_migrate(str(make_url(POSTGRES_URL).set(database=TEMPLATE_DB).render_as_string(False))))
        yield TEMPLATE_DB
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
        yield str(path)


@pytest.fixture
async def database_url(database_template: str, tmp_path: Path) -> AsyncIterator[str]:
    if POSTGRES_URL:
        name = f"cunmin_test_{uuid.uuid4().hex[:12]}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{database_template}"')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "cunmin.sqlite3"
        shutil.copyfile(database_template, path)
        yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return create_session_factory(engine)

"""aiogram FSM storage kept in the database, so a half-finished conversation survives a restart."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlmodel import col, select

from bot.delivery.receipts import Batcher
from storage.db import SessionFactory
from storage.models import FsmRecord
from storage.repositories import fsm as fsm_repo
from storage.types import utcnow


class DatabaseStorage(BaseStorage):
    """One row per (bot, chat, user, destiny); each call is its own short transaction.

    aiogram asks for the state of every update before routing it, so concurrent `get_state` calls
    share one read (a `Batcher`: it starts after the calls, so it sees every write before them).
    """

    def __init__(self, session_factory: SessionFactory, key_builder: KeyBuilder | None = None) -> None:
        self._sessions = session_factory
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        self._states: Batcher[str, str | None] = Batcher(self._read_states, name="fsm-states")

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def _write(self, key: StorageKey, change: Callable[[FsmRecord], None]) -> None:
        async with self._sessions() as session:
            record = await fsm_repo.get(session, self._key(key))
            if record is None:
                record = FsmRecord(key=self._key(key))
            change(record)
            record.updated_at = utcnow()
            if record.state is None and record.data == "{}":
                # An empty conversation needs no row; keeps the table as small as the live chats.
                if record in session:
                    await session.delete(record)
            else:
                session.add(record)
            await session.commit()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state

        def change(record: FsmRecord) -> None:
            record.state = value

        await self._write(key, change)

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._states(self._key(key))

    async def _read_states(self, keys: list[str]) -> list[str | None]:
        async with self._sessions() as session:
            statement = select(FsmRecord.key, FsmRecord.state).where(col(FsmRecord.key).in_(set(keys)))
            states = dict((await session.exec(statement)).all())
        return [states.get(key) for key in keys]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        serialized = json.dumps(dict(data), ensure_ascii=False)

        def change(record: FsmRecord) -> None:
            record.data = serialized

        await self._write(key, change)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._sessions() as session:
            record = await fsm_repo.get(session, self._key(key))
            if record is None:
                return {}
            loaded = json.loads(record.data)
            return loaded if isinstance(loaded, dict) else {}

    async def close(self) -> None:
        """Nothing to release: the engine belongs to the composition root."""

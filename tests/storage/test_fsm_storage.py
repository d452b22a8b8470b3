from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import DatabaseStorage
from storage.db import SessionFactory, create_engine, create_session_factory


class Wizard(StatesGroup):
    title = State()


async def test_state_and_data_survive_a_new_storage_on_a_new_engine(
    sessions: SessionFactory, database_url: str
) -> None:
    key = StorageKey(bot_id=1, chat_id=2**41, user_id=2**41)
    first = DatabaseStorage(sessions)
    await first.set_state(key, Wizard.title)
    await first.update_data(key, {"title": "选举公告", "step": 1})

    # A restart: a fresh engine and storage read what the old process wrote.
    engine = create_engine(database_url)
    try:
        second = DatabaseStorage(create_session_factory(engine))
        assert await second.get_state(key) == "Wizard:title"
        assert await second.get_data(key) == {"title": "选举公告", "step": 1}
        await second.set_state(key, None)
        await second.set_data(key, {})
        assert await second.get_state(key) is None
        assert await second.get_data(key) == {}
    finally:
        await engine.dispose()


async def test_keys_are_separate_per_chat_and_user(sessions: SessionFactory) -> None:
    storage = DatabaseStorage(sessions)
    alice, bob = StorageKey(bot_id=1, chat_id=10, user_id=10), StorageKey(bot_id=1, chat_id=11, user_id=11)
    await storage.set_state(alice, "a")
    assert await storage.get_state(bob) is None
    assert await storage.get_data(bob) == {}

"""The middleware that lets a command end a conversation, on its own: which messages end one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, PhotoSize, TelegramObject, User

from bot.i18n import build_i18n
from bot.middlewares import CommandEndsConversationMiddleware, command_name

DROPPED = "What you had started was stopped; nothing from it was saved."
VILLAGER = User(id=7, is_bot=False, first_name="Wang")


def _message(
    text: str | None = None,
    *,
    command_at: int | None = 0,
    chat_type: str = "private",
    caption: str | None = None,
) -> Message:
    body = text if text is not None else caption or ""
    entities = None
    if command_at is not None and body.startswith("/", command_at):
        length = len(body[command_at:].split(maxsplit=1)[0])
        entities = [MessageEntity(type="bot_command", offset=command_at, length=length)]
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=7 if chat_type == "private" else -100, type=chat_type),
        from_user=VILLAGER,
        text=text,
        entities=entities if text is not None else None,
        caption=caption,
        caption_entities=entities if caption is not None else None,
        photo=[PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)]
        if caption is not None
        else None,
    )


class _Bot:
    """Only what the middleware asks of the bot: who it is (aiogram caches `Bot.me`)."""

    async def me(self) -> User:
        return User(id=1, is_bot=True, first_name="Cunmin", username="CunminBot")


class _Run:
    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.seen: dict[str, Any] | None = None

    async def handler(self, event: TelegramObject, data: dict[str, Any]) -> str:
        self.seen = dict(data)
        return "handled"


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    said: list[str] = []

    async def answer(self: Message, text: str, **kwargs: Any) -> None:
        said.append(text)

    monkeypatch.setattr(Message, "answer", answer)
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        yield said


async def _through(
    event: TelegramObject,
    answers: list[str],
    *,
    state: str | None = "ObjectionForm:text",
    middleware: CommandEndsConversationMiddleware | None = None,
) -> tuple[_Run, FSMContext]:
    context = FSMContext(storage=MemoryStorage(), key=StorageKey(bot_id=1, chat_id=7, user_id=7))
    await context.set_state(state)
    await context.update_data(notice_id=3)
    run = _Run(answers)
    data: dict[str, Any] = {"state": context, "raw_state": state, "bot": _Bot()}
    result = await (middleware or CommandEndsConversationMiddleware())(run.handler, event, data)
    assert result == "handled"  # every message is routed on, ended conversation or not
    return run, context


async def test_a_command_ends_the_conversation_before_routing(answers: list[str]) -> None:
    run, context = await _through(_message("/objections"), answers)
    assert await context.get_state() is None and await context.get_data() == {}
    assert run.seen is not None and run.seen["raw_state"] is None  # or StateFilter would still match
    assert answers == [DROPPED]


@pytest.mark.parametrize(
    "message",
    [
        _message("/cancel"),  # /cancel clears the state itself and says so
        _message("I object to the list."),
        _message("see /help", command_at=5),  # a command further on is text
        _message("/not-marked", command_at=None),  # no bot_command entity: Telegram did not see a command
        _message("/help@OtherBot", chat_type="group"),  # meant for another bot in the group
    ],
    ids=["cancel", "text", "command-later", "no-entity", "other-bot"],
)
async def test_the_conversation_stays(message: Message, answers: list[str]) -> None:
    run, context = await _through(message, answers)
    assert await context.get_state() == "ObjectionForm:text" and await context.get_data() == {"notice_id": 3}
    assert run.seen is not None and run.seen["raw_state"] == "ObjectionForm:text"
    assert answers == []


async def test_a_command_for_this_bot_by_name_and_a_caption_end_it(answers: list[str]) -> None:
    for message in (_message("/help@cunminbot", chat_type="group"), _message(caption="/start")):
        _run, context = await _through(message, answers)
        assert await context.get_state() is None
    assert answers == [DROPPED, DROPPED]


async def test_no_conversation_no_line(answers: list[str]) -> None:
    run, _context = await _through(_message("/help"), answers, state=None)
    assert run.seen is not None and answers == []


async def test_a_step_s_own_command_can_be_kept(answers: list[str]) -> None:
    keep = CommandEndsConversationMiddleware(keep=frozenset({"cancel", "skip"}))
    _run, context = await _through(_message("/skip"), answers, middleware=keep)
    assert await context.get_state() == "ObjectionForm:text" and answers == []
    _run, context = await _through(_message("/help"), answers, middleware=keep)
    assert await context.get_state() is None and answers == [DROPPED]


async def test_button_presses_pass_untouched(answers: list[str]) -> None:
    press = CallbackQuery(id="q", from_user=VILLAGER, chat_instance="c", data="/help")
    _run, context = await _through(press, answers)
    assert await context.get_state() == "ObjectionForm:text" and answers == []


def test_command_name() -> None:
    assert command_name(_message("/Help extra")) == ("help", "")
    assert command_name(_message("/help@CunminBot")) == ("help", "CunminBot")
    assert command_name(_message("hello")) is None
    assert command_name(_message(caption="/start")) == ("start", "")

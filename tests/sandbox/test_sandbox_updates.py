"""Getting updates: long polling semantics and webhook delivery, driven through aiogram."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import Update
from aiohttp import web

from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator
from sandbox.testing import bot_for, close_bot

# ------------------------------------------------------------------------------------ long polling


async def test_long_poll_is_woken_by_an_incoming_message(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_until(lambda: emu.hub.waiting_polls == 1)
    await emu.user_sends(user, "你好")
    updates = await asyncio.wait_for(poll, timeout=5)  # far less than the 30 s poll timeout
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "你好"
    assert message.from_user is not None and message.from_user.id == user.id


async def test_short_poll_returns_immediately_when_empty(bot: Bot) -> None:
    assert await bot.get_updates() == []
    assert await asyncio.wait_for(bot.get_updates(timeout=0), timeout=2) == []


async def test_offset_confirmation_and_negative_offset(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    for text in ("a", "b", "c"):
        await emu.user_sends(user, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["a", "b", "c"]
    ids = [u.update_id for u in first]
    assert ids == sorted(ids) and ids[2] - ids[0] == 2
    # Not confirmed yet: the same updates again, and `limit` takes the earliest.
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
    # offset = last + 1 confirms everything.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1] + 1)] == ids[2:]
    assert [u.update_id for u in await bot.get_updates(offset=ids[2] + 1)] == []
    assert emu.pending_updates == []
    for text in ("d", "e", "f"):
        await emu.user_sends(user, text)
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["f"]
    # "All previous updates will be forgotten."
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["f"]


async def test_a_second_poll_terminates_the_first(bot: Bot, emu: Emulator) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_until(lambda: emu.hub.waiting_polls == 1)
    second = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, timeout=5)
    user = emu.create_user("Li")
    await emu.user_sends(user, "for the survivor")
    assert len(await asyncio.wait_for(second, timeout=5)) == 1


async def test_allowed_updates_is_sticky_and_filters_new_updates(bot: Bot, emu: Emulator) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "kept: created before the filter")
    assert len(await bot.get_updates(allowed_updates=["callback_query"])) == 1
    await emu.user_sends(user, "dropped")
    assert len(await bot.get_updates()) == 1  # still the old one; the new message was filtered
    assert emu.hub.allowed_updates == ["callback_query"]
    assert len(emu.hub.dropped_by_filter) == 1
    # An empty list restores the default (everything except chat_member and reactions).
    await bot.get_updates(allowed_updates=[])
    assert "message" in emu.hub.effective_allowed()
    assert "chat_member" not in emu.hub.effective_allowed()


async def test_updates_expire_after_24_hours(bot: Bot, emu: Emulator, clock: VirtualClock) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "old news")
    clock.advance(24 * 3600 + 1)
    await emu.user_sends(user, "fresh")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["fresh"]


# ---------------------------------------------------------------------------------------- webhook


@dataclass
class WebhookSink:
    """A tiny webhook receiver on 127.0.0.1: records requests, answers with a scripted status/body."""

    url: str = ""
    received: asyncio.Queue[tuple[dict[str, Any], str | None, str]] = field(default_factory=asyncio.Queue)
    statuses: list[int] = field(default_factory=list)
    reply: dict[str, Any] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self.received.put(
            (body, request.headers.get("X-Telegram-Bot-Api-Secret-Token"), request.content_type)
        )
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=status)

    async def next(self) -> tuple[dict[str, Any], str | None, str]:
        return await asyncio.wait_for(self.received.get(), timeout=5)


@pytest.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    receiver = WebhookSink()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield receiver
    await runner.cleanup()


async def test_webhook_delivery_with_secret_header(bot: Bot, emu: Emulator, sink: WebhookSink) -> None:
    user = emu.create_user("Li")
    assert await bot.set_webhook(sink.url, secret_token="s3cret_Token-1", allowed_updates=["message"])
    await emu.user_starts(user, payload="ref_42")
    body, secret, content_type = await sink.next()
    assert secret == "s3cret_Token-1"
    assert content_type == "application/json"
    update = Update.model_validate(body)
    assert update.message is not None and update.message.text == "/start ref_42"
    await emu.wait_until(lambda: emu.webhook_info()["pending_update_count"] == 0)
    info = await bot.get_webhook_info()
    assert info.url == sink.url and info.pending_update_count == 0 and info.last_error_date is None
    assert info.allowed_updates == ["message"]
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    await emu.user_sends(user, "polling again")
    assert len(await bot.get_updates()) == 1


async def test_webhook_failures_are_retried_with_backoff(
    bot: Bot, emu: Emulator, sink: WebhookSink, clock: VirtualClock
) -> None:
    clock.freeze()  # backoff runs on the virtual clock: nothing is retried until we advance it
    sink.statuses = [500, 502]
    await bot.set_webhook(sink.url)
    user = emu.create_user("Li")
    await emu.user_sends(user, "retry me")
    first, _, _ = await sink.next()
    await emu.wait_until(lambda: emu.hub.next_retry_at is not None)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None
    assert emu.hub.next_retry_at == pytest.approx(clock.time() + 0.5)  # webhook_retry_base in the fixture
    clock.advance(0.5)
    second, _, _ = await sink.next()
    await emu.wait_until(lambda: len(emu.webhook_attempts) == 2 and emu.hub.next_retry_at is not None)
    assert emu.hub.next_retry_at == pytest.approx(clock.time() + 1.0)  # the backoff doubles
    clock.advance(1.0)
    third, _, _ = await sink.next()
    assert first == second == third
    await emu.wait_until(lambda: emu.webhook_info()["pending_update_count"] == 0)
    assert [a.status for a in emu.webhook_attempts] == [500, 502, 200]


async def test_unreachable_webhook_reports_the_error(bot: Bot, emu: Emulator, clock: VirtualClock) -> None:
    clock.freeze()
    await bot.set_webhook("http://127.0.0.1:9/hook")  # discard port: nothing listens
    await emu.user_sends(emu.create_user("Li"), "hello?")
    await emu.wait_until(lambda: emu.webhook_info().get("last_error_message") is not None)
    assert emu.webhook_info()["last_error_message"] == "Connection refused"


async def test_method_call_in_the_webhook_answer_is_executed(
    bot: Bot, emu: Emulator, sink: WebhookSink
) -> None:
    user = emu.create_user("Li")
    sink.reply = {"method": "sendMessage", "chat_id": user.id, "text": "pong"}
    await bot.set_webhook(sink.url)
    await emu.user_sends(user, "ping")
    reply = await emu.wait_for(user)
    assert reply.text == "pong"
    assert emu.calls_to("sendMessage")[0].source == "webhook_reply"


async def test_drop_pending_updates(bot: Bot, emu: Emulator, sink: WebhookSink) -> None:
    user = emu.create_user("Li")
    await emu.user_sends(user, "stale")
    await bot.delete_webhook(drop_pending_updates=True)
    assert emu.pending_updates == []
    await emu.user_sends(user, "stale again")
    sink.statuses = []
    await bot.set_webhook(sink.url, drop_pending_updates=True)
    await emu.user_sends(user, "fresh")
    body, _, _ = await sink.next()
    assert body["message"]["text"] == "fresh"


async def test_set_webhook_terminates_a_waiting_poll(bot: Bot, emu: Emulator, sink: WebhookSink) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_until(lambda: emu.hub.waiting_polls == 1)
    other = bot_for(emu)
    try:
        await other.set_webhook(sink.url)
    finally:
        await close_bot(other)
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await asyncio.wait_for(poll, timeout=5)


async def test_webhook_url_rules(bot: Bot, emu: Emulator) -> None:
    assert await bot.set_webhook("https://example.org:8443/hook")
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://example.org/hook")
    with pytest.raises(TelegramBadRequest, match="ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://example.org:8080/hook")
    await bot.delete_webhook()
    async with Emulator(strict_webhook_urls=True) as strict:
        strict_bot = bot_for(strict)
        try:
            with pytest.raises(TelegramBadRequest, match="bad webhook"):
                await strict_bot.set_webhook("http://127.0.0.1:8080/hook")
        finally:
            await close_bot(strict_bot)


async def test_webhook_updates_are_plain_json(emu: Emulator, sink: WebhookSink) -> None:
    """The body is the Update object itself: parseable without aiogram."""
    await emu.call("setWebhook", url=sink.url)
    user = emu.create_user("Li")
    await emu.user_shares_contact(user, "+8613800000000")
    body, _, _ = await sink.next()
    assert json.loads(json.dumps(body)) == body
    assert body["message"]["contact"] == {
        "phone_number": "+8613800000000",
        "first_name": "Li",
        "user_id": user.id,
    }

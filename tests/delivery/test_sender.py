"""The outbox sender through the emulator: exactly once, each their own text, errors, pacing, resume."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.sender import OutboxSender
from bot.services.outbox import (
    BroadcastKind,
    MessagePayload,
    OutgoingMessage,
    SendMethod,
    broadcast_report,
    enqueue_broadcast,
)
from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator, FaultPlan, RateLimitConfig
from storage.db import SessionFactory, create_engine, create_session_factory
from storage.models import Binding, DeliveryStatus
from tests.delivery.conftest import broadcast_to, deliveries, make_recipients, received, text_for

FAST = 1000.0  # messages per second, for tests that are not about pacing


def sender_for(bot: Bot, sessions: SessionFactory, clock: VirtualClock, **options: object) -> OutboxSender:
    # Retries of one chat wait per_chat_interval too: keep it short where pacing is not the subject.
    values: dict[str, object] = {"rate": FAST, "clock": clock, "per_chat_interval": 0.05}
    values.update(options)
    return OutboxSender(bot, sessions, **values)  # type: ignore[arg-type]


async def test_each_recipient_gets_their_own_text_exactly_once(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 25)
    broadcast = await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    for recipient in recipients:
        assert received(emu, recipient.user) == [text_for(recipient)]
    rows = await deliveries(sessions, broadcast.id or 0)
    assert {row.status for row in rows} == {DeliveryStatus.SENT}
    assert all(row.message_id is not None and row.sent_at is not None and row.attempts == 1 for row in rows)
    async with sessions() as session:
        report = await broadcast_report(session, broadcast.id or 0)
    assert report is not None
    assert (report.total, report.sent, report.pending, report.finished) == (25, 25, 0, True)
    assert report.finished_at is not None
    assert report.undelivered == ()


async def test_blocked_deactivated_and_never_started_are_reported(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 6)
    blocked, deactivated, stranger = recipients[1], recipients[2], recipients[3]
    emu.block(blocked.user)
    emu.deactivate(deactivated.user)
    stranger.user.started = False  # never pressed Start: Telegram does not know the chat
    broadcast = await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    async with sessions() as session:
        report = await broadcast_report(session, broadcast.id or 0)
    assert report is not None
    assert (report.sent, report.unreachable, report.failed, report.pending) == (3, 2, 1, 0)
    by_account = {u.account_id: u for u in report.undelivered}
    assert by_account[blocked.account_id].status is DeliveryStatus.UNREACHABLE
    assert by_account[blocked.account_id].error == "Forbidden: bot was blocked by the user"
    assert by_account[deactivated.account_id].status is DeliveryStatus.UNREACHABLE
    assert by_account[deactivated.account_id].error == "Forbidden: user is deactivated"
    assert by_account[stranger.account_id].status is DeliveryStatus.FAILED
    assert by_account[stranger.account_id].error == "Bad Request: chat not found"
    # Whom to phone or visit: the report names the person behind each account.
    assert by_account[blocked.account_id].person_name == blocked.name
    assert by_account[blocked.account_id].person_id == blocked.person_id
    # A refusal is final: one attempt each, no retries.
    assert all(u.attempts == 1 for u in report.undelivered)
    for recipient in (recipients[0], recipients[4], recipients[5]):
        assert received(emu, recipient.user) == [text_for(recipient)]


async def test_flood_control_is_honoured_and_nobody_is_lost(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    """The sender is configured faster than Telegram allows: it gets 429s, waits, loses nobody."""
    clock.set_speed(5)  # 1 virtual second = 0.2 real seconds, for the emulator and the sender alike
    emu.rate_limits = RateLimitConfig(global_per_second=10, global_burst=2)
    recipients = await make_recipients(sessions, emu, 20)
    await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock, rate=50, burst=10)
    try:
        await sender.run_until_idle(timeout=30)
    finally:
        await sender.stop()

    assert emu.stats.too_many_requests > 0
    # A 429 means "not sent": retrying it cannot produce a duplicate.
    for recipient in recipients:
        assert received(emu, recipient.user) == [text_for(recipient)]
    # Telegram's bucket (10/s, burst 2) was never beaten: the emulator refused the excess.
    assert emu.stats.max_send_rate(1.0) <= 10 + 2
    # Each 429 (retry_after=1) paused the whole sender: apart from requests already on the wire
    # when it arrived, nothing reached Telegram until the second was over.
    calls = emu.calls_to("sendMessage")
    for refused in (c for c in calls if c.status == 429):
        early = [c.time - refused.time for c in calls if refused.time + 0.3 < c.time < refused.time + 0.95]
        assert early == [], early


async def test_pace_at_the_limit_gets_no_429(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    clock.set_speed(5)
    emu.rate_limits = RateLimitConfig(global_per_second=20, global_burst=5)
    recipients = await make_recipients(sessions, emu, 60)
    await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock, rate=20)
    try:
        await sender.run_until_idle(timeout=30)
    finally:
        await sender.stop()

    assert emu.stats.too_many_requests == 0
    times = sorted(emu.stats.send_times)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    # Never faster than the limit; how close it gets to it is measured in bench/outbox_rate.py.
    assert achieved <= 20 * 1.05, achieved
    assert len(times) == 60
    assert emu.stats.max_send_rate(1.0) <= 20 + 5


async def test_server_errors_are_retried_with_backoff(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    emu.faults = FaultPlan(seed=7, p_5xx=0.3, methods=frozenset({"sendMessage"}))
    recipients = await make_recipients(sessions, emu, 30)
    broadcast = await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock, backoff_base=0.02, backoff_max=0.1, max_attempts=12)
    try:
        await sender.run_until_idle(timeout=30)
    finally:
        await sender.stop()

    assert emu.stats.server_errors > 0
    for recipient in recipients:
        assert received(emu, recipient.user) == [text_for(recipient)]
    rows = await deliveries(sessions, broadcast.id or 0)
    assert {row.status for row in rows} == {DeliveryStatus.SENT}
    assert max(row.attempts for row in rows) > 1
    assert all(row.error is None for row in rows)


async def test_persistent_server_errors_give_up_after_max_attempts(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    emu.faults = FaultPlan(seed=1, p_5xx=1.0, methods=frozenset({"sendMessage"}))
    recipients = await make_recipients(sessions, emu, 3)
    broadcast = await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock, backoff_base=0.01, max_attempts=3)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    rows = await deliveries(sessions, broadcast.id or 0)
    assert [(row.status, row.attempts) for row in rows] == [(DeliveryStatus.FAILED, 3)] * 3
    assert all(row.error == "Bad Gateway (gave up after 3 attempts)" for row in rows)
    assert emu.stats.by_method["sendMessage"] == 9


async def test_one_chat_gets_at_most_one_message_per_second_and_others_do_not_wait(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    clock.set_speed(5)
    emu.rate_limits = True  # Telegram's figures: 1/s per private chat (burst 3), 30/s overall
    recipients = await make_recipients(sessions, emu, 6)
    busy = recipients[0]
    parts = [f"公示第{n}部分" for n in range(1, 5)]
    messages = [
        OutgoingMessage(account_id=busy.account_id, chat_id=busy.user.id, payload=MessagePayload(text=p))
        for p in parts
    ] + [
        OutgoingMessage(account_id=r.account_id, chat_id=r.user.id, payload=MessagePayload(text=text_for(r)))
        for r in recipients[1:]
    ]
    async with sessions() as session:
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.PUBLICITY,
            title="候选人公示",
            village_id=None,
            created_by_account_id=None,
            messages=messages,
        )
    # When each request leaves the bot (the pace the sender keeps), on the test's clock: the
    # emulator's own stamps add the transport time, which a busy machine stretches (x5, the speed).
    departures: list[tuple[int | str, float]] = []

    async def record(
        make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if isinstance(method, SendMessage):
            departures.append((method.chat_id, clock.time()))
        return await make_request(bot, method)

    bot.session.middleware(record)
    sender = sender_for(bot, sessions, clock, rate=30, per_chat_interval=1.0)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    assert emu.stats.too_many_requests == 0
    assert received(emu, busy.user) == parts  # in order
    left = [at for chat, at in departures if chat == busy.user.id]
    gaps = [later - earlier for earlier, later in itertools.pairwise(left)]
    assert len(left) == len(parts) and min(gaps) >= 0.99, gaps
    sends = [c for c in emu.calls_to("sendMessage") if c.ok]
    busy_times = [c.time for c in sends if c.params["chat_id"] == busy.user.id]
    # Everybody else was served while the busy chat waited for its second turn.
    others_last = max(c.time for c in sends if c.params["chat_id"] != busy.user.id)
    assert others_last < busy_times[1]


async def test_a_villager_unbound_mid_broadcast_is_skipped(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 10)
    leaver = recipients[-1]
    broadcast = await broadcast_to(sessions, recipients)
    # Slow and in small batches, so the last row is claimed well after the first message went out.
    sender = sender_for(bot, sessions, clock, rate=20, batch_size=2)
    await sender.start()
    try:
        await emu.wait_for(recipients[0].user, timeout=5)
        async with sessions() as session:
            await session.execute(delete(Binding).where(Binding.account_id == leaver.account_id))  # type: ignore[arg-type]
            await session.commit()
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    assert received(emu, leaver.user) == []
    async with sessions() as session:
        report = await broadcast_report(session, broadcast.id or 0)
    assert report is not None
    assert (report.sent, report.skipped, report.pending, report.finished) == (9, 1, 0, True)
    rows = await deliveries(sessions, broadcast.id or 0)
    assert rows[-1].status == DeliveryStatus.SKIPPED
    assert rows[-1].attempts == 0


async def test_a_crash_mid_broadcast_resumes_with_few_duplicates(
    emu: Emulator, bot: Bot, database_url: str, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 80)
    await broadcast_to(sessions, recipients)
    concurrency = 4
    # Slow answers keep requests in flight at the moment of the crash.
    emu.faults = FaultPlan(seed=3, p_slow=0.3, slow_seconds=0.05, methods=frozenset({"sendMessage"}))

    # The first process has its own engine: a crash takes its connections with it.
    crashed_engine: AsyncEngine = create_engine(database_url)
    first = sender_for(bot, create_session_factory(crashed_engine), clock, rate=200, concurrency=concurrency)
    await first.start()
    await emu.wait_until(lambda: len(emu.stats.send_times) >= 30, timeout=10)
    await first.abort()  # no settling, no releasing: as if the process had been killed
    await crashed_engine.dispose()
    sent_before_crash = len(emu.stats.send_times)
    assert sent_before_crash < len(recipients)

    second = sender_for(bot, sessions, clock, rate=200, concurrency=concurrency)
    try:
        await second.run_until_idle(timeout=20)
    finally:
        await second.stop()

    copies = Counter({r.account_id: len(received(emu, r.user)) for r in recipients})
    assert min(copies.values()) >= 1  # nobody lost
    duplicates = sum(n - 1 for n in copies.values())
    assert duplicates <= concurrency
    for recipient in recipients:
        assert set(received(emu, recipient.user)) == {text_for(recipient)}


async def test_graceful_stop_leaves_nothing_claimed_and_sends_no_duplicate(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 40)
    broadcast = await broadcast_to(sessions, recipients)
    sender = sender_for(bot, sessions, clock, rate=100)
    await sender.start()
    await emu.wait_until(lambda: len(emu.stats.send_times) >= 10, timeout=10)
    await sender.stop()

    rows = await deliveries(sessions, broadcast.id or 0)
    statuses = Counter(row.status for row in rows)
    assert statuses[DeliveryStatus.CLAIMED] == 0
    assert statuses[DeliveryStatus.SENT] == len(emu.stats.send_times)
    assert 10 <= statuses[DeliveryStatus.SENT] < 40

    again = sender_for(bot, sessions, clock)
    try:
        await again.run_until_idle(timeout=20)
    finally:
        await again.stop()
    for recipient in recipients:
        assert received(emu, recipient.user) == [text_for(recipient)]


async def test_a_document_is_uploaded_once_then_sent_by_file_id(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock, tmp_path: object
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    pdf = tmp_path / "公示.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% publicity list\n")
    recipients = await make_recipients(sessions, emu, 4)
    messages = [
        OutgoingMessage(
            account_id=r.account_id,
            chat_id=r.user.id,
            payload=MessagePayload(method=SendMethod.SEND_DOCUMENT, text="候选人公示", file_path=str(pdf)),
        )
        for r in recipients
    ]
    async with sessions() as session:
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.PUBLICITY,
            title="候选人公示",
            village_id=None,
            created_by_account_id=None,
            messages=messages,
        )
    sender = sender_for(bot, sessions, clock, concurrency=1)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    calls = [c for c in emu.calls_to("sendDocument") if c.ok]
    assert len(calls) == 4
    uploads = [c for c in calls if isinstance(c.params["document"], dict)]
    assert len(uploads) == 1
    for recipient in recipients:
        [event] = emu.bot_messages(recipient.user)
        assert event.document is not None and event.caption == "候选人公示"
        assert emu.file_bytes(event.document.file_id) == pdf.read_bytes()


async def test_a_missing_file_fails_its_rows_without_stopping_the_rest(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock, tmp_path: object
) -> None:
    recipients = await make_recipients(sessions, emu, 2)
    messages = [
        OutgoingMessage(
            account_id=recipients[0].account_id,
            chat_id=recipients[0].user.id,
            payload=MessagePayload(method=SendMethod.SEND_DOCUMENT, file_path=f"{tmp_path}/gone.pdf"),
        ),
        OutgoingMessage(
            account_id=recipients[1].account_id,
            chat_id=recipients[1].user.id,
            payload=MessagePayload(text="你好"),
        ),
    ]
    async with sessions() as session:
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.OTHER,
            title="x",
            village_id=None,
            created_by_account_id=None,
            messages=messages,
        )
    sender = sender_for(bot, sessions, clock, backoff_base=0.01, max_attempts=2)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()
    rows = await deliveries(sessions, broadcast.id or 0)
    assert rows[0].status == DeliveryStatus.FAILED
    assert rows[0].error is not None and "gone.pdf" in rows[0].error
    assert rows[1].status == DeliveryStatus.SENT


async def test_new_broadcasts_are_picked_up_while_running(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 3)
    sender = sender_for(bot, sessions, clock, poll_interval=60)
    await sender.start()
    try:
        await asyncio.sleep(0.05)  # the sender found nothing and went idle
        await broadcast_to(sessions, recipients)
        sender.wake()
        for recipient in recipients:
            event = await emu.wait_for(recipient.user, timeout=2)  # long before the 60 s poll
            assert event.content == text_for(recipient)
    finally:
        await sender.stop()


async def test_a_group_upgraded_to_a_supergroup_gets_its_rows_at_the_new_id(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    [member] = await make_recipients(sessions, emu, 1)
    group = emu.create_group("选委会", [member.user])
    texts = ["第一条", "第二条", "第三条"]
    async with sessions() as session:
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.RESULTS,
            title="选举结果",
            village_id=None,
            created_by_account_id=member.account_id,
            messages=[
                OutgoingMessage(
                    account_id=member.account_id,
                    chat_id=group.id,
                    payload=MessagePayload(text=text),
                    requires_binding=False,
                )
                for text in texts
            ],
        )
    supergroup = await emu.upgrade_group(group)  # queued for the old id, sent after the upgrade
    assert str(supergroup.id).startswith("-100") and supergroup.type == "supergroup"
    moves: list[tuple[int, int]] = []

    async def moved(old: int, new: int) -> None:
        moves.append((old, new))

    sender = sender_for(bot, sessions, clock, chat_migrated=moved)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    assert [e.content for e in emu.bot_messages(supergroup)] == texts
    assert emu.bot_messages(group) == []
    assert moves == [(group.id, supergroup.id)]  # the hook once, however many rows were queued
    refused = [c for c in emu.calls_to("sendMessage") if not c.ok]
    assert [(c.params["chat_id"], c.status) for c in refused] == [(group.id, 400)]
    assert refused[0].description == "Bad Request: group chat was upgraded to a supergroup chat"
    rows = await deliveries(sessions, broadcast.id or 0)
    assert {(r.status, r.chat_id, r.attempts) for r in rows} == {(DeliveryStatus.SENT, supergroup.id, 1)}


async def test_a_failing_migration_hook_does_not_cost_the_message(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    [member] = await make_recipients(sessions, emu, 1)
    group = emu.create_group("选委会", [member.user])
    async with sessions() as session:
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.RESULTS,
            title="选举结果",
            village_id=None,
            created_by_account_id=member.account_id,
            messages=[
                OutgoingMessage(
                    account_id=member.account_id,
                    chat_id=group.id,
                    payload=MessagePayload(text="结果"),
                    requires_binding=False,
                )
            ],
        )
    supergroup = await emu.upgrade_group(group)

    async def broken(old: int, new: int) -> None:
        raise RuntimeError("database down")

    sender = sender_for(bot, sessions, clock, chat_migrated=broken)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()
    assert [e.content for e in emu.bot_messages(supergroup)] == ["结果"]
    [row] = await deliveries(sessions, broadcast.id or 0)
    assert (row.status, row.chat_id) == (DeliveryStatus.SENT, supergroup.id)

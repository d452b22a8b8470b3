"""Enqueueing, the claim, the report and the committee member's progress message."""

from __future__ import annotations

import time

import pytest
from aiogram import Bot
from sqlalchemy import delete

from bot.delivery.progress import ProgressMessage
from bot.delivery.sender import BroadcastProgress, OutboxSender
from bot.i18n import build_i18n
from bot.services.outbox import (
    BroadcastKind,
    MessagePayload,
    OutgoingMessage,
    SendMethod,
    broadcast_report,
    enqueue_broadcast,
)
from sandbox.clock import VirtualClock
from sandbox.emulator import Emulator
from storage.db import SessionFactory
from storage.models import Binding, Broadcast, DeliveryStatus
from storage.repositories import outbox as outbox_repo
from storage.types import utcnow
from tests.conftest import POSTGRES_URL
from tests.delivery.conftest import broadcast_to, deliveries, make_recipients

# ------------------------------------------------------------------------------------- payloads


def test_payload_round_trips_through_json() -> None:
    payload = MessagePayload(
        method=SendMethod.SEND_DOCUMENT,
        text="<b>候选人公示</b>",
        parse_mode="HTML",
        reply_markup={"inline_keyboard": [[{"text": "我有异议", "callback_data": "obj:1"}]]},
        file_path="/srv/cunmin/公示.pdf",
    )
    assert MessagePayload.from_json(payload.to_json()) == payload
    assert "候选人" in payload.to_json()  # stored readable, not \\u-escaped


@pytest.mark.parametrize(
    "fields",
    [
        {"text": ""},
        {"text": "x", "file_id": "abc"},
        {"method": SendMethod.SEND_PHOTO},
        {"method": SendMethod.SEND_PHOTO, "file_id": "a", "file_path": "/b"},
    ],
)
def test_malformed_payloads_are_refused_before_anything_is_stored(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MessagePayload(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- enqueueing


async def test_thousands_of_rows_are_written_in_one_quick_transaction(
    emu: Emulator, sessions: SessionFactory
) -> None:
    recipients = await make_recipients(sessions, emu, 3000, start=False)
    started = time.perf_counter()
    broadcast = await broadcast_to(sessions, recipients)
    elapsed = time.perf_counter() - started
    assert broadcast.id is not None and broadcast.total == 3000
    rows = await deliveries(sessions, broadcast.id)
    assert len(rows) == 3000
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}
    assert (
        rows[0].payload
        == MessagePayload(text=f"{recipients[0].name}，您好：请于本周日参加村民代表会议。").to_json()
    )
    # A bulk insert: well under a second on a laptop; one INSERT per row would take several.
    assert elapsed < 3.0, elapsed


async def test_enqueue_without_commit_is_rolled_back_with_the_callers_transaction(
    emu: Emulator, sessions: SessionFactory
) -> None:
    recipients = await make_recipients(sessions, emu, 3)
    async with sessions() as session:
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.RESULTS,
            title="选举结果",
            village_id=None,
            created_by_account_id=None,
            messages=[
                OutgoingMessage(account_id=r.account_id, chat_id=r.user.id, payload=MessagePayload(text="x"))
                for r in recipients
            ],
            commit=False,
        )
        await session.rollback()
    async with sessions() as session:
        assert await outbox_repo.get_broadcast(session, broadcast.id or 0) is None


async def test_an_empty_broadcast_is_finished_at_once(sessions: SessionFactory) -> None:
    async with sessions() as session:
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.REMINDER,
            title="空",
            village_id=None,
            created_by_account_id=None,
            messages=[],
        )
        report = await broadcast_report(session, broadcast.id or 0)
    assert report is not None and report.finished and report.finished_at is not None
    assert report.total == 0


async def test_report_of_an_unknown_broadcast_is_none(sessions: SessionFactory) -> None:
    async with sessions() as session:
        assert await broadcast_report(session, 4242) is None


# ------------------------------------------------------------------------------------- claims


async def test_concurrent_claims_never_share_a_row(emu: Emulator, sessions: SessionFactory) -> None:
    recipients = await make_recipients(sessions, emu, 10)
    await broadcast_to(sessions, recipients)
    async with sessions() as first:
        mine = await outbox_repo.claim_due(first, now=utcnow(), limit=4)
        if POSTGRES_URL:
            # Still uncommitted: FOR UPDATE SKIP LOCKED passes over the rows locked by `first`.
            async with sessions() as second:
                theirs = await outbox_repo.claim_due(second, now=utcnow(), limit=4)
                await second.commit()
            await first.commit()
        else:
            # SQLite: BEGIN IMMEDIATE makes the second claim wait for the first to commit.
            await first.commit()
            async with sessions() as second:
                theirs = await outbox_repo.claim_due(second, now=utcnow(), limit=4)
                await second.commit()
    assert len(mine) == len(theirs) == 4
    assert not {r.id for r in mine} & {r.id for r in theirs}
    assert [r.id for r in mine] == sorted(r.id for r in mine)


async def test_rows_not_yet_due_are_not_claimed(emu: Emulator, sessions: SessionFactory) -> None:
    from datetime import timedelta

    recipients = await make_recipients(sessions, emu, 2)
    async with sessions() as session:
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.REMINDER,
            title="明天提醒",
            village_id=None,
            created_by_account_id=None,
            messages=[
                OutgoingMessage(account_id=r.account_id, chat_id=r.user.id, payload=MessagePayload(text="x"))
                for r in recipients
            ],
            not_before=utcnow() + timedelta(hours=1),
        )
    async with sessions() as session:
        assert await outbox_repo.claim_due(session, now=utcnow(), limit=10) == []
        due = await outbox_repo.next_due_at(session)
        assert due is not None and due > utcnow() + timedelta(minutes=59)
        assert len(await outbox_repo.claim_due(session, now=utcnow() + timedelta(hours=2), limit=10)) == 2


async def test_observers_on_no_roll_are_not_skipped(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    recipients = await make_recipients(sessions, emu, 2)
    async with sessions() as session:
        await session.execute(delete(Binding))
        await session.commit()
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.NOTICE,
            title="t",
            village_id=None,
            created_by_account_id=None,
            messages=[
                OutgoingMessage(
                    account_id=r.account_id,
                    chat_id=r.user.id,
                    payload=MessagePayload(text="乡镇观察员通知"),
                    requires_binding=n == 0,
                )
                for n, r in enumerate(recipients)
            ],
        )
    sender = OutboxSender(bot, sessions, rate=1000, clock=clock)
    try:
        await sender.run_until_idle(timeout=10)
    finally:
        await sender.stop()
    rows = await deliveries(sessions, broadcast.id or 0)
    assert [row.status for row in rows] == [DeliveryStatus.SKIPPED, DeliveryStatus.SENT]
    assert rows[0].error == outbox_repo.UNBOUND_ERROR


# ------------------------------------------------------------------------------------ progress


async def test_the_progress_message_is_edited_in_place_and_ends_with_the_totals(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    clock.set_speed(4)
    committee = emu.create_user("主任", language_code="en")
    committee.started = True
    recipients = await make_recipients(sessions, emu, 40)
    emu.block(recipients[0].user)
    placeholder = await bot.send_message(committee.id, "Preparing…")
    messages = [
        OutgoingMessage(account_id=r.account_id, chat_id=r.user.id, payload=MessagePayload(text="通知"))
        for r in recipients
    ]
    async with sessions() as session:
        broadcast = await enqueue_broadcast(
            session,
            kind=BroadcastKind.NOTICE,
            title="Meeting",
            village_id=None,
            created_by_account_id=None,
            messages=messages,
            progress_chat_id=committee.id,
            progress_message_id=placeholder.message_id,
            progress_locale="en",
        )
    hook = ProgressMessage(bot, sessions, build_i18n("zh_Hans"), "zh_Hans")
    sender = OutboxSender(bot, sessions, rate=40, clock=clock, progress=hook, progress_interval=0.25)
    try:
        await sender.run_until_idle(timeout=20)
    finally:
        await sender.stop()

    [message] = emu.bot_messages(committee)  # one message, edited; no new message per update
    assert message.message_id == placeholder.message_id
    assert message.content == "Finished “Meeting”: 39 of 40 sent, 1 not delivered, 0 skipped."
    # Intermediate counts were shown while it ran, at most every progress_interval.
    assert len(message.edits) >= 2
    assert any(edit_text.startswith("Sending “Meeting”: ") for edit_text in _edit_texts(message))
    async with sessions() as session:
        stored = await session.get(Broadcast, broadcast.id)
        assert stored is not None and stored.finished_at is not None


def _edit_texts(message: object) -> list[str]:
    edits = getattr(message, "edits", ())
    out = []
    for edit in edits:
        text = getattr(edit, "text", None) or getattr(edit, "content", None)
        if isinstance(text, str):
            out.append(text)
    return out


async def test_without_a_message_id_the_progress_message_is_sent_then_remembered(
    emu: Emulator, bot: Bot, sessions: SessionFactory, clock: VirtualClock
) -> None:
    committee = emu.create_user("主任", language_code="en")
    committee.started = True
    recipients = await make_recipients(sessions, emu, 3)
    broadcast = await broadcast_to(sessions, recipients, title="Meeting", progress_chat_id=committee.id)
    hook = ProgressMessage(bot, sessions, build_i18n("zh_Hans"), "en")
    sender = OutboxSender(bot, sessions, rate=1000, clock=clock, progress=hook)
    try:
        await sender.run_until_idle(timeout=10)
    finally:
        await sender.stop()
    [message] = emu.bot_messages(committee)
    assert message.content == "Finished “Meeting”: 3 of 3 sent, 0 not delivered, 0 skipped."
    async with sessions() as session:
        stored = await session.get(Broadcast, broadcast.id)
        assert stored is not None and stored.progress_message_id == message.message_id


async def test_an_unchanged_progress_text_is_not_an_error(
    emu: Emulator, bot: Bot, sessions: SessionFactory
) -> None:
    committee = emu.create_user("主任", language_code="en")
    committee.started = True
    placeholder = await bot.send_message(committee.id, "…")
    progress = BroadcastProgress(
        broadcast_id=1,
        kind="notice",
        title="Meeting",
        total=10,
        sent=4,
        failed=0,
        unreachable=0,
        skipped=0,
        pending=6,
        rate=29.6,
        finished=False,
        progress_chat_id=committee.id,
        progress_message_id=placeholder.message_id,
        progress_locale="en",
    )
    hook = ProgressMessage(bot, sessions, build_i18n("zh_Hans"), "en")
    await hook(progress)
    await hook(progress)  # Telegram answers "message is not modified": ignored
    assert emu.bot_messages(committee)[0].content == (
        "Sending “Meeting”: 4 of 10 sent, 0 not delivered, 6 to go (30 per second)."
    )

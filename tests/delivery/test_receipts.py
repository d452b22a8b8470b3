"""Batched writes of "I have read this": the Batcher's contract and the receipts it records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.delivery.receipts import Batcher, ReceiptRecorder
from bot.services.notices import ReceiptPress, record_receipt, record_receipts
from storage.db import SessionFactory
from storage.models import Account, Broadcast, Delivery, Notice, Village

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------ Batcher


async def test_concurrent_requests_share_a_batch_and_get_their_own_results_in_order() -> None:
    batches: list[list[int]] = []

    async def run(requests: list[int]) -> list[int]:
        batches.append(list(requests))
        await asyncio.sleep(0.01)
        return [r * 10 for r in requests]

    batcher: Batcher[int, int] = Batcher(run)
    results = await asyncio.gather(*(batcher(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert batches == [list(range(20))]  # one transaction, not twenty


async def test_a_lone_request_runs_at_once_and_later_ones_form_the_next_batch() -> None:
    batches: list[list[str]] = []
    release = asyncio.Event()

    async def run(requests: list[str]) -> list[str]:
        batches.append(list(requests))
        if len(batches) == 1:
            await release.wait()
        return [r.upper() for r in requests]

    batcher: Batcher[str, str] = Batcher(run)
    first = asyncio.create_task(batcher("a"))
    await asyncio.sleep(0.01)
    assert batches == [["a"]]  # nothing waited for company
    later = [asyncio.create_task(batcher(x)) for x in "bcd"]
    await asyncio.sleep(0.01)
    release.set()
    assert await first == "A"
    assert [await t for t in later] == ["B", "C", "D"]
    assert batches == [["a"], ["b", "c", "d"]]


async def test_batches_never_exceed_max_size() -> None:
    sizes: list[int] = []

    async def run(requests: list[int]) -> list[int]:
        sizes.append(len(requests))
        return requests

    batcher: Batcher[int, int] = Batcher(run, max_size=7)
    assert await asyncio.gather(*(batcher(i) for i in range(30))) == list(range(30))
    assert max(sizes) == 7 and sum(sizes) == 30


async def test_a_failed_batch_fails_its_requests_only() -> None:
    calls = 0

    async def run(requests: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        return requests

    batcher: Batcher[int, int] = Batcher(run)
    failed = await asyncio.gather(*(batcher(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(f, RuntimeError) for f in failed)
    assert await batcher(5) == 5  # the next batch is tried afresh


async def test_a_wrong_number_of_results_is_an_error_not_a_mix_up() -> None:
    async def run(requests: list[int]) -> list[int]:
        return requests[:-1]

    batcher: Batcher[int, int] = Batcher(run)
    with pytest.raises(RuntimeError, match="results for"):
        await asyncio.gather(batcher(1), batcher(2))


def test_max_size_must_be_positive() -> None:
    async def run(requests: list[int]) -> list[int]:
        return requests

    with pytest.raises(ValueError):
        Batcher(run, max_size=0)


# --------------------------------------------------------------------------- recorded receipts


async def _notice_to(sessions: SessionFactory, accounts: int) -> tuple[int, list[int], int]:
    """A notice sent to `accounts` accounts, and one account it was not sent to."""
    async with sessions() as session:
        village = Village(name="青山村", township="城关镇", province="ZJ")
        session.add(village)
        people = [Account(telegram_user_id=1000 + i, chat_id=1000 + i) for i in range(accounts + 1)]
        session.add_all(people)
        await session.flush()
        assert village.id is not None
        broadcast = Broadcast(village_id=village.id, kind="notice", title="停水通知", total=accounts)
        session.add(broadcast)
        await session.flush()
        assert broadcast.id is not None
        for account in people[:accounts]:
            assert account.id is not None and account.chat_id is not None
            session.add(
                Delivery(
                    broadcast_id=broadcast.id,
                    account_id=account.id,
                    chat_id=account.chat_id,
                    payload='{"method":"sendMessage","text":"x"}',
                    status="sent",
                )
            )
        notice = Notice(
            village_id=village.id,
            kind="notice",
            title="停水通知",
            body="明天停水。",
            audience="all",
            ask_receipt=True,
            draft_key="draft-1",
            broadcast_id=broadcast.id,
        )
        session.add(notice)
        await session.commit()
        assert notice.id is not None
        ids = [a.id for a in people if a.id is not None]
        return notice.id, ids[:accounts], ids[accounts]


async def _read_at(sessions: SessionFactory) -> dict[int, datetime | None]:
    async with sessions() as session:
        rows = (await session.exec(select(Delivery.account_id, Delivery.read_at))).all()
        return dict(rows)


async def test_a_batch_records_each_first_press_once_as_if_one_after_another(
    sessions: SessionFactory,
) -> None:
    notice_id, (a, b, c), stranger = await _notice_to(sessions, 3)
    async with sessions() as session:
        outcomes = await record_receipts(
            session,
            [
                ReceiptPress(a, notice_id, T0),
                ReceiptPress(b, notice_id, T0 + timedelta(seconds=1)),
                ReceiptPress(a, notice_id, T0 + timedelta(seconds=2)),  # a presses twice
                ReceiptPress(stranger, notice_id, T0),  # was not sent this notice
                ReceiptPress(c, notice_id + 99, T0),  # no such notice
            ],
        )
    assert [(o.read_at, o.first) for o in outcomes] == [
        (T0, True),
        (T0 + timedelta(seconds=1), True),
        (T0, False),
        (None, False),
        (None, False),
    ]
    assert await _read_at(sessions) == {a: T0, b: T0 + timedelta(seconds=1), c: None}

    # A later press changes nothing: read_at stays the first.
    async with sessions() as session:
        again = await record_receipt(session, account_id=b, notice_id=notice_id, now=T0 + timedelta(hours=1))
    assert (again.read_at, again.first) == (T0 + timedelta(seconds=1), False)
    assert (await _read_at(sessions))[b] == T0 + timedelta(seconds=1)


async def test_the_recorder_commits_concurrent_presses_and_each_caller_gets_its_own(
    sessions: SessionFactory,
) -> None:
    notice_id, accounts, _ = await _notice_to(sessions, 50)
    recorder = ReceiptRecorder(sessions, max_batch=20)
    outcomes = await asyncio.gather(
        *(
            recorder.record(account_id=a, notice_id=notice_id, now=T0 + timedelta(seconds=i))
            for i, a in enumerate(accounts)
        )
    )
    assert all(o.first for o in outcomes)
    assert [o.read_at for o in outcomes] == [T0 + timedelta(seconds=i) for i in range(50)]
    stored = await _read_at(sessions)
    assert [stored[a] for a in accounts] == [T0 + timedelta(seconds=i) for i in range(50)]

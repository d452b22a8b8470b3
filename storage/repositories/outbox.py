"""The outbox: broadcasts and their delivery rows. Queries only; the caller owns the transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, CursorResult, Executable, Table, bindparam, exists, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Binding, Broadcast, Delivery, DeliveryStatus, Person

# Bound parameters per IN list: far below SQLite's 32,766 and asyncpg's 32,767.
_CHUNK = 1_000
_T = TypeVar("_T")

DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]
ACTIVE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)
UNBOUND_ERROR = "the account is no longer bound to a person on the roll"


async def _run(
    session: AsyncSession, statement: Executable, params: Sequence[Mapping[str, Any]] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """A Core statement on the session's connection: same transaction, no ORM bookkeeping."""
    connection = await session.connection()
    if params is None:
        return await connection.execute(statement)
    return await connection.execute(statement, list(params))


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


# ------------------------------------------------------------------------------------- writing


async def add_broadcast(session: AsyncSession, broadcast: Broadcast) -> Broadcast:
    session.add(broadcast)
    await session.flush()
    return broadcast


async def insert_deliveries(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert (one multi-row INSERT per few hundred rows, not one statement per recipient).

    Each mapping holds Delivery column values; every mapping must have the same keys.
    """
    if rows:
        await _run(session, insert(DELIVERY), list(rows))


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, *, chat_id: int, message_id: int
) -> None:
    await _run(
        session,
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id),
    )


# -------------------------------------------------------------------------------------- sender


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A row the sender has claimed: what it needs to make the request and nothing more."""

    id: int
    broadcast_id: int
    account_id: int
    chat_id: int
    payload: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """The outcome of one claimed row, written back in a batch with others."""

    delivery_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None = None
    message_id: int | None = None
    error: str | None = None
    # Where it was sent, when Telegram moved the chat (a group upgraded to a supergroup); None: unchanged.
    chat_id: int | None = None


async def release_claims(session: AsyncSession, delivery_ids: Collection[int] | None = None) -> int:
    """Put claimed rows back to pending: all of them (start-up after a crash) or the given ones."""
    if delivery_ids is not None and not delivery_ids:
        return 0
    statement = update(DELIVERY).where(DELIVERY.c.status == DeliveryStatus.CLAIMED)
    released = 0
    if delivery_ids is None:
        result = await _run(session, statement.values(status=DeliveryStatus.PENDING, claimed_at=None))
        return int(result.rowcount)
    for chunk in _chunks(sorted(delivery_ids)):
        result = await _run(
            session,
            statement.where(DELIVERY.c.id.in_(chunk)).values(status=DeliveryStatus.PENDING, claimed_at=None),
        )
        released += int(result.rowcount)
    return released


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[ClaimedDelivery]:
    """Mark up to `limit` due pending rows as claimed and return them, oldest first.

    On PostgreSQL the inner SELECT locks with FOR UPDATE SKIP LOCKED, so two senders never claim
    the same row; SQLite has no FOR UPDATE (SQLAlchemy leaves it out) and needs none, since
    storage.db runs every transaction as BEGIN IMMEDIATE: one writer at a time.
    """
    due = (
        sa_select(DELIVERY.c.id)
        .where(DELIVERY.c.status == DeliveryStatus.PENDING, DELIVERY.c.next_attempt_at <= now)
        .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(DELIVERY)
        .where(DELIVERY.c.id.in_(due.scalar_subquery()))
        .values(status=DeliveryStatus.CLAIMED, claimed_at=now)
        .returning(
            DELIVERY.c.id,
            DELIVERY.c.broadcast_id,
            DELIVERY.c.account_id,
            DELIVERY.c.chat_id,
            DELIVERY.c.payload,
            DELIVERY.c.attempts,
        )
    )
    rows = (await _run(session, statement)).all()
    claimed = [
        ClaimedDelivery(int(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4]), int(r[5])) for r in rows
    ]
    # RETURNING gives no order; ids follow enqueue order, which keeps a chat's messages in sequence.
    claimed.sort(key=lambda row: row.id)
    return claimed


async def skip_unbound(session: AsyncSession, delivery_ids: Sequence[int], *, now: datetime) -> set[int]:
    """Among claimed rows, settle as skipped those whose account lost its binding; return their ids."""
    skipped: set[int] = set()
    for chunk in _chunks(delivery_ids):
        statement = (
            update(DELIVERY)
            .where(
                DELIVERY.c.id.in_(chunk),
                DELIVERY.c.requires_binding.is_(True),
                ~exists().where(col(Binding.account_id) == DELIVERY.c.account_id),
            )
            .values(status=DeliveryStatus.SKIPPED, claimed_at=None, error=UNBOUND_ERROR, next_attempt_at=now)
            .returning(DELIVERY.c.id)
        )
        skipped.update(int(row[0]) for row in (await _run(session, statement)).all())
    return skipped


async def settle(session: AsyncSession, settlements: Sequence[Settlement]) -> None:
    """Write many outcomes with one executemany UPDATE (not one statement, let alone one commit, each).

    Only rows still claimed are touched: a row released meanwhile belongs to someone else now.
    """
    if not settlements:
        return
    statement = (
        update(DELIVERY)
        .where(DELIVERY.c.id == bindparam("b_id"), DELIVERY.c.status == DeliveryStatus.CLAIMED)
        .values(
            status=bindparam("b_status"),
            attempts=bindparam("b_attempts"),
            next_attempt_at=bindparam("b_next_attempt_at"),
            sent_at=bindparam("b_sent_at"),
            message_id=bindparam("b_message_id"),
            error=bindparam("b_error"),
            chat_id=func.coalesce(bindparam("b_chat_id", type_=BigInteger), DELIVERY.c.chat_id),
            claimed_at=None,
        )
    )
    await _run(
        session,
        statement,
        [
            {
                "b_id": s.delivery_id,
                "b_status": str(s.status),
                "b_attempts": s.attempts,
                "b_next_attempt_at": s.next_attempt_at,
                "b_sent_at": s.sent_at,
                "b_message_id": s.message_id,
                "b_error": s.error,
                "b_chat_id": s.chat_id,
            }
            for s in settlements
        ],
    )


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending row becomes due (None: nothing is pending)."""
    # min() keeps the column's type, so the value comes back as an aware UTC datetime.
    statement = sa_select(func.min(DELIVERY.c.next_attempt_at)).where(
        DELIVERY.c.status == DeliveryStatus.PENDING
    )
    value = (await _run(session, statement)).scalar_one_or_none()
    return value if isinstance(value, datetime) else None


async def active_count(session: AsyncSession) -> int:
    """Rows with work left (pending, including those waiting for a retry, or claimed)."""
    statement = sa_select(func.count()).select_from(DELIVERY).where(DELIVERY.c.status.in_(ACTIVE_STATUSES))
    return int((await _run(session, statement)).scalar_one())


async def status_counts(session: AsyncSession, broadcast_ids: Collection[int]) -> dict[int, Counter[str]]:
    """Per broadcast: how many of its rows are in each status."""
    counts: dict[int, Counter[str]] = {broadcast_id: Counter() for broadcast_id in broadcast_ids}
    for chunk in _chunks(sorted(broadcast_ids)):
        statement = (
            sa_select(DELIVERY.c.broadcast_id, DELIVERY.c.status, func.count())
            .where(DELIVERY.c.broadcast_id.in_(chunk))
            .group_by(DELIVERY.c.broadcast_id, DELIVERY.c.status)
        )
        for broadcast_id, status, count in (await _run(session, statement)).all():
            counts[int(broadcast_id)][str(status)] = int(count)
    return counts


async def mark_finished(session: AsyncSession, broadcast_id: int, *, now: datetime) -> bool:
    """Stamp finished_at once; True only for the caller that stamped it (the final report is sent once)."""
    result = await _run(
        session,
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.finished_at).is_(None))
        .values(finished_at=now),
    )
    return int(result.rowcount) == 1


# --------------------------------------------------------------------------------------- reading


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def get_broadcasts(session: AsyncSession, broadcast_ids: Collection[int]) -> dict[int, Broadcast]:
    found: dict[int, Broadcast] = {}
    for chunk in _chunks(sorted(broadcast_ids)):
        statement = select(Broadcast).where(col(Broadcast.id).in_(chunk))
        found.update((b.id, b) for b in (await session.exec(statement)).all() if b.id is not None)
    return found


@dataclass(frozen=True)
class UndeliveredRow:
    delivery_id: int
    account_id: int
    chat_id: int
    status: str
    error: str | None
    attempts: int
    person_id: int | None
    person_name: str | None
    person_phone: str | None


async def undelivered(
    session: AsyncSession, broadcast_id: int, statuses: Collection[DeliveryStatus]
) -> list[UndeliveredRow]:
    """The rows of a broadcast in `statuses`, with the person each account is bound to now (if any)."""
    statement = (
        sa_select(
            DELIVERY.c.id,
            DELIVERY.c.account_id,
            DELIVERY.c.chat_id,
            DELIVERY.c.status,
            DELIVERY.c.error,
            DELIVERY.c.attempts,
            col(Person.id),
            col(Person.name),
            col(Person.phone),
        )
        .select_from(DELIVERY)
        .join(Binding, col(Binding.account_id) == DELIVERY.c.account_id, isouter=True)
        .join(Person, col(Person.id) == col(Binding.person_id), isouter=True)
        .where(DELIVERY.c.broadcast_id == broadcast_id, DELIVERY.c.status.in_([str(s) for s in statuses]))
        .order_by(DELIVERY.c.id)
    )
    rows = (await _run(session, statement)).all()
    return [
        UndeliveredRow(
            delivery_id=int(r[0]),
            account_id=int(r[1]),
            chat_id=int(r[2]),
            status=str(r[3]),
            error=r[4],
            attempts=int(r[5]),
            person_id=r[6],
            person_name=r[7],
            person_phone=r[8],
        )
        for r in rows
    ]

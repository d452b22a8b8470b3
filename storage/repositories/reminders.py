"""Reminder waves, mutes, village reminder settings and the audiences of waves. Queries only."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Account,
    Binding,
    Election,
    Notice,
    Participation,
    Person,
    ReminderMute,
    ReminderWave,
    ScheduledNotice,
    TrustVoter,
    VillageReminderSettings,
)

# --------------------------------------------------------------------------------------- waves


async def wave_by_key(session: AsyncSession, key: str) -> ReminderWave | None:
    return (await session.exec(select(ReminderWave).where(ReminderWave.key == key))).first()


async def get_wave(session: AsyncSession, wave_id: int) -> ReminderWave | None:
    return await session.get(ReminderWave, wave_id)


async def waves_of_subjects(session: AsyncSession, subjects: Collection[str]) -> list[ReminderWave]:
    if not subjects:
        return []
    statement = select(ReminderWave).where(col(ReminderWave.subject).in_(list(subjects)))
    return list((await session.exec(statement)).all())


async def planned(
    session: AsyncSession, *, village_ids: Collection[int] | None = None, limit: int | None = None
) -> list[ReminderWave]:
    """Planned waves in the order they go out (due time, then id)."""
    statement = select(ReminderWave).where(ReminderWave.status == "planned")
    if village_ids is not None:
        statement = statement.where(col(ReminderWave.village_id).in_(list(village_ids)))
    statement = statement.order_by(col(ReminderWave.due_at), col(ReminderWave.id))
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.exec(statement)).all())


async def planned_due(session: AsyncSession, now: datetime) -> list[ReminderWave]:
    statement = (
        select(ReminderWave)
        .where(ReminderWave.status == "planned", col(ReminderWave.due_at) <= now)
        .order_by(col(ReminderWave.due_at), col(ReminderWave.id))
    )
    return list((await session.exec(statement)).all())


async def settle_wave(session: AsyncSession, wave_id: int, values: dict[str, Any]) -> int:
    """Change a wave that is still planned; 0 when another process (or an earlier call) settled it."""
    statement = (
        update(ReminderWave)
        .where(col(ReminderWave.id) == wave_id, col(ReminderWave.status) == "planned")
        .values(**values)
    )
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------ subjects


async def elections(session: AsyncSession, election_ids: Collection[int] | None = None) -> list[Election]:
    statement = select(Election)
    if election_ids is not None:
        statement = statement.where(col(Election.id).in_(list(election_ids)))
    return list((await session.exec(statement.order_by(col(Election.id)))).all())


async def publicity_with_deadline(
    session: AsyncSession, *, after: datetime, notice_ids: Collection[int] | None = None
) -> list[Notice]:
    """Publicity lists whose objection deadline is still ahead (or the given ones, whatever their date)."""
    statement = select(Notice).where(col(Notice.objection_deadline).is_not(None))
    if notice_ids is not None:
        statement = statement.where(col(Notice.id).in_(list(notice_ids)))
    else:
        statement = statement.where(col(Notice.objection_deadline) > after)
    return list((await session.exec(statement.order_by(col(Notice.id)))).all())


async def scheduled_notice(session: AsyncSession, notice_id: int) -> ScheduledNotice | None:
    return await session.get(ScheduledNotice, notice_id)


async def settings_of(
    session: AsyncSession, village_ids: Collection[int]
) -> dict[int, VillageReminderSettings]:
    if not village_ids:
        return {}
    statement = select(VillageReminderSettings).where(
        col(VillageReminderSettings.village_id).in_(list(village_ids))
    )
    return {s.village_id: s for s in (await session.exec(statement)).all()}


# ------------------------------------------------------------------------------------ audiences


def _on_roll(village_id: int) -> list[Any]:
    return [
        col(Person.village_id) == village_id,
        col(Person.removed_at).is_(None),
        col(Person.eligible_voter).is_(True),
    ]


async def voters(session: AsyncSession, village_id: int) -> list[int]:
    statement = select(Person.id).where(*_on_roll(village_id))
    return [int(i) for i in (await session.exec(statement)).all() if i is not None]


async def voters_without_participation(session: AsyncSession, village_id: int, election_id: int) -> list[int]:
    """Voters who have not taken part in any recommendation round of the election by chat."""
    took_part = exists().where(
        col(Participation.election_id) == election_id, col(Participation.person_id) == col(Person.id)
    )
    statement = select(Person.id).where(*_on_roll(village_id), ~took_part)
    return [int(i) for i in (await session.exec(statement)).all() if i is not None]


async def voters_without_trust_ballot(session: AsyncSession, village_id: int, election_id: int) -> list[int]:
    voted = exists().where(
        col(TrustVoter.election_id) == election_id, col(TrustVoter.person_id) == col(Person.id)
    )
    statement = select(Person.id).where(*_on_roll(village_id), ~voted)
    return [int(i) for i in (await session.exec(statement)).all() if i is not None]


async def muted(session: AsyncSession, village_id: int) -> set[int]:
    statement = (
        sa_select(col(ReminderMute.person_id))
        .join(Person, col(Person.id) == col(ReminderMute.person_id))
        .where(col(Person.village_id) == village_id)
    )
    return {int(i) for i in (await session.execute(statement)).scalars().all()}


async def mute_of(session: AsyncSession, person_id: int) -> ReminderMute | None:
    return await session.get(ReminderMute, person_id)


@dataclass(frozen=True)
class BoundVillager:
    person_id: int
    name: str
    account_id: int
    chat_id: int
    locale: str | None
    telegram_language_code: str | None


async def bound_villagers(session: AsyncSession, village_id: int) -> list[BoundVillager]:
    """Everyone of the village (not removed) whose Telegram account the bot can write to, in roll order."""
    statement = (
        sa_select(
            col(Person.id),
            col(Person.name),
            col(Account.id),
            col(Account.chat_id),
            col(Account.locale),
            col(Account.telegram_language_code),
        )
        .select_from(Person)
        .join(Binding, col(Binding.person_id) == col(Person.id))
        .join(Account, col(Account.id) == col(Binding.account_id))
        .where(
            and_(
                col(Person.village_id) == village_id,
                col(Person.removed_at).is_(None),
                col(Account.chat_id).is_not(None),
            )
        )
        .order_by(col(Person.id))
    )
    rows: Sequence[Any] = (await session.execute(statement)).all()  # several columns: plain rows
    return [BoundVillager(*row) for row in rows]

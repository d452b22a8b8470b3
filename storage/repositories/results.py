"""Tally entries of the formal vote, their positions and votes; the counts they are checked against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Election, Person, ResultEntry, ResultEntryStatus, ResultPosition, ResultVote


async def get(session: AsyncSession, entry_id: int) -> ResultEntry | None:
    return await session.get(ResultEntry, entry_id)


async def lock_entry(session: AsyncSession, entry_id: int) -> ResultEntry | None:
    """The entry, locked until the transaction ends (PostgreSQL; SQLite's one writer already is)."""
    statement = select(ResultEntry).where(ResultEntry.id == entry_id).with_for_update()
    return (await session.exec(statement)).first()


async def last_version(session: AsyncSession, election_id: int, round_: str) -> int:
    statement = select(func.max(ResultEntry.version)).where(
        ResultEntry.election_id == election_id, ResultEntry.round == round_
    )
    return int((await session.exec(statement)).one() or 0)


async def supersede(
    session: AsyncSession,
    election_id: int,
    round_: str,
    statuses: Sequence[str],
    *,
    keep: int | None,
    now: datetime,
) -> list[int]:
    """Mark the round's entries in `statuses` (but `keep`) superseded; their ids."""
    conditions = [
        col(ResultEntry.election_id) == election_id,
        col(ResultEntry.round) == round_,
        col(ResultEntry.status).in_(list(statuses)),
    ]
    if keep is not None:
        conditions.append(col(ResultEntry.id) != keep)
    ids = list((await session.exec(select(ResultEntry.id).where(*conditions))).all())
    if ids:
        await session.exec(
            update(ResultEntry)
            .where(col(ResultEntry.id).in_(ids))
            .values(status="superseded", superseded_at=now)
        )
    return [i for i in ids if i is not None]


async def positions(session: AsyncSession, entry_id: int) -> list[tuple[ResultPosition, list[ResultVote]]]:
    rows = (
        await session.exec(
            select(ResultPosition).where(ResultPosition.entry_id == entry_id).order_by(col(ResultPosition.id))
        )
    ).all()
    ids = [r.id for r in rows]
    votes: dict[int | None, list[ResultVote]] = {i: [] for i in ids}
    if ids:
        statement = (
            select(ResultVote).where(col(ResultVote.result_position_id).in_(ids)).order_by(col(ResultVote.id))
        )
        for vote in (await session.exec(statement)).all():
            votes[vote.result_position_id].append(vote)
    return [(r, votes[r.id]) for r in rows]


async def women_among(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    if not person_ids:
        return set()
    statement = select(Person.id).where(col(Person.id).in_(list(person_ids)), Person.gender == "F")
    return {i for i in (await session.exec(statement)).all() if i is not None}


async def entries_of(session: AsyncSession, election_id: int) -> list[ResultEntry]:
    statement = (
        select(ResultEntry)
        .where(ResultEntry.election_id == election_id)
        .order_by(col(ResultEntry.round), col(ResultEntry.version))
    )
    return list((await session.exec(statement)).all())


async def latest_published(session: AsyncSession, village_id: int) -> tuple[ResultEntry, Election] | None:
    """The village's most recently published entry that is still in force."""
    statement = (
        select(ResultEntry, Election)
        .join(Election, col(Election.id) == col(ResultEntry.election_id))
        .where(Election.village_id == village_id, ResultEntry.status == "published")
        .order_by(col(ResultEntry.published_at).desc(), col(ResultEntry.id).desc())
        .limit(1)
    )
    found = (await session.exec(statement)).first()
    return (found[0], found[1]) if found else None


async def published_with_objection_window(
    session: AsyncSession, *, since: date
) -> list[tuple[ResultEntry, Election]]:
    """Published (or since superseded) entries whose objection window ends on ``since`` or later."""
    statement = (
        select(ResultEntry, Election)
        .join(Election, col(Election.id) == col(ResultEntry.election_id))
        .where(
            col(ResultEntry.status).in_(
                [ResultEntryStatus.PUBLISHED.value, ResultEntryStatus.SUPERSEDED.value]
            ),
            col(ResultEntry.objections_until).is_not(None),
            col(ResultEntry.objections_until) >= since,
        )
        .order_by(col(ResultEntry.id))
    )
    return [(e, el) for e, el in (await session.exec(statement)).all()]


async def open_entries(
    session: AsyncSession, village_ids: Sequence[int]
) -> list[tuple[ResultEntry, Election]]:
    """Entries not published yet (draft or confirmed) of these villages, newest first."""
    if not village_ids:
        return []
    statement = (
        select(ResultEntry, Election)
        .join(Election, col(Election.id) == col(ResultEntry.election_id))
        .where(
            col(Election.village_id).in_(list(village_ids)),
            or_(col(ResultEntry.status) == "draft", col(ResultEntry.status) == "confirmed"),
        )
        .order_by(col(ResultEntry.id).desc())
    )
    return [(e, el) for e, el in (await session.exec(statement)).all()]


async def registered_count(session: AsyncSession, village_id: int, *, party_members_only: bool) -> int:
    """Registered voters (or, for a party election, full party members) on the village's roll."""
    conditions = [
        col(Person.village_id) == village_id,
        col(Person.removed_at).is_(None),
        col(Person.eligible_voter).is_(True),
    ]
    if party_members_only:
        conditions.append(
            and_(
                col(Person.party_member).is_(True),
                or_(col(Person.party_status).is_(None), col(Person.party_status) != "probationary"),
            )
        )
    statement = select(func.count()).select_from(Person).where(*conditions)
    return int((await session.exec(statement)).one())

"""Elections, their positions, chat recommendations, paper counts and participation. Queries only:
the services decide and commit."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Account,
    Binding,
    Election,
    ElectionCandidate,
    ElectionPosition,
    PaperTally,
    Participation,
    Person,
    Recommendation,
    TrustPaperCount,
    TrustVoter,
    VillagerGroup,
)

# --------------------------------------------------------------------------------- elections


async def get(session: AsyncSession, election_id: int) -> Election | None:
    return await session.get(Election, election_id)


async def of_villages(
    session: AsyncSession, village_ids: Collection[int], statuses: Collection[str] | None = None
) -> list[Election]:
    """Elections of these villages, newest first."""
    statement = select(Election).where(col(Election.village_id).in_(list(village_ids)))
    if statuses is not None:
        statement = statement.where(col(Election.status).in_(list(statuses)))
    statement = statement.order_by(col(Election.created_at).desc(), col(Election.id).desc())
    return list((await session.exec(statement)).all())


async def positions(session: AsyncSession, election_id: int) -> list[ElectionPosition]:
    statement = (
        select(ElectionPosition)
        .where(ElectionPosition.election_id == election_id)
        .order_by(col(ElectionPosition.id))
    )
    return list((await session.exec(statement)).all())


async def update_if_version(
    session: AsyncSession, election_id: int, expected_version: int, values: Mapping[str, Any]
) -> int:
    """Apply ``values`` and bump the version only if nobody changed the election since
    ``expected_version`` was read; returns the number of rows changed (0: someone was faster)."""
    result = await session.exec(
        update(Election)
        .where(col(Election.id) == election_id, col(Election.version) == expected_version)
        .values(**values, version=expected_version + 1)
    )
    return int(result.rowcount)


# ------------------------------------------------------------------------------------ people


async def lock_person(session: AsyncSession, person_id: int) -> Person | None:
    """The person, with their row locked until commit on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers): two taps at once cannot both pass the quota check."""
    statement = select(Person).where(Person.id == person_id).with_for_update()
    return (await session.exec(statement)).first()


@dataclass(frozen=True)
class PersonLine:
    person: Person
    group: str | None


async def people_by_ids(session: AsyncSession, person_ids: Collection[int]) -> dict[int, PersonLine]:
    if not person_ids:
        return {}
    statement = (
        select(Person, VillagerGroup.name)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .where(col(Person.id).in_(list(person_ids)))
    )
    out: dict[int, PersonLine] = {}
    for person, group in (await session.exec(statement)).all():
        assert person.id is not None
        out[person.id] = PersonLine(person, group)
    return out


def _full_party_member() -> ColumnElement[bool]:
    # A party member without a stated status is a full member: the roll marks only the exceptions.
    return and_(
        col(Person.party_member).is_(True),
        or_(col(Person.party_status).is_(None), col(Person.party_status) != "probationary"),
    )


async def search_candidates(
    session: AsyncSession,
    village_id: int,
    text: str,
    *,
    exclude_person_id: int | None,
    party_members_only: bool,
    limit: int,
) -> list[PersonLine]:
    """Active registered voters of the village whose name contains ``text``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    conditions: list[ColumnElement[bool]] = [
        col(Person.village_id) == village_id,
        col(Person.removed_at).is_(None),
        col(Person.eligible_voter).is_(True),
        col(Person.name).like(f"%{escaped}%", escape="\\"),
    ]
    if exclude_person_id is not None:
        conditions.append(col(Person.id) != exclude_person_id)
    if party_members_only:
        conditions.append(_full_party_member())
    statement = (
        select(Person, VillagerGroup.name)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .where(*conditions)
        .order_by(col(Person.name), col(Person.id))
        .limit(limit)
    )
    return [PersonLine(person, group) for person, group in (await session.exec(statement)).all()]


async def people_named(session: AsyncSession, village_id: int, names: Collection[str]) -> list[PersonLine]:
    """Everyone of the village with one of these names, removed people included (to say so)."""
    if not names:
        return []
    statement = (
        select(Person, VillagerGroup.name)
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .where(col(Person.village_id) == village_id, col(Person.name).in_(list(names)))
        .order_by(col(Person.id))
    )
    return [PersonLine(person, group) for person, group in (await session.exec(statement)).all()]


async def groups(session: AsyncSession, village_id: int) -> list[VillagerGroup]:
    statement = select(VillagerGroup).where(VillagerGroup.village_id == village_id)
    return list((await session.exec(statement.order_by(col(VillagerGroup.name)))).all())


async def registered_by_group(
    session: AsyncSession, village_id: int, *, party_members_only: bool
) -> dict[int, int]:
    """Registered voters (or full party members) per villagers' group."""
    conditions: list[ColumnElement[bool]] = [
        col(Person.village_id) == village_id,
        col(Person.removed_at).is_(None),
        col(Person.eligible_voter).is_(True),
        col(Person.group_id).is_not(None),
    ]
    if party_members_only:
        conditions.append(_full_party_member())
    statement = (
        sa_select(col(Person.group_id), func.count()).where(*conditions).group_by(col(Person.group_id))
    )
    return {int(group): int(n) for group, n in (await session.execute(statement)).all()}


async def registered_voters(session: AsyncSession, village_id: int) -> int:
    statement = select(func.count()).where(
        col(Person.village_id) == village_id,
        col(Person.removed_at).is_(None),
        col(Person.eligible_voter).is_(True),
    )
    return int((await session.exec(statement)).one())


async def roster(session: AsyncSession, village_id: int, group_id: int) -> list[Person]:
    """The group's registered voters in roll order."""
    statement = (
        select(Person)
        .where(
            col(Person.village_id) == village_id,
            col(Person.group_id) == group_id,
            col(Person.removed_at).is_(None),
            col(Person.eligible_voter).is_(True),
        )
        .order_by(col(Person.id))
    )
    return list((await session.exec(statement)).all())


@dataclass(frozen=True)
class Reachable:
    person_id: int
    account_id: int


async def bound_accounts(session: AsyncSession, person_ids: Collection[int]) -> list[Reachable]:
    if not person_ids:
        return []
    statement = (
        sa_select(col(Binding.person_id), col(Binding.account_id))
        .join(Account, col(Account.id) == col(Binding.account_id))
        .where(col(Binding.person_id).in_(list(person_ids)), col(Account.chat_id).is_not(None))
    )
    return [Reachable(int(p), int(a)) for p, a in (await session.execute(statement)).all()]


# --------------------------------------------------------------------------- recommendations


async def recommended_ids(
    session: AsyncSession, election_id: int, recommender_id: int, round_: str, position: str
) -> set[int]:
    statement = select(Recommendation.candidate_person_id).where(
        Recommendation.election_id == election_id,
        Recommendation.recommender_person_id == recommender_id,
        Recommendation.round == round_,
        Recommendation.position == position,
    )
    return set((await session.exec(statement)).all())


async def recommendations_of(
    session: AsyncSession, election_id: int, recommender_id: int
) -> list[tuple[Recommendation, PersonLine]]:
    """One recommender's own recommendations with the people recommended, oldest first."""
    statement = (
        select(Recommendation, Person, VillagerGroup.name)
        .join(Person, col(Person.id) == col(Recommendation.candidate_person_id))
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .where(
            Recommendation.election_id == election_id,
            Recommendation.recommender_person_id == recommender_id,
        )
        .order_by(col(Recommendation.id))
    )
    rows = (await session.exec(statement)).all()
    return [(rec, PersonLine(person, group)) for rec, person, group in rows]


async def get_recommendation(session: AsyncSession, recommendation_id: int) -> Recommendation | None:
    return await session.get(Recommendation, recommendation_id)


async def count_in_round(session: AsyncSession, election_id: int, recommender_id: int, round_: str) -> int:
    statement = select(func.count()).where(
        Recommendation.election_id == election_id,
        Recommendation.recommender_person_id == recommender_id,
        Recommendation.round == round_,
    )
    return int((await session.exec(statement)).one())


async def has_participated(session: AsyncSession, election_id: int, round_: str, person_id: int) -> bool:
    statement = select(Participation.id).where(
        Participation.election_id == election_id,
        Participation.round == round_,
        Participation.person_id == person_id,
    )
    return (await session.exec(statement)).first() is not None


async def remove_participation(session: AsyncSession, election_id: int, round_: str, person_id: int) -> None:
    await session.exec(
        delete(Participation).where(
            col(Participation.election_id) == election_id,
            col(Participation.round) == round_,
            col(Participation.person_id) == person_id,
        )
    )


async def participants_of_group(
    session: AsyncSession, election_id: int, group_id: int
) -> dict[int, set[str]]:
    """person id -> the rounds they took part in by chat, for one villagers' group."""
    statement = (
        sa_select(col(Participation.person_id), col(Participation.round))
        .join(Person, col(Person.id) == col(Participation.person_id))
        .where(col(Participation.election_id) == election_id, col(Person.group_id) == group_id)
    )
    out: dict[int, set[str]] = {}
    for person_id, round_ in (await session.execute(statement)).all():
        out.setdefault(int(person_id), set()).add(str(round_))
    return out


async def chat_participants(session: AsyncSession, election_id: int) -> dict[tuple[str, int | None], int]:
    """(round, group id) -> how many took part by chat."""
    statement = (
        sa_select(col(Participation.round), col(Person.group_id), func.count())
        .join(Person, col(Person.id) == col(Participation.person_id))
        .where(col(Participation.election_id) == election_id)
        .group_by(col(Participation.round), col(Person.group_id))
    )
    return {
        (str(round_), None if group is None else int(group)): int(n)
        for round_, group, n in (await session.execute(statement)).all()
    }


@dataclass(frozen=True)
class CountLine:
    position: str
    round: str
    candidate_id: int
    count: int


async def chat_counts(session: AsyncSession, election_id: int) -> list[CountLine]:
    """Chat recommendations per position, round and candidate, counted by the database."""
    statement = (
        sa_select(
            col(Recommendation.position),
            col(Recommendation.round),
            col(Recommendation.candidate_person_id),
            func.count(),
        )
        .where(col(Recommendation.election_id) == election_id)
        .group_by(
            col(Recommendation.position), col(Recommendation.round), col(Recommendation.candidate_person_id)
        )
    )
    return [
        CountLine(str(p), str(r), int(c), int(n)) for p, r, c, n in (await session.execute(statement)).all()
    ]


async def paper_counts(session: AsyncSession, election_id: int) -> list[CountLine]:
    statement = (
        sa_select(
            col(PaperTally.position),
            col(PaperTally.round),
            col(PaperTally.candidate_person_id),
            func.sum(col(PaperTally.count)),
        )
        .where(col(PaperTally.election_id) == election_id)
        .group_by(col(PaperTally.position), col(PaperTally.round), col(PaperTally.candidate_person_id))
    )
    return [
        CountLine(str(p), str(r), int(c), int(n)) for p, r, c, n in (await session.execute(statement)).all()
    ]


@dataclass(frozen=True)
class Meeting:
    round: str
    group_id: int
    meeting_date: date
    participants: int


async def paper_meetings(session: AsyncSession, election_id: int) -> list[Meeting]:
    """Each paper meeting once, with its number of participants."""
    statement = (
        sa_select(
            col(PaperTally.round),
            col(PaperTally.group_id),
            col(PaperTally.meeting_date),
            func.max(col(PaperTally.participants)),
        )
        .where(col(PaperTally.election_id) == election_id)
        .group_by(col(PaperTally.round), col(PaperTally.group_id), col(PaperTally.meeting_date))
    )
    return [Meeting(str(r), int(g), d, int(n)) for r, g, d, n in (await session.execute(statement)).all()]


async def group_met_on_paper(session: AsyncSession, election_id: int, round_: str, group_id: int) -> bool:
    statement = select(PaperTally.id).where(
        PaperTally.election_id == election_id, PaperTally.round == round_, PaperTally.group_id == group_id
    )
    return (await session.exec(statement.limit(1))).first() is not None


async def delete_meetings(
    session: AsyncSession, election_id: int, meetings: Sequence[tuple[str, int, date]]
) -> None:
    """Forget the counts of these meetings (round, group, date): a re-import replaces them."""
    if not meetings:
        return
    await session.exec(
        delete(PaperTally).where(
            col(PaperTally.election_id) == election_id,
            tuple_(col(PaperTally.round), col(PaperTally.group_id), col(PaperTally.meeting_date)).in_(
                list(meetings)
            ),
        )
    )


# -------------------------------------------------------------------------------- candidates


async def forget_candidates(session: AsyncSession, election_id: int, stage: str) -> None:
    """Before a corrected list of this stage replaces the published one."""
    await session.exec(
        delete(ElectionCandidate).where(
            col(ElectionCandidate.election_id) == election_id, col(ElectionCandidate.stage) == stage
        )
    )


async def candidates(
    session: AsyncSession, election_id: int, stage: str | None = None
) -> list[tuple[ElectionCandidate, PersonLine]]:
    """The published candidates (of one stage, or all), in the order of the list."""
    statement = (
        select(ElectionCandidate, Person, VillagerGroup.name)
        .join(Person, col(Person.id) == col(ElectionCandidate.person_id))
        .join(VillagerGroup, col(VillagerGroup.id) == col(Person.group_id), isouter=True)
        .where(ElectionCandidate.election_id == election_id)
        .order_by(col(ElectionCandidate.id))
    )
    if stage is not None:
        statement = statement.where(ElectionCandidate.stage == stage)
    return [(c, PersonLine(p, g)) for c, p, g in (await session.exec(statement)).all()]


# ------------------------------------------------------------------------ paper trust votes


@dataclass(frozen=True)
class TrustMeeting:
    group_id: int
    meeting_date: date
    ballots: int


async def trust_paper_totals(session: AsyncSession, election_id: int) -> dict[int, tuple[int, int, int]]:
    """candidate -> (trust, no trust, abstain) summed over the paper meetings."""
    statement = (
        sa_select(
            col(TrustPaperCount.candidate_person_id),
            func.sum(col(TrustPaperCount.trust)),
            func.sum(col(TrustPaperCount.no_trust)),
            func.sum(col(TrustPaperCount.abstain)),
        )
        .where(col(TrustPaperCount.election_id) == election_id)
        .group_by(col(TrustPaperCount.candidate_person_id))
    )
    return {int(c): (int(t), int(n), int(a)) for c, t, n, a in (await session.execute(statement)).all()}


async def trust_paper_meetings(session: AsyncSession, election_id: int) -> list[TrustMeeting]:
    """Each paper trust-vote meeting once, with its number of ballots."""
    statement = (
        sa_select(
            col(TrustPaperCount.group_id),
            col(TrustPaperCount.meeting_date),
            func.max(col(TrustPaperCount.ballots)),
        )
        .where(col(TrustPaperCount.election_id) == election_id)
        .group_by(col(TrustPaperCount.group_id), col(TrustPaperCount.meeting_date))
    )
    return [TrustMeeting(int(g), d, int(n)) for g, d, n in (await session.execute(statement)).all()]


async def delete_trust_meetings(
    session: AsyncSession, election_id: int, meetings: Sequence[tuple[int, date]]
) -> None:
    """Forget the paper trust votes of these meetings (group, date): a re-import replaces them."""
    if not meetings:
        return
    await session.exec(
        delete(TrustPaperCount).where(
            col(TrustPaperCount.election_id) == election_id,
            tuple_(col(TrustPaperCount.group_id), col(TrustPaperCount.meeting_date)).in_(list(meetings)),
        )
    )


async def trust_voters_by_group(session: AsyncSession, election_id: int) -> dict[int | None, int]:
    """group id -> how many cast their trust ballot by chat (who, never how)."""
    statement = (
        sa_select(col(Person.group_id), func.count())
        .join(TrustVoter, col(TrustVoter.person_id) == col(Person.id))
        .where(col(TrustVoter.election_id) == election_id)
        .group_by(col(Person.group_id))
    )
    return {None if g is None else int(g): int(n) for g, n in (await session.execute(statement)).all()}


async def trust_voters_of_group(session: AsyncSession, election_id: int, group_id: int) -> set[int]:
    """The people of one villagers' group who cast their trust ballot by chat."""
    statement = (
        sa_select(col(TrustVoter.person_id))
        .join(Person, col(Person.id) == col(TrustVoter.person_id))
        .where(col(TrustVoter.election_id) == election_id, col(Person.group_id) == group_id)
    )
    return {int(p) for p in (await session.execute(statement)).scalars().all()}

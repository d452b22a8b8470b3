"""Participation intents and proxy-vote authorizations. Queries only: the services decide and commit."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ACTIVE_PROXY_STATUSES,
    ParticipationIntent,
    Person,
    ProxyAuthorization,
    ProxyStatus,
)


async def of_election(session: AsyncSession, election_id: int) -> list[ProxyAuthorization]:
    """Every authorization of the election, oldest first (inactive ones too: the rules skip them)."""
    statement = (
        select(ProxyAuthorization)
        .where(ProxyAuthorization.election_id == election_id)
        .order_by(col(ProxyAuthorization.id))
    )
    return list((await session.exec(statement)).all())


async def with_status(session: AsyncSession, election_id: int, *statuses: str) -> list[ProxyAuthorization]:
    statement = (
        select(ProxyAuthorization)
        .where(
            ProxyAuthorization.election_id == election_id,
            col(ProxyAuthorization.status).in_(list(statuses)),
        )
        .order_by(col(ProxyAuthorization.id))
    )
    return list((await session.exec(statement)).all())


async def lock(session: AsyncSession, authorization_id: int) -> ProxyAuthorization | None:
    """The authorization, its row locked until commit on PostgreSQL (SQLite: BEGIN IMMEDIATE), so a
    holder's answer and the principal's revocation cannot both win."""
    statement = (
        select(ProxyAuthorization)
        .where(ProxyAuthorization.id == authorization_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # what this session read earlier may be stale
    )
    return (await session.exec(statement)).first()


async def involving(session: AsyncSession, election_id: int, person_id: int) -> list[ProxyAuthorization]:
    """The authorizations where the person is the principal or the holder, newest first."""
    statement = (
        select(ProxyAuthorization)
        .where(
            ProxyAuthorization.election_id == election_id,
            (col(ProxyAuthorization.principal_person_id) == person_id)
            | (col(ProxyAuthorization.holder_person_id) == person_id),
        )
        .order_by(col(ProxyAuthorization.id).desc())
    )
    return list((await session.exec(statement)).all())


async def active_of_principal(
    session: AsyncSession, election_id: int, person_id: int
) -> ProxyAuthorization | None:
    statement = select(ProxyAuthorization).where(
        ProxyAuthorization.election_id == election_id,
        ProxyAuthorization.principal_person_id == person_id,
        col(ProxyAuthorization.status).in_([s.value for s in ACTIVE_PROXY_STATUSES]),
    )
    return (await session.exec(statement)).first()


async def code_taken(session: AsyncSession, code: str) -> bool:
    statement = select(ProxyAuthorization.id).where(ProxyAuthorization.verification_code == code)
    return (await session.exec(statement)).first() is not None


async def approved(session: AsyncSession, election_id: int) -> list[ProxyAuthorization]:
    return await with_status(session, election_id, ProxyStatus.APPROVED.value)


# ------------------------------------------------------------------------------- intents


async def migrants(session: AsyncSession, village_id: int) -> list[Person]:
    """The village's migrant workers who may vote, in roll order."""
    statement = (
        select(Person)
        .where(
            Person.village_id == village_id,
            col(Person.migrant).is_(True),
            col(Person.eligible_voter).is_(True),
            col(Person.removed_at).is_(None),
        )
        .order_by(col(Person.id))
    )
    return list((await session.exec(statement)).all())


async def intents(session: AsyncSession, election_id: int) -> dict[int, ParticipationIntent]:
    statement = select(ParticipationIntent).where(ParticipationIntent.election_id == election_id)
    return {row.person_id: row for row in (await session.exec(statement)).all()}


async def intent_of(session: AsyncSession, election_id: int, person_id: int) -> ParticipationIntent | None:
    statement = select(ParticipationIntent).where(
        ParticipationIntent.election_id == election_id, ParticipationIntent.person_id == person_id
    )
    return (await session.exec(statement)).first()

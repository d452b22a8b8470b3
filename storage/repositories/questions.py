"""Villagers' questions to candidates and the candidates' answers. Queries only: services commit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CandidateAnswer, CandidateQuestion, Person, QuestionStatus


async def get(session: AsyncSession, question_id: int) -> CandidateQuestion | None:
    return await session.get(CandidateQuestion, question_id)


async def by_draft_key(session: AsyncSession, draft_key: str) -> CandidateQuestion | None:
    return (
        await session.exec(select(CandidateQuestion).where(CandidateQuestion.draft_key == draft_key))
    ).first()


async def count_open(session: AsyncSession, election_id: int, person_id: int) -> int:
    """The asker's questions in this election still waiting for the committee or the candidates."""
    statement = select(func.count()).where(
        CandidateQuestion.election_id == election_id,
        CandidateQuestion.asker_person_id == person_id,
        col(CandidateQuestion.status).in_([QuestionStatus.PENDING.value, QuestionStatus.FORWARDED.value]),
    )
    return int((await session.exec(statement)).one())


async def of_asker(session: AsyncSession, person_id: int, limit: int) -> list[CandidateQuestion]:
    """A person's own questions, newest first."""
    statement = (
        select(CandidateQuestion)
        .where(CandidateQuestion.asker_person_id == person_id)
        .order_by(col(CandidateQuestion.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def of_villages(
    session: AsyncSession, village_ids: Collection[int], statuses: Collection[str], limit: int
) -> list[CandidateQuestion]:
    """Questions of these villages in these states, oldest first (the committee works in order)."""
    statement = (
        select(CandidateQuestion)
        .where(
            col(CandidateQuestion.village_id).in_(list(village_ids)),
            col(CandidateQuestion.status).in_(list(statuses)),
        )
        .order_by(col(CandidateQuestion.id))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def published_of_village(session: AsyncSession, village_id: int, limit: int) -> list[CandidateQuestion]:
    """The village's published questions, the most recently published first."""
    statement = (
        select(CandidateQuestion)
        .where(
            CandidateQuestion.village_id == village_id,
            CandidateQuestion.status == QuestionStatus.PUBLISHED.value,
        )
        .order_by(col(CandidateQuestion.published_at).desc(), col(CandidateQuestion.id).desc())
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def status_counts(session: AsyncSession, village_id: int) -> dict[str, int]:
    statement = (
        sa_select(col(CandidateQuestion.status), func.count())
        .where(col(CandidateQuestion.village_id) == village_id)
        .group_by(col(CandidateQuestion.status))
    )
    return {str(status): int(n) for status, n in (await session.execute(statement)).all()}


async def update_if_status(
    session: AsyncSession, question_id: int, expected: Collection[str], values: Mapping[str, Any]
) -> int:
    """Change the question only if it is still in one of the `expected` states; the rows changed
    (0: someone else moderated, answered or published it first)."""
    result = await session.exec(
        update(CandidateQuestion)
        .where(col(CandidateQuestion.id) == question_id, col(CandidateQuestion.status).in_(list(expected)))
        .values(**values)
    )
    return int(result.rowcount)


async def answers_with_names(
    session: AsyncSession, question_ids: Collection[int]
) -> list[tuple[CandidateAnswer, str]]:
    """The answers to these questions with the candidates' names, in the order they came."""
    if not question_ids:
        return []
    statement = (
        select(CandidateAnswer, Person.name)
        .join(Person, col(Person.id) == col(CandidateAnswer.candidate_person_id))
        .where(col(CandidateAnswer.question_id).in_(list(question_ids)))
        .order_by(col(CandidateAnswer.id))
    )
    return [(answer, str(name)) for answer, name in (await session.exec(statement)).all()]


async def answer_of(session: AsyncSession, question_id: int, person_id: int) -> CandidateAnswer | None:
    statement = select(CandidateAnswer).where(
        CandidateAnswer.question_id == question_id, CandidateAnswer.candidate_person_id == person_id
    )
    return (await session.exec(statement)).first()


async def names(session: AsyncSession, person_ids: Collection[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    statement = sa_select(col(Person.id), col(Person.name)).where(col(Person.id).in_(list(person_ids)))
    return {int(i): str(n) for i, n in (await session.execute(statement)).all()}

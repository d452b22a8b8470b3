"""Questions to the candidates (/ask): a villager asks, the election committee moderates and forwards,
the candidates answer, the committee publishes question and answers to the whole village.

The law has the committee organise the candidates' meeting with the voters (OL 15 ¶1, BJ 19, ZJ 23,
HN 28); this carries the questions of those who cannot be there, migrant workers above all. The
asker is known to the committee only: what a candidate receives never names them, and neither does
what the village receives. Every message goes through the outbox, rendered by the caller in each
recipient's language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.locale_choice import resolve_locale
from bot.rules.policy import Position
from bot.rules.questions import (
    DEFAULT_LIMITS,
    QuestionLimits,
    QuestionProblem,
    check_answer,
    check_cap,
    check_question,
    check_text,
    question_window,
)
from bot.rules.recommendation import CutStage
from bot.services.elections import policy_of
from bot.services.identity import Me, RoleName
from bot.services.notices import Audience, Recipient
from bot.services.outbox import (
    BroadcastKind,
    MessagePayload,
    OutgoingMessage,
    enqueue_broadcast,
    messages_to_accounts,
)
from storage.models import (
    Account,
    CandidateAnswer,
    CandidateQuestion,
    Election,
    ElectionStatus,
    Person,
    QuestionStatus,
)
from storage.repositories import elections as elections_repo
from storage.repositories import notices as notices_repo
from storage.repositories import questions as questions_repo

MY_QUESTIONS_SHOWN = 10
PUBLISHED_SHOWN = 10  # /questions for a villager: the latest published questions and answers
COMMITTEE_QUESTIONS_SHOWN = 10


class QuestionRefusal(StrEnum):
    NOT_BOUND = "not_bound"  # the account is not linked to a person on a roll
    NOT_A_VOTER = "not_a_voter"  # on the roll, but not a registered voter (or removed)
    UNKNOWN_ELECTION = "unknown_election"  # none, another village's, a draft or a finished one
    UNKNOWN_CANDIDATE = "unknown_candidate"  # not on the published list (or the asker themselves)
    RULE = "rule"  # refused by bot.rules.questions: see `problem`
    NOT_ALLOWED = "not_allowed"  # not on this village's election committee
    NOT_FOUND = "not_found"
    ALREADY_MODERATED = "already_moderated"
    NOT_FORWARDED = "not_forwarded"  # a candidate can only answer a forwarded question
    NOT_ADDRESSED = "not_addressed"  # the question is not for this person
    ALREADY_ANSWERED = "already_answered"
    NO_ANSWERS = "no_answers"  # nothing to publish yet
    ALREADY_PUBLISHED = "already_published"
    ALREADY_SENT = "already_sent"  # the same composed question, sent a second time


class Moderation(StrEnum):
    FORWARD = "forward"
    REJECT = "reject"


@dataclass(frozen=True)
class CandidateChoice:
    """A person on the election's published candidate list, as the asker picks them."""

    person_id: int
    name: str
    positions: tuple[Position, ...]


@dataclass(frozen=True)
class AskableElection:
    election: Election
    candidates: tuple[CandidateChoice, ...]
    # Set when the person already has as many questions waiting as allowed: say so before they type.
    cap_reached: QuestionProblem | None = None


@dataclass(frozen=True)
class AnswerView:
    candidate_name: str
    text: str


@dataclass(frozen=True)
class QuestionView:
    """A question as shown in chat: never who asked it."""

    question: CandidateQuestion
    election_title: str
    addressed: str | None  # the candidate's name; None: all candidates
    answers: tuple[AnswerView, ...] = ()

    @property
    def number(self) -> int:
        assert self.question.id is not None
        return self.question.id

    @property
    def status(self) -> QuestionStatus:
        return QuestionStatus(self.question.status)


# Each renders one recipient's copy in their locale (the second argument): one message, or several
# when question and answers together pass Telegram's length limit.
QuestionRenderer = Callable[[QuestionView, str], Sequence[MessagePayload]]


@dataclass(frozen=True)
class QuestionOutcome:
    refusal: QuestionRefusal | None = None
    problem: QuestionProblem | None = None  # for RULE
    view: QuestionView | None = None
    reached: int = 0  # forward: candidates told privately; publish: villagers it goes to
    missed: int = 0  # forward: candidates not linked to Telegram; publish: villagers not linked


def _refused(refusal: QuestionRefusal, problem: QuestionProblem | None = None) -> QuestionOutcome:
    return QuestionOutcome(refusal=refusal, problem=problem)


# ----------------------------------------------------------------------------------- helpers


async def current_candidates(session: AsyncSession, election_id: int) -> tuple[CandidateChoice, ...]:
    """The latest published list: the formal candidates once there are any, else the preliminary."""
    rows = await elections_repo.candidates(session, election_id)
    stages = {c.stage for c, _line in rows}
    stage = CutStage.FORMAL.value if CutStage.FORMAL.value in stages else CutStage.PRELIMINARY.value
    positions: dict[int, list[Position]] = defaultdict(list)
    names: dict[int, str] = {}
    for candidate, line in rows:
        if candidate.stage == stage:
            positions[candidate.person_id].append(Position(candidate.position))
            names.setdefault(candidate.person_id, line.person.name)
    return tuple(CandidateChoice(p, names[p], tuple(positions[p])) for p in names)


async def _addressed_ids(session: AsyncSession, question: CandidateQuestion) -> list[int]:
    """Whom a question is for: its candidate, or everyone on the current list but the asker."""
    if question.candidate_person_id is not None:
        return [question.candidate_person_id]
    return [
        c.person_id
        for c in await current_candidates(session, question.election_id)
        if c.person_id != question.asker_person_id
    ]


async def _views(session: AsyncSession, questions: Sequence[CandidateQuestion]) -> list[QuestionView]:
    ids = [q.id for q in questions if q.id is not None]
    answers: dict[int, list[AnswerView]] = defaultdict(list)
    for answer, name in await questions_repo.answers_with_names(session, ids):
        answers[answer.question_id].append(AnswerView(name, answer.text))
    names = await questions_repo.names(
        session, {q.candidate_person_id for q in questions if q.candidate_person_id is not None}
    )
    titles: dict[int, str] = {}
    for q in questions:
        if q.election_id not in titles:
            election = await elections_repo.get(session, q.election_id)
            titles[q.election_id] = election.title if election else ""
    return [
        QuestionView(
            question=q,
            election_title=titles[q.election_id],
            addressed=names.get(q.candidate_person_id) if q.candidate_person_id is not None else None,
            answers=tuple(answers.get(q.id or 0, ())),
        )
        for q in questions
    ]


async def _view(session: AsyncSession, question: CandidateQuestion) -> QuestionView:
    (view,) = await _views(session, [question])
    return view


def _messages(
    accounts: Sequence[Account], view: QuestionView, render: QuestionRenderer, default_locale: str
) -> list[OutgoingMessage]:
    return messages_to_accounts(accounts, default_locale, lambda locale: render(view, locale))


async def _tell_committee(
    session: AsyncSession,
    me: Me,
    view: QuestionView,
    render: QuestionRenderer,
    default_locale: str,
    title: str,
) -> None:
    members = await notices_repo.committee_accounts(
        session, view.question.village_id, (RoleName.COMMITTEE.value,)
    )
    await enqueue_broadcast(
        session,
        kind=BroadcastKind.OTHER,
        title=title,
        village_id=view.question.village_id,
        created_by_account_id=me.account.id,
        messages=_messages([a for a in members if a.id != me.account.id], view, render, default_locale),
        commit=False,
    )


def _today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


# ------------------------------------------------------------------------------------ asking


async def askable_elections(
    session: AsyncSession, me: Me, *, now: datetime, zone: ZoneInfo, limits: QuestionLimits = DEFAULT_LIMITS
) -> list[AskableElection]:
    """The open elections of the villager's village that take questions today, with their candidates
    (the asker left out: nobody asks themselves)."""
    if me.village is None or me.village.id is None:
        await session.commit()
        return []
    today = _today(now, zone)
    found = []
    for election in await elections_repo.of_villages(session, [me.village.id], [ElectionStatus.OPEN.value]):
        assert election.id is not None
        candidates = await current_candidates(session, election.id)
        published = election.candidates_published_on if candidates else None
        problem = question_window(
            policy_of(election),
            candidates_published_on=published,
            election_day=election.election_day,
            today=today,
        )
        if problem is None:
            mine = me.person.id if me.person else None
            waiting = await questions_repo.count_open(session, election.id, mine) if mine else 0
            found.append(
                AskableElection(
                    election,
                    tuple(c for c in candidates if c.person_id != mine),
                    check_cap(waiting, limits),
                )
            )
    await session.commit()  # end the read (storage/db.py)
    return found


@dataclass(frozen=True)
class QuestionDraft:
    election_id: int
    candidate_person_id: int | None  # None: all candidates
    text: str
    # Unique per composed question, so a second press of "Send" cannot ask twice.
    draft_key: str


async def ask_question(
    session: AsyncSession,
    me: Me,
    draft: QuestionDraft,
    *,
    now: datetime,
    zone: ZoneInfo,
    render: QuestionRenderer,
    default_locale: str,
    limits: QuestionLimits = DEFAULT_LIMITS,
) -> QuestionOutcome:
    """Record a registered voter's question and tell the village's election committee, who decide
    whether it goes to the candidates."""
    try:
        outcome = await _ask(session, me, draft, now, zone, render, default_locale, limits)
    except IntegrityError:
        # Two presses of "Send" raced past the draft-key check: the unique key stopped the second.
        await session.rollback()
        return _refused(QuestionRefusal.ALREADY_SENT)
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


async def _ask(
    session: AsyncSession,
    me: Me,
    draft: QuestionDraft,
    now: datetime,
    zone: ZoneInfo,
    render: QuestionRenderer,
    default_locale: str,
    limits: QuestionLimits,
) -> QuestionOutcome:
    if me.person is None or me.person.id is None or me.village is None or me.account.id is None:
        return _refused(QuestionRefusal.NOT_BOUND)
    # Locked until the commit: two questions sent at once cannot both pass the cap.
    person = await elections_repo.lock_person(session, me.person.id)
    if person is None or person.id is None or not _is_voter(person):
        return _refused(QuestionRefusal.NOT_A_VOTER)
    if await questions_repo.by_draft_key(session, draft.draft_key) is not None:
        return _refused(QuestionRefusal.ALREADY_SENT)
    election_id, candidate_person_id, text = draft.election_id, draft.candidate_person_id, draft.text
    election = await elections_repo.get(session, election_id)
    if election is None or election.village_id != me.village.id or election.status != ElectionStatus.OPEN:
        return _refused(QuestionRefusal.UNKNOWN_ELECTION)
    candidates = await current_candidates(session, election_id)
    if candidate_person_id is not None and (
        candidate_person_id == person.id or all(c.person_id != candidate_person_id for c in candidates)
    ):
        return _refused(QuestionRefusal.UNKNOWN_CANDIDATE)
    problem = check_question(
        policy_of(election),
        text,
        candidates_published_on=election.candidates_published_on if candidates else None,
        election_day=election.election_day,
        today=_today(now, zone),
        open_questions=await questions_repo.count_open(session, election_id, person.id),
        limits=limits,
    )
    if problem is not None:
        return _refused(QuestionRefusal.RULE, problem)
    question = CandidateQuestion(
        election_id=election_id,
        village_id=election.village_id,
        asker_person_id=person.id,
        asker_account_id=me.account.id,
        candidate_person_id=candidate_person_id,
        text=text.strip(),
        status=QuestionStatus.PENDING.value,
        created_at=now,
        draft_key=draft.draft_key,
    )
    session.add(question)
    await session.flush()
    view = await _view(session, question)
    await _tell_committee(session, me, view, render, default_locale, f"question {question.id}")
    await session.commit()
    return QuestionOutcome(view=view)


def _is_voter(person: Person) -> bool:
    return person.eligible_voter and person.removed_at is None


async def my_questions(session: AsyncSession, me: Me) -> list[QuestionView]:
    """The sender's own questions, newest first, with what became of them."""
    if me.person is None or me.person.id is None:
        await session.commit()
        return []
    views = await _views(session, await questions_repo.of_asker(session, me.person.id, MY_QUESTIONS_SHOWN))
    await session.commit()  # end the read (storage/db.py)
    return views


async def published_questions(session: AsyncSession, me: Me) -> list[QuestionView] | None:
    """What the committee published of the sender's village (question and answers), newest first, for
    whoever missed the message; None when the sender is not linked to a village."""
    if me.village is None or me.village.id is None:
        await session.commit()
        return None
    rows = await questions_repo.published_of_village(session, me.village.id, PUBLISHED_SHOWN)
    views = await _views(session, rows)
    await session.commit()  # end the read (storage/db.py)
    return views


# -------------------------------------------------------------------------------- moderation


async def pending_question(session: AsyncSession, me: Me, question_id: int) -> QuestionOutcome:
    """The question, if it still waits for moderation by the sender's committee (before a reason is
    asked for: nobody types a reason for a question someone else has already dealt with)."""
    question = await questions_repo.get(session, question_id)
    if question is None:
        outcome = _refused(QuestionRefusal.NOT_FOUND)
    elif not me.has_role(question.village_id, RoleName.COMMITTEE):
        outcome = _refused(QuestionRefusal.NOT_ALLOWED)
    elif question.status != QuestionStatus.PENDING:
        outcome = _refused(QuestionRefusal.ALREADY_MODERATED)
    else:
        outcome = QuestionOutcome(view=await _view(session, question))
    await session.commit()  # end the read (storage/db.py)
    return outcome


async def moderate_question(
    session: AsyncSession,
    me: Me,
    *,
    question_id: int,
    decision: Moderation,
    reason: str = "",
    now: datetime,
    zone: ZoneInfo,
    render_for_candidate: QuestionRenderer,
    render_rejection: QuestionRenderer,
    default_locale: str,
    limits: QuestionLimits = DEFAULT_LIMITS,
) -> QuestionOutcome:
    """The election committee forwards a pending question to its candidates (privately, without the
    asker's name), or rejects it with a reason the asker is told in their own language."""
    outcome = await _moderate(
        session,
        me,
        question_id,
        decision,
        reason,
        now,
        zone,
        render_for_candidate,
        render_rejection,
        default_locale,
        limits,
    )
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


async def _moderate(
    session: AsyncSession,
    me: Me,
    question_id: int,
    decision: Moderation,
    reason: str,
    now: datetime,
    zone: ZoneInfo,
    render_for_candidate: QuestionRenderer,
    render_rejection: QuestionRenderer,
    default_locale: str,
    limits: QuestionLimits,
) -> QuestionOutcome:
    question = await questions_repo.get(session, question_id)
    if question is None:
        return _refused(QuestionRefusal.NOT_FOUND)
    if not me.has_role(question.village_id, RoleName.COMMITTEE):
        return _refused(QuestionRefusal.NOT_ALLOWED)
    if question.status != QuestionStatus.PENDING:
        return _refused(QuestionRefusal.ALREADY_MODERATED)
    election = await elections_repo.get(session, question.election_id)
    assert election is not None
    if decision is Moderation.REJECT:
        if (problem := check_text(reason, limits)) is not None:
            return _refused(QuestionRefusal.RULE, problem)
        values: dict[str, object] = {"status": QuestionStatus.REJECTED.value, "reject_reason": reason.strip()}
    else:
        late = question_window(
            policy_of(election),
            candidates_published_on=election.candidates_published_on,
            election_day=election.election_day,
            today=_today(now, zone),
        )
        if late is not None:
            return _refused(QuestionRefusal.RULE, late)
        values = {"status": QuestionStatus.FORWARDED.value}
    values |= {"moderated_at": now, "moderated_by_account_id": me.account.id}
    changed = await questions_repo.update_if_status(
        session, question_id, [QuestionStatus.PENDING.value], values
    )
    if changed == 0:
        return _refused(QuestionRefusal.ALREADY_MODERATED)  # another committee member was faster
    await session.refresh(question)
    view = await _view(session, question)

    recipients: list[Account] = []
    missed = 0
    if decision is Moderation.REJECT:
        asker = await session.get(Account, question.asker_account_id)
        if asker is not None and asker.chat_id is not None:
            recipients.append(asker)
        render = render_rejection
    else:
        addressed = await _addressed_ids(session, question)
        reachable = await elections_repo.bound_accounts(session, addressed)
        for line in reachable:
            account = await session.get(Account, line.account_id)
            assert account is not None
            recipients.append(account)
        missed = len(set(addressed) - {line.person_id for line in reachable})
        render = render_for_candidate
    await enqueue_broadcast(
        session,
        kind=BroadcastKind.OTHER,
        title=f"question {question_id} {decision.value}",
        village_id=question.village_id,
        created_by_account_id=me.account.id,
        messages=_messages(recipients, view, render, default_locale),
        commit=False,
    )
    await session.commit()
    return QuestionOutcome(view=view, reached=len(recipients), missed=missed)


# ----------------------------------------------------------------------------------- answers


async def _answerable(session: AsyncSession, me: Me, question_id: int) -> QuestionOutcome:
    if me.person is None or me.person.id is None:
        return _refused(QuestionRefusal.NOT_BOUND)
    question = await questions_repo.get(session, question_id)
    if question is None:
        return _refused(QuestionRefusal.NOT_FOUND)
    if me.person.id not in await _addressed_ids(session, question):
        return _refused(QuestionRefusal.NOT_ADDRESSED)
    if question.status == QuestionStatus.PUBLISHED:
        return _refused(QuestionRefusal.ALREADY_PUBLISHED)
    if question.status not in (QuestionStatus.FORWARDED, QuestionStatus.ANSWERED):
        return _refused(QuestionRefusal.NOT_FORWARDED)
    if await questions_repo.answer_of(session, question_id, me.person.id) is not None:
        return _refused(QuestionRefusal.ALREADY_ANSWERED)
    return QuestionOutcome(view=await _view(session, question))


async def question_to_answer(session: AsyncSession, me: Me, question_id: int) -> QuestionOutcome:
    """The question, if the sender is one of its candidates and may answer it now."""
    outcome = await _answerable(session, me, question_id)
    await session.commit()  # end the read (storage/db.py)
    return outcome


async def answer_question(
    session: AsyncSession,
    me: Me,
    *,
    question_id: int,
    text: str,
    now: datetime,
    zone: ZoneInfo,
    render_for_committee: QuestionRenderer,
    default_locale: str,
    limits: QuestionLimits = DEFAULT_LIMITS,
) -> QuestionOutcome:
    """An addressed candidate answers, once; the committee is told so that it can publish."""
    try:
        outcome = await _answer(
            session, me, question_id, text, now, zone, render_for_committee, default_locale, limits
        )
    except IntegrityError:
        # The same candidate answered twice at once: the unique key kept the first.
        await session.rollback()
        return _refused(QuestionRefusal.ALREADY_ANSWERED)
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


async def _answer(
    session: AsyncSession,
    me: Me,
    question_id: int,
    text: str,
    now: datetime,
    zone: ZoneInfo,
    render_for_committee: QuestionRenderer,
    default_locale: str,
    limits: QuestionLimits,
) -> QuestionOutcome:
    checked = await _answerable(session, me, question_id)
    if checked.refusal is not None or checked.view is None:
        return checked
    assert me.person is not None and me.person.id is not None and me.account.id is not None
    question = checked.view.question
    election = await elections_repo.get(session, question.election_id)
    assert election is not None
    problem = check_answer(
        policy_of(election), text, election_day=election.election_day, today=_today(now, zone), limits=limits
    )
    if problem is not None:
        return _refused(QuestionRefusal.RULE, problem)
    session.add(
        CandidateAnswer(
            question_id=question_id,
            candidate_person_id=me.person.id,
            account_id=me.account.id,
            text=text.strip(),
            created_at=now,
        )
    )
    await session.flush()
    changed = await questions_repo.update_if_status(
        session,
        question_id,
        [QuestionStatus.FORWARDED.value, QuestionStatus.ANSWERED.value],
        {"status": QuestionStatus.ANSWERED.value, "answered_at": question.answered_at or now},
    )
    if changed == 0:
        # Published while the candidate was typing: the village has already had the answers.
        return _refused(QuestionRefusal.ALREADY_PUBLISHED)
    await session.refresh(question)
    view = await _view(session, question)
    await _tell_committee(
        session, me, view, render_for_committee, default_locale, f"answer to question {question_id}"
    )
    await session.commit()
    return QuestionOutcome(view=view)


# --------------------------------------------------------------------------------- publishing


PublishRenderer = Callable[[QuestionView, Recipient], Sequence[MessagePayload]]


async def publish_answers(
    session: AsyncSession,
    me: Me,
    *,
    question_id: int,
    now: datetime,
    render: PublishRenderer,
    default_locale: str,
    title: str,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> QuestionOutcome:
    """The election committee sends a question and its answers to every linked villager, once.

    `title` names the broadcast in the progress message the committee member sees (their language).
    """
    outcome = await _publish(
        session, me, question_id, now, render, default_locale, title, progress_chat_id, progress_locale
    )
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


async def _publish(
    session: AsyncSession,
    me: Me,
    question_id: int,
    now: datetime,
    render: PublishRenderer,
    default_locale: str,
    title: str,
    progress_chat_id: int | None,
    progress_locale: str | None,
) -> QuestionOutcome:
    question = await questions_repo.get(session, question_id)
    if question is None:
        return _refused(QuestionRefusal.NOT_FOUND)
    if not me.has_role(question.village_id, RoleName.COMMITTEE):
        return _refused(QuestionRefusal.NOT_ALLOWED)
    if question.status == QuestionStatus.PUBLISHED:
        return _refused(QuestionRefusal.ALREADY_PUBLISHED)
    if question.status != QuestionStatus.ANSWERED:
        return _refused(QuestionRefusal.NO_ANSWERS)
    changed = await questions_repo.update_if_status(
        session,
        question_id,
        [QuestionStatus.ANSWERED.value],
        {
            "status": QuestionStatus.PUBLISHED.value,
            "published_at": now,
            "published_by_account_id": me.account.id,
        },
    )
    if changed == 0:
        return _refused(QuestionRefusal.ALREADY_PUBLISHED)  # two presses of "Publish" at once
    await session.refresh(question)
    view = await _view(session, question)
    members = await notices_repo.audience_members(session, question.village_id, Audience.ALL.value, None)
    messages: list[OutgoingMessage] = []
    reached = missed = 0
    for m in members:
        if m.account_id is None or m.chat_id is None:
            missed += 1
            continue
        reached += 1
        locale = resolve_locale(m.locale, m.telegram_language_code, default_locale)
        recipient = Recipient(m.account_id, m.chat_id, locale, m.name)
        messages += [
            OutgoingMessage(account_id=m.account_id, chat_id=m.chat_id, payload=payload, locale=locale)
            for payload in render(view, recipient)
        ]
    broadcast = await enqueue_broadcast(
        session,
        kind=BroadcastKind.OTHER,
        title=title[:200],
        village_id=question.village_id,
        created_by_account_id=me.account.id,
        messages=messages,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
        commit=False,
    )
    await questions_repo.update_if_status(
        session, question_id, [QuestionStatus.PUBLISHED.value], {"broadcast_id": broadcast.id}
    )
    await session.commit()
    return QuestionOutcome(view=view, reached=reached, missed=missed)


# ------------------------------------------------------------------------- the committee's view


@dataclass(frozen=True)
class VillageQuestions:
    village_name: str
    counts: dict[QuestionStatus, int]
    pending: list[QuestionView]
    answered: list[QuestionView]  # answered, not yet published
    askers: dict[int, str]  # question id -> who asked (for the committee only)


async def committee_questions(session: AsyncSession, me: Me) -> list[VillageQuestions]:
    """Per village the sender is on the committee of: counts by state, what waits for moderation,
    and what is answered and waits to be published."""
    out = []
    for village in me.villages_with(RoleName.COMMITTEE):
        assert village.id is not None
        raw = await questions_repo.status_counts(session, village.id)
        counts = {status: raw.get(status.value, 0) for status in QuestionStatus}
        pending = await questions_repo.of_villages(
            session, [village.id], [QuestionStatus.PENDING.value], COMMITTEE_QUESTIONS_SHOWN
        )
        answered = await questions_repo.of_villages(
            session, [village.id], [QuestionStatus.ANSWERED.value], COMMITTEE_QUESTIONS_SHOWN
        )
        askers = await questions_repo.names(session, {q.asker_person_id for q in [*pending, *answered]})
        out.append(
            VillageQuestions(
                village_name=village.name,
                counts=counts,
                pending=await _views(session, pending),
                answered=await _views(session, answered),
                askers={q.id or 0: askers.get(q.asker_person_id, "?") for q in [*pending, *answered]},
            )
        )
    await session.commit()  # end the read (storage/db.py)
    return out

"""Questions to the candidates: asked by a voter, moderated by the committee, answered by an addressed
candidate, published once to the village; the asker is never named to a candidate."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import col, select

from bot.rules.questions import QuestionRefusalReason
from bot.services import questions
from bot.services.identity import Me, RoleName
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.questions import Moderation, QuestionOutcome, QuestionRefusal, QuestionView
from storage.db import SessionFactory
from storage.models import (
    CandidateAnswer,
    CandidateQuestion,
    Delivery,
    Election,
    ElectionCandidate,
    QuestionStatus,
)
from tests.factories import Roll, grant, make_village
from tests.services.test_elections import ZONE, local, me_of, opened, village

DAY = date(2026, 12, 20)
PUBLISHED = date(2026, 12, 10)
DURING = local(date(2026, 12, 12), 10)
CANDIDATES = [("director", "王建国"), ("member", "王建军"), ("member", "钱党员")]


def render(view: QuestionView, locale: str) -> list[MessagePayload]:
    answers = " | ".join(f"{a.candidate_name}: {a.text}" for a in view.answers)
    text = f"[{locale}] no.{view.number} to {view.addressed or 'all'}: {view.question.text} {answers}"
    return [MessagePayload(text=text)]


def render_for_village(view: QuestionView, recipient: Recipient) -> list[MessagePayload]:
    return render(view, recipient.locale)


async def election_with_candidates(sessions: SessionFactory, roll: Roll) -> Election:
    """Opened, with its formal candidate list published (written as publish_candidates does)."""
    election = await opened(sessions, roll)
    assert election.id is not None
    async with sessions() as session:
        await session.exec(
            update(Election).where(col(Election.id) == election.id).values(candidates_published_on=PUBLISHED)
        )
        for position, name in CANDIDATES:
            session.add(
                ElectionCandidate(
                    election_id=election.id,
                    position=position,
                    person_id=roll.people[name].id or 0,
                    stage="formal",
                    fingerprint="0" * 64,
                )
            )
        await session.commit()
    return election


async def ask(
    sessions: SessionFactory,
    me: Me,
    election: Election,
    to: str | None,
    roll: Roll,
    text: str = "村里的路什么时候修？",
    now: datetime = DURING,
    draft_key: str | None = None,
) -> QuestionOutcome:
    assert election.id is not None
    draft = questions.QuestionDraft(
        election_id=election.id,
        candidate_person_id=roll.people[to].id if to else None,
        text=text,
        draft_key=draft_key or uuid.uuid4().hex,
    )
    async with sessions() as session:
        outcome = await questions.ask_question(
            session,
            me,
            draft,
            now=now,
            zone=ZONE,
            render=render,
            default_locale="zh_Hans",
        )
        assert not session.in_transaction()
    return outcome


async def moderate(
    sessions: SessionFactory,
    me: Me,
    question_id: int,
    decision: Moderation,
    reason: str = "",
    now: datetime = DURING,
) -> QuestionOutcome:
    async with sessions() as session:
        outcome = await questions.moderate_question(
            session,
            me,
            question_id=question_id,
            decision=decision,
            reason=reason,
            now=now,
            zone=ZONE,
            render_for_candidate=render,
            render_rejection=lambda view, locale: [
                MessagePayload(text=f"rejected no.{view.number}: {view.question.reject_reason}")
            ],
            default_locale="zh_Hans",
        )
        assert not session.in_transaction()
    return outcome


async def answer(
    sessions: SessionFactory, me: Me, question_id: int, text: str = "我会先修路。", now: datetime = DURING
) -> QuestionOutcome:
    async with sessions() as session:
        outcome = await questions.answer_question(
            session,
            me,
            question_id=question_id,
            text=text,
            now=now,
            zone=ZONE,
            render_for_committee=render,
            default_locale="zh_Hans",
        )
        assert not session.in_transaction()
    return outcome


async def publish(sessions: SessionFactory, me: Me, question_id: int) -> QuestionOutcome:
    async with sessions() as session:
        outcome = await questions.publish_answers(
            session,
            me,
            question_id=question_id,
            now=DURING,
            render=render_for_village,
            default_locale="zh_Hans",
            title=f"第 {question_id} 号问题和回答",
        )
        assert not session.in_transaction()
    return outcome


async def texts_to(sessions: SessionFactory, me: Me) -> list[str]:
    async with sessions() as session:
        rows = (
            await session.exec(
                select(Delivery).where(Delivery.account_id == me.account.id).order_by(col(Delivery.id))
            )
        ).all()
    return [MessagePayload.from_json(row.payload).text or "" for row in rows]


async def test_asked_forwarded_answered_published(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await election_with_candidates(sessions, roll)
    committee = await me_of(sessions, 9001, roll.people["赵主任"])
    li = await me_of(sessions, 201, roll.people["李秀英"])
    guo = await me_of(sessions, 202, roll.people["王建国"])
    jun = await me_of(sessions, 203, roll.people["王建军"])
    zhang = await me_of(sessions, 204, roll.people["张三"])

    async with sessions() as session:
        askable = await questions.askable_elections(session, li, now=DURING, zone=ZONE)
    assert [(e.election.id, [c.name for c in e.candidates]) for e in askable] == [
        (election.id, ["王建国", "王建军", "钱党员"])
    ]
    assert askable[0].cap_reached is None
    async with sessions() as session:
        own = await questions.askable_elections(session, guo, now=DURING, zone=ZONE)
    assert [c.name for c in own[0].candidates] == ["王建军", "钱党员"]  # nobody asks themselves

    asked = await ask(sessions, li, election, "王建国", roll, text="  村里的路什么时候修？ ")
    assert asked.refusal is None and asked.view is not None
    number = asked.view.number
    assert asked.view.question.text == "村里的路什么时候修？" and asked.view.status == "pending"
    # The committee is told, with the buttons to forward or reject.
    assert await texts_to(sessions, committee) == [f"[zh_Hans] no.{number} to 王建国: 村里的路什么时候修？ "]

    assert (await answer(sessions, guo, number)).refusal is QuestionRefusal.NOT_FORWARDED
    forwarded = await moderate(sessions, committee, number, Moderation.FORWARD)
    assert forwarded.refusal is None and (forwarded.reached, forwarded.missed) == (1, 0)
    assert (await moderate(sessions, committee, number, Moderation.REJECT, "重复")).refusal is (
        QuestionRefusal.ALREADY_MODERATED
    )
    to_guo = await texts_to(sessions, guo)
    assert to_guo == [f"[zh_Hans] no.{number} to 王建国: 村里的路什么时候修？ "]
    assert all("李秀英" not in text for text in to_guo)
    assert await texts_to(sessions, jun) == []  # the question was for 王建国 only

    async with sessions() as session:
        ready = await questions.question_to_answer(session, guo, number)
        not_his = await questions.question_to_answer(session, jun, number)
    assert ready.refusal is None and not_his.refusal is QuestionRefusal.NOT_ADDRESSED
    assert (await publish(sessions, committee, number)).refusal is QuestionRefusal.NO_ANSWERS
    assert (await answer(sessions, jun, number)).refusal is QuestionRefusal.NOT_ADDRESSED
    assert (await answer(sessions, zhang, number)).refusal is QuestionRefusal.NOT_ADDRESSED
    empty = await answer(sessions, guo, number, text="  ")
    assert empty.refusal is QuestionRefusal.RULE and empty.problem is not None
    assert empty.problem.reason is QuestionRefusalReason.EMPTY
    answered = await answer(sessions, guo, number)
    assert answered.refusal is None and answered.view is not None and answered.view.status == "answered"
    assert (await answer(sessions, guo, number, text="再说一遍")).refusal is QuestionRefusal.ALREADY_ANSWERED
    assert (await texts_to(sessions, committee))[-1].endswith("王建国: 我会先修路。")

    assert (await publish(sessions, li, number)).refusal is QuestionRefusal.NOT_ALLOWED
    done = await publish(sessions, committee, number)
    assert done.refusal is None and done.view is not None and done.view.status == "published"
    # Everyone on the roll who linked Telegram: the five accounts made here; the rest are not linked.
    assert (done.reached, done.missed) == (5, 3)
    expected = f"[zh_Hans] no.{number} to 王建国: 村里的路什么时候修？ 王建国: 我会先修路。"
    assert (await texts_to(sessions, zhang))[-1] == expected
    assert (await texts_to(sessions, li))[-1] == expected
    assert (await publish(sessions, committee, number)).refusal is QuestionRefusal.ALREADY_PUBLISHED
    assert (await answer(sessions, jun, number)).refusal is QuestionRefusal.NOT_ADDRESSED
    async with sessions() as session:
        stored = await session.get(CandidateQuestion, number)
        mine = await questions.my_questions(session, li)
        (board,) = await questions.committee_questions(session, committee)
    assert stored is not None and stored.broadcast_id is not None and stored.published_at is not None
    assert [(v.number, v.status, [a.text for a in v.answers]) for v in mine] == [
        (number, "published", ["我会先修路。"])
    ]
    assert board.counts[QuestionStatus.PUBLISHED] == 1 and board.pending == [] and board.answered == []


async def test_a_question_to_all_candidates(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await election_with_candidates(sessions, roll)
    committee = await me_of(sessions, 9001, roll.people["赵主任"])
    guo = await me_of(sessions, 202, roll.people["王建国"])
    jun = await me_of(sessions, 203, roll.people["王建军"])
    qian = await me_of(sessions, 204, roll.people["钱党员"])
    # A candidate asks all the others: they are not sent their own question.
    asked = await ask(sessions, guo, election, None, roll)
    assert asked.view is not None and asked.view.addressed is None
    number = asked.view.number
    forwarded = await moderate(sessions, committee, number, Moderation.FORWARD)
    assert (forwarded.reached, forwarded.missed) == (2, 0)
    assert await texts_to(sessions, guo) == []
    assert len(await texts_to(sessions, jun)) == 1 and len(await texts_to(sessions, qian)) == 1
    assert (await answer(sessions, guo, number)).refusal is QuestionRefusal.NOT_ADDRESSED
    assert (await answer(sessions, jun, number, text="先修路")).refusal is None
    assert (await answer(sessions, qian, number, text="先建学校")).refusal is None
    async with sessions() as session:
        (board,) = await questions.committee_questions(session, committee)
        answers = (await session.exec(select(CandidateAnswer))).all()
    assert [(v.number, [a.candidate_name for a in v.answers]) for v in board.answered] == [
        (number, ["王建军", "钱党员"])
    ]
    assert board.askers == {number: "王建国"}  # the committee alone knows who asked
    assert board.counts[QuestionStatus.ANSWERED] == 1 and len(answers) == 2


async def test_rejected_with_a_reason_the_asker_is_told(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await election_with_candidates(sessions, roll)
    committee = await me_of(sessions, 9001, roll.people["赵主任"])
    li = await me_of(sessions, 201, roll.people["李秀英"])
    zhang = await me_of(sessions, 204, roll.people["张三"])
    asked = await ask(sessions, li, election, "王建军", roll)
    assert asked.view is not None
    number = asked.view.number
    # Not on the committee: neither a villager nor the committee of another village may moderate.
    other = await make_village(sessions, "白水村", people=[])
    await grant(sessions, other.village, "+8613700000077")
    stranger = await me_of(sessions, 205, None, phone="+8613700000077")
    assert stranger.villages_with(RoleName.COMMITTEE)
    for who in (zhang, li, stranger):
        refused = await moderate(sessions, who, number, Moderation.FORWARD)
        assert refused.refusal is QuestionRefusal.NOT_ALLOWED
    no_reason = await moderate(sessions, committee, number, Moderation.REJECT, " ")
    assert no_reason.refusal is QuestionRefusal.RULE
    rejected = await moderate(sessions, committee, number, Moderation.REJECT, "与选举无关")
    assert rejected.refusal is None and rejected.view is not None and rejected.view.status == "rejected"
    assert await texts_to(sessions, li) == [f"rejected no.{number}: 与选举无关"]
    assert (await moderate(sessions, committee, number, Moderation.FORWARD)).refusal is (
        QuestionRefusal.ALREADY_MODERATED
    )
    assert (await publish(sessions, committee, number)).refusal is QuestionRefusal.NO_ANSWERS
    assert (await moderate(sessions, committee, 999, Moderation.FORWARD)).refusal is QuestionRefusal.NOT_FOUND


async def test_who_may_ask_when_and_how_much(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await election_with_candidates(sessions, roll)
    committee = await me_of(sessions, 9001, roll.people["赵主任"])
    li = await me_of(sessions, 201, roll.people["李秀英"])
    child = await me_of(sessions, 202, roll.people["小明"], phone="+8613700000009")
    nobody = await me_of(sessions, 203, None, phone="+8613700000010")

    def reason(outcome: QuestionOutcome) -> QuestionRefusalReason | None:
        assert outcome.refusal is QuestionRefusal.RULE and outcome.problem is not None, outcome
        return outcome.problem.reason

    assert (await ask(sessions, nobody, election, None, roll)).refusal is QuestionRefusal.NOT_BOUND
    assert (await ask(sessions, child, election, None, roll)).refusal is QuestionRefusal.NOT_A_VOTER
    assert (await ask(sessions, li, election, "张三", roll)).refusal is QuestionRefusal.UNKNOWN_CANDIDATE
    assert (await ask(sessions, li, election, "李秀英", roll)).refusal is QuestionRefusal.UNKNOWN_CANDIDATE
    on_the_day = await ask(sessions, li, election, None, roll, now=local(DAY, 8))
    assert reason(on_the_day) is QuestionRefusalReason.ELECTION_DAY_REACHED
    after = await ask(sessions, li, election, None, roll, now=local(date(2026, 12, 22), 8))
    assert reason(after) is QuestionRefusalReason.ELECTION_DAY_REACHED
    before_list = await ask(sessions, li, election, None, roll, now=local(date(2026, 12, 9), 20))
    assert reason(before_list) is QuestionRefusalReason.NO_CANDIDATE_LIST
    assert reason(await ask(sessions, li, election, None, roll, text="")) is QuestionRefusalReason.EMPTY
    assert reason(await ask(sessions, li, election, None, roll, text="问" * 1001)) is (
        QuestionRefusalReason.TOO_LONG
    )
    async with sessions() as session:
        late = await questions.askable_elections(session, li, now=local(DAY, 8), zone=ZONE)
    assert late == []

    # The cap: three open questions; a fourth waits until one is dealt with.
    numbers = []
    for index in range(3):
        outcome = await ask(sessions, li, election, None, roll, text=f"第{index + 1}个问题")
        assert outcome.refusal is None and outcome.view is not None
        numbers.append(outcome.view.number)
    capped = await ask(sessions, li, election, None, roll, text="第4个问题")
    assert reason(capped) is QuestionRefusalReason.TOO_MANY_OPEN
    assert capped.problem is not None and capped.problem.limit == 3
    async with sessions() as session:
        (full,) = await questions.askable_elections(session, li, now=DURING, zone=ZONE)
    # Said before the villager types a fourth question, not after.
    assert full.cap_reached is not None and full.cap_reached.reason is QuestionRefusalReason.TOO_MANY_OPEN
    assert (await moderate(sessions, committee, numbers[0], Moderation.REJECT, "请当面问")).refusal is None
    assert (await ask(sessions, li, election, None, roll, text="第4个问题")).refusal is None
    # Forwarding is refused once election day has come.
    late_forward = await moderate(sessions, committee, numbers[1], Moderation.FORWARD, now=local(DAY, 9))
    assert late_forward.refusal is QuestionRefusal.RULE
    async with sessions() as session:
        stored = (await session.exec(select(CandidateQuestion))).all()
        (board,) = await questions.committee_questions(session, committee)
    assert sorted(q.status for q in stored) == ["pending", "pending", "pending", "rejected"]
    assert board.counts[QuestionStatus.PENDING] == 3 and board.counts[QuestionStatus.REJECTED] == 1
    assert [v.number for v in board.pending] == [*numbers[1:], max(q.id or 0 for q in stored)]


async def test_no_list_no_questions(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await opened(sessions, roll)
    li = await me_of(sessions, 201, roll.people["李秀英"])
    outcome = await ask(sessions, li, election, None, roll)
    assert outcome.refusal is QuestionRefusal.RULE and outcome.problem is not None
    assert outcome.problem.reason is QuestionRefusalReason.NO_CANDIDATE_LIST
    async with sessions() as session:
        assert await questions.askable_elections(session, li, now=DURING, zone=ZONE) == []
        assert (await session.exec(select(CandidateQuestion))).all() == []


async def test_a_second_press_of_send_asks_nothing_twice(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await election_with_candidates(sessions, roll)
    li = await me_of(sessions, 201, roll.people["李秀英"])
    first = await ask(sessions, li, election, "王建国", roll, draft_key="k" * 32)
    again = await ask(sessions, li, election, "王建国", roll, draft_key="k" * 32)
    assert first.refusal is None and again.refusal is QuestionRefusal.ALREADY_SENT
    other = await ask(sessions, li, election, "王建国", roll, draft_key="m" * 32)
    assert other.refusal is None
    async with sessions() as session:
        assert len((await session.exec(select(CandidateQuestion))).all()) == 2

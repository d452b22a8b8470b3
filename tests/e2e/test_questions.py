"""Questions to the candidates through the emulator: a villager asks one candidate with /ask, the
committee passes it on, the candidate answers with the button, the committee publishes, and another
villager receives question and answer. The candidate is never told who asked.

Everyone here speaks English: the assertions hold whatever the Chinese catalogs say.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.services.elections import create_election, open_election
from sandbox.world import ChatEvent, SimUser
from storage.db import SessionFactory
from storage.models import CandidateAnswer, CandidateQuestion, Election, ElectionCandidate, Role
from tests.e2e.conftest import Harness
from tests.factories import grant, make_village

ZONE = ZoneInfo("Asia/Shanghai")
MEMBER = "+8613900000001"
PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组", "birth_year": 1970},
    {"name": "王建国", "phone": "+8613800000001", "group": "一组", "birth_year": 1960},
    {"name": "李秀英", "phone": "+8613800000002", "group": "二组", "birth_year": 1980, "migrant": True},
    {"name": "张三", "phone": "+8613800000003", "group": "一组", "birth_year": 1975},
    {"name": "王建军", "phone": "+8613800000004", "group": "二组", "birth_year": 1958},
    {"name": "吴村民", "phone": None, "group": "二组", "birth_year": 1965},
]
QUESTION = "I work in Shenzhen. Will you fix the road to the village before the Spring Festival?"
ANSWER = "Yes. The road is the first thing I will do, with the money the township promised."


async def _press(harness: Harness, user: SimUser, message: ChatEvent, text: str) -> ChatEvent:
    await harness.emu.user_presses(user, message, text=text)
    return await harness.emu.wait_for(user, include_edits=False)


async def _alert(harness: Harness, user: SimUser, message: ChatEvent, text: str) -> str:
    """Press a button whose only answer is a pop-up; return the pop-up's text."""
    query_id = await harness.emu.user_presses(user, message, text=text)
    for _ in range(100):
        answers = [a for a in harness.emu.callback_answers if a.callback_query_id == query_id]
        if answers:
            assert answers[0].show_alert
            return answers[0].text or ""
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no answer to the press of {text!r}")


async def _election(sessions: SessionFactory, village_id: int, candidates: dict[str, int]) -> int:
    """An open village committee election whose formal candidate list was published today."""
    now = datetime.now(UTC)
    days = timedelta(days=1)
    async with sessions() as session:
        created = await create_election(
            session,
            None,
            village_id=village_id,
            kind=ElectionKind.VILLAGE_COMMITTEE,
            title="Qingshan village committee election",
            schedule=Schedule(
                election_day=(now + 20 * days).astimezone(ZONE).date(),
                recommendation=Window(now - 9 * days, now - 2 * days),
            ),
            seats={Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 3},
            overrides={},
            now=now - 10 * days,
            zone=ZONE,
        )
    assert created.election is not None and created.election.id is not None, created
    election_id = created.election.id
    async with sessions() as session:
        opened = await open_election(session, None, election_id, now=now - 10 * days)
        assert opened.election is not None, opened
        await session.exec(
            update(Election)
            .where(col(Election.id) == election_id)
            .values(candidates_published_on=now.astimezone(ZONE).date())
        )
        for name, person_id in candidates.items():
            position = Position.DIRECTOR if name == "王建国" else Position.MEMBER
            session.add(
                ElectionCandidate(
                    election_id=election_id,
                    position=position.value,
                    person_id=person_id,
                    stage="formal",
                    fingerprint="0" * 64,
                )
            )
        await session.commit()
    return election_id


async def test_asked_passed_on_answered_and_published(harness: Harness, sessions: SessionFactory) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    await _election(
        sessions,
        roll.village.id or 0,
        {name: roll.people[name].id or 0 for name in ("王建国", "王建军")},
    )
    member = await harness.linked("Zhao", MEMBER)
    li = await harness.linked("Li", "+8613800000002")
    candidate = await harness.linked("Wang Jianguo", "+8613800000001")
    zhang = await harness.linked("Zhang", "+8613800000003")

    # A villager's /questions shows only what the committee published: nothing yet, no moderation.
    nothing = await harness.say(zhang, "/questions")
    assert nothing.content == "No questions to the candidates have been published yet. To ask one, send /ask."
    assert nothing.button_texts == []

    # The villager asks one candidate: whom, the question, a preview, send.
    whom = await harness.say(li, "/ask")
    assert whom.content == "Qingshan village committee election\nWhom do you want to ask?"
    assert whom.button_texts == ["王建国 (Director)", "王建军 (Committee member)", "All candidates"]
    asked = await _press(harness, li, whom, "王建国 (Director)")
    assert asked.content.startswith("Write your question to 王建国 in one message (at most 1000 characters).")
    assert "the candidates are not told who asked" in asked.content
    await harness.emu.user_sends_photo(li, b"not really a photo")
    photo = await harness.emu.wait_for(li)
    assert photo.content == "Please write it as a text message. Send /cancel to stop."
    too_long = await harness.say(li, "x" * 1001)
    assert too_long.content == "That is too long (at most 1000 characters). Please shorten it."
    preview = await harness.say(li, QUESTION)
    assert preview.content == f"Your question to 王建国:\n\n{QUESTION}\n\nSend it?"
    sent = await _press(harness, li, preview, "✅ Send")
    assert sent.content.startswith("✅ Sent to the election committee as question no. ")
    async with sessions() as session:
        question = (await session.exec(select(CandidateQuestion))).one()
    number = question.id
    assert question.status == "pending" and question.text == QUESTION

    # The committee is told (and only the committee knows who asked), and passes it on.
    told = await harness.emu.wait_for(
        member, lambda e: e.content.startswith(f"❓ Question no. {number}"), timeout=10
    )
    assert told.content == (
        f"❓ Question no. {number} about “Qingshan village committee election” from 李秀英, to 王建国:"
        f"\n\n{QUESTION}"
    )
    assert told.button_texts == ["➡️ Pass on to the candidates", "✖️ Reject"]
    passed = await _press(harness, member, told, "➡️ Pass on to the candidates")
    assert passed.content == f"Question no. {number} was passed on privately to 1 candidates."
    again = await _alert(harness, member, told, "✖️ Reject")
    assert again == "This question has already been dealt with."

    # The candidate gets it privately, without the asker's name, and answers.
    private = await harness.emu.wait_for(
        candidate, lambda e: e.content.startswith("❓ A villager asks you"), timeout=10
    )
    assert QUESTION in private.content and "李秀英" not in private.content and "Li" not in private.content
    assert private.button_texts == ["✍️ Answer"]
    write = await _press(harness, candidate, private, "✍️ Answer")
    assert write.content.startswith(f"Write your answer to question no. {number} in one message")
    thanks = await harness.say(candidate, ANSWER)
    assert thanks.content.startswith("✅ Thank you. Your answer was sent to the election committee")
    assert all("李秀英" not in e.content for e in harness.emu.bot_messages(candidate))

    # The committee publishes; a second press is refused.
    answered = await harness.emu.wait_for(
        member, lambda e: e.content.startswith(f"💬 王建国 answered question no. {number}"), timeout=10
    )
    assert f"王建国 answers:\n{ANSWER}" in answered.content
    assert answered.button_texts == ["📢 Publish to the village"]
    await harness.emu.user_presses(member, answered, text="📢 Publish to the village")
    published = await harness.emu.wait_for(
        member, lambda e: e.content.startswith("Published:"), include_edits=False
    )
    assert published.content == (
        f"Published: question no. {number} and its answers go to 4 villagers. 2 are not linked to Telegram."
    )
    assert await _alert(harness, member, answered, "📢 Publish to the village") == (
        "The answers to this question have already been published."
    )

    # Another villager receives question and answer.
    received = await harness.emu.wait_for(
        zhang, lambda e: e.content.startswith("🗣 Questions to the candidates"), timeout=10
    )
    assert received.content == (
        "🗣 Questions to the candidates of “Qingshan village committee election”, published by the "
        f"election committee\n\nA villager asked 王建国:\n{QUESTION}\n\n王建国 answers:\n{ANSWER}"
    )
    # Who missed the message finds it again with /questions.
    again = await harness.say(zhang, "/questions")
    assert again.content == received.content and again.button_texts == []
    # The asker gets it too, and sees what became of the question.
    await harness.emu.wait_for(li, lambda e: e.content == received.content, timeout=10)
    mine = await harness.say(li, "/ask")
    assert mine.content == (
        "Your questions to the candidates:\n"
        f"No. {number} to 王建国: answered and published to the whole village"
    )
    async with sessions() as session:
        stored = await session.get(CandidateQuestion, number)
        answers = (await session.exec(select(CandidateAnswer))).all()
    assert stored is not None and stored.status == "published"
    assert [a.text for a in answers] == [ANSWER]
    await harness.emu.user_sends(member, "/questions")
    board = await harness.emu.wait_for(member, lambda e: e.content.startswith("青山村:"), include_edits=False)
    assert board.content.startswith("青山村: 0 questions wait for you, 0 are with the candidates")
    assert (await harness.emu.wait_for(member)).content == "Nothing waits for you now."


async def test_a_rejected_question_and_no_list(harness: Harness, sessions: SessionFactory) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    li = await harness.linked("Li", "+8613800000002")
    nothing = await harness.say(li, "/ask")
    assert nothing.content.startswith("No election of 青山村 takes questions to the candidates now.")
    stranger = harness.emu.create_user("Stranger", language_code="en")
    assert "Send /start and share your phone number" in (await harness.say(stranger, "/ask")).content

    await _election(sessions, roll.village.id or 0, {"王建国": roll.people["王建国"].id or 0})
    member = await harness.linked("Zhao", MEMBER)
    whom = await harness.say(li, "/ask")
    asked = await _press(harness, li, whom, "All candidates")
    assert asked.content.startswith("Write your question to all candidates")
    preview = await harness.say(li, "Who will sell my land?")
    await _press(harness, li, preview, "✅ Send")
    told = await harness.emu.wait_for(member, lambda e: e.content.startswith("❓ Question no."), timeout=10)
    assert "from 李秀英, to all candidates" in told.content
    why = await _press(harness, member, told, "✖️ Reject")
    assert why.content.startswith("Why is question no.")
    done = await harness.say(member, "This is about a private dispute; please come to the office.")
    assert done.content == "Rejected. The villager who asked was told the reason."
    note = await harness.emu.wait_for(
        li, lambda e: e.content.startswith("The election committee did not pass on"), timeout=10
    )
    assert "The reason: This is about a private dispute; please come to the office." in note.content
    assert note.content.endswith("Your question:\nWho will sell my land?")

    # Someone no longer on the committee cannot act on an old button.
    async with sessions() as session:
        await session.exec(delete(Role).where(col(Role.phone) == MEMBER))
        await session.commit()
    refused = await _alert(harness, member, told, "➡️ Pass on to the candidates")
    assert refused == "Sorry, this is only for the village's election committee."
    async with sessions() as session:
        question = (await session.exec(select(CandidateQuestion))).one()
    assert question.status == "rejected" and question.reject_reason is not None

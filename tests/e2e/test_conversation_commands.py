"""A command sent while a conversation waits for typed text is a command: it ends the conversation
(one line says so), gets its own answer, and nothing is stored from its text. /cancel still cancels
with its usual answer; a wizard restarted by its own command, and its buttons, still work.

Everyone here speaks English: the assertions hold whatever the Chinese catalogs say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from storage.db import SessionFactory
from storage.models import CandidateQuestion, FsmRecord, Notice, Objection
from tests.e2e.conftest import Harness
from tests.e2e.test_questions import PEOPLE, QUESTION, _election, _press
from tests.factories import Roll, grant, make_village

MEMBER, SUPERVISOR = "+8613900000001", "+8613900000002"
DROPPED = "What you had started was stopped; nothing from it was saved."
CANCELLED = "Stopped. Nothing was saved from what you were doing."
NOT_UNDERSTOOD = "Sorry, I did not understand that. Send /help to see what you can do."
LIST_TITLE = "Voter roll of 青山村"


async def _village_with_open_list(sessions: SessionFactory) -> Roll:
    people: list[dict[str, object]] = [
        *PEOPLE,
        {"name": "钱监督", "phone": SUPERVISOR, "group": "一组", "birth_year": 1965},
    ]
    roll = await make_village(sessions, "青山村", people=people)
    await grant(sessions, roll.village, MEMBER, "committee")
    await grant(sessions, roll.village, SUPERVISOR, "supervisor")
    now = datetime.now(UTC)
    async with sessions() as session:
        session.add(
            Notice(
                village_id=roll.village.id or 0,
                kind="publicity",
                title=LIST_TITLE,
                body="…",
                audience="all",
                draft_key="roll-list",
                list_kind="voters",
                published_on=now.date(),
                objection_deadline=now + timedelta(days=5),
            )
        )
        await session.commit()
    return roll


async def _count(sessions: SessionFactory, table: type[Objection] | type[CandidateQuestion]) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def _conversations(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(FsmRecord))).one()


async def test_a_command_ends_the_objection_being_written(harness: Harness, sessions: SessionFactory) -> None:
    await _village_with_open_list(sessions)
    wang = await harness.linked("Wang", "+8613800000001")
    supervisor = await harness.linked("Qian", SUPERVISOR)

    asked = await harness.say(wang, "/objection")
    assert asked.content.startswith(f"Your objection to “{LIST_TITLE}”: write it in one message")
    # The villager gives up and asks for help instead: told the objection was dropped, then the help.
    assert (await harness.say(wang, "/help")).content == DROPPED
    helped = await harness.emu.wait_for(wang)
    assert helped.content.startswith("What you can do here:") and "/objection" in helped.content
    assert await _count(sessions, Objection) == 0
    # The conversation is over: the next text is not taken as the objection either.
    assert (await harness.say(wang, "The list is wrong.")).content == NOT_UNDERSTOOD
    assert await _count(sessions, Objection) == 0

    # The supervisor starts one, then asks for the counts: /objections answers, nothing is stored.
    assert "write it in one message" in (await harness.say(supervisor, "/objection")).content
    assert (await harness.say(supervisor, "/objections")).content == DROPPED
    counts = await harness.emu.wait_for(supervisor)
    assert counts.content == "青山村: 0 open objections, 0 answered."
    assert await _count(sessions, Objection) == 0

    # /cancel mid-flow keeps its own answer, with no other line before it.
    before = len(harness.emu.bot_messages(wang))
    await harness.say(wang, "/objection")
    assert (await harness.say(wang, "/cancel")).content == CANCELLED
    assert (await harness.say(wang, "/cancel")).content == "There is nothing to cancel."
    assert len(harness.emu.bot_messages(wang)) == before + 3
    assert await _conversations(sessions) == 0

    # A command with no conversation open gets no extra line; a real objection is still taken.
    assert (await harness.say(wang, "/help")).content.startswith("What you can do here:")
    await harness.say(wang, "/objection")
    sent = await harness.say(wang, "My son Wang Xiaojun is 18 and missing from the list.")
    assert sent.content.startswith("Your objection was sent to the election committee")
    async with sessions() as session:
        stored = (await session.exec(select(Objection))).all()
    assert [o.text for o in stored] == ["My son Wang Xiaojun is 18 and missing from the list."]


async def test_a_command_ends_the_question_being_asked(harness: Harness, sessions: SessionFactory) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    await _election(sessions, roll.village.id or 0, {"王建国": roll.people["王建国"].id or 0})
    li = await harness.linked("Li", "+8613800000002")

    # Asked for the question, the villager sends /start: welcomed back, no question.
    whom = await harness.say(li, "/ask")
    asked = await _press(harness, li, whom, "王建国 (Director)")
    assert asked.content.startswith("Write your question to 王建国 in one message")
    assert (await harness.say(li, "/start")).content == DROPPED
    welcome = await harness.emu.wait_for(li)
    assert welcome.content == "Welcome back, 李秀英 (青山村). Send /help to see what you can do."
    assert (await harness.say(li, QUESTION)).content == NOT_UNDERSTOOD  # not a preview to send
    assert await _count(sessions, CandidateQuestion) == 0

    # The question typed and previewed, then /start: the old preview's Send button sends nothing.
    whom = await harness.say(li, "/ask")
    await _press(harness, li, whom, "王建国 (Director)")
    preview = await harness.say(li, QUESTION)
    assert preview.content.endswith("Send it?")
    assert (await harness.say(li, "/start")).content == DROPPED
    await harness.emu.wait_for(li, lambda e: e.content.startswith("Welcome back"))
    query = await harness.emu.user_presses(li, preview, text="✅ Send")
    assert (await harness.emu.wait_for_callback_answer(query)).text == (
        "This question was already sent or stopped. Send /ask to ask another."
    )
    assert await _count(sessions, CandidateQuestion) == 0

    # /cancel mid-question keeps its usual answer.
    whom = await harness.say(li, "/ask")
    await _press(harness, li, whom, "王建国 (Director)")
    assert (await harness.say(li, "/cancel")).content == CANCELLED
    assert await _count(sessions, CandidateQuestion) == 0
    assert await _conversations(sessions) == 0


async def test_a_wizard_restarted_by_its_own_command_and_its_buttons_still_work(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    member = await harness.linked("Zhao", MEMBER)

    assert (await harness.say(member, "/notice")).content.startswith("New notice for 青山村. Send the title")
    assert "Now send the text of the notice" in (await harness.say(member, "Half a title")).content
    # Mid-wizard, /notice starts it again from the first step; the half-entered draft is gone.
    assert (await harness.say(member, "/notice")).content == DROPPED
    assert (await harness.emu.wait_for(member)).content.startswith("New notice for 青山村. Send the title")
    assert "Now send the text of the notice" in (await harness.say(member, "Village meeting")).content
    attach = await harness.say(member, "On Monday at 9 in the village office.")
    # The buttons of the wizard are untouched by all this.
    who = await harness.press(member, attach, "No attachment")
    ask = await harness.press(member, who, "Everyone")
    await harness.emu.user_presses(member, ask, text="No")
    confirm = await harness.emu.wait_for(member, lambda e: "Send it now?" in e.content)
    await harness.emu.user_presses(member, confirm, text="Send now")
    await harness.emu.wait_for(
        member, lambda e: e.content.startswith("Report for “Village meeting”"), timeout=15
    )
    async with sessions() as session:
        notices = (await session.exec(select(Notice))).all()
    assert [(n.title, n.body) for n in notices] == [
        ("Village meeting", "On Monday at 9 in the village office.")
    ]

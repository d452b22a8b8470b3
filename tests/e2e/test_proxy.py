"""Migrant workers and proxy votes through the emulator: the committee asks how migrant workers will
take part, one answers "a relative will vote for me", asks their father, who accepts; the committee
approves (the worker gets the pre-filled form as a PDF), publishes the list, and on election day the
father is told whom he votes for. Then the refusals: a candidate as holder, a chain, a request
revoked while the holder answers, approving twice, a principal who unlinked mid-flow.

Everyone here speaks English: the assertions hold whatever the Chinese catalogs say.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlmodel import select

from bot.delivery.sender import OutboxSender
from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.services import proxies
from bot.services.elections import create_election, open_election
from handlers.proxy_render import proxy_notifier
from sandbox.world import ChatEvent, SimUser
from storage.db import SessionFactory
from storage.models import Binding, Election, ElectionCandidate, ProxyAuthorization, ProxyStatus
from tests.e2e.conftest import Harness
from tests.factories import Roll, grant, make_village

ZONE = ZoneInfo("Asia/Shanghai")
DAYS = timedelta(days=1)
MEMBER = "+8613900000001"
PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组"},
    {"name": "王外出", "phone": "+8613800000011", "group": "一组", "migrant": True, "household": "H1"},
    {"name": "王父亲", "phone": "+8613800000012", "group": "一组", "household": "H1"},
    {"name": "李打工", "phone": "+8613800000013", "group": "二组", "migrant": True},
    {"name": "李姐姐", "phone": "+8613800000014", "group": "二组"},
    {"name": "钱候选", "phone": "+8613800000016", "group": "一组"},
    {"name": "周远方", "phone": None, "group": "二组", "migrant": True},
]


async def _press(harness: Harness, user: SimUser, message: ChatEvent, text: str) -> ChatEvent:
    await harness.emu.user_presses(user, message, text=text)
    return await harness.emu.wait_for(user, include_edits=False)


async def _alert(harness: Harness, user: SimUser, message: ChatEvent, text: str) -> str:
    query = await harness.emu.user_presses(user, message, text=text)
    return (await harness.emu.wait_for_callback_answer(query)).text or ""


async def _election(
    sessions: SessionFactory, roll: Roll, *, days_to_go: int = 30, overrides: dict[str, object] | None = None
) -> Election:
    now = datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    assert roll.village.id is not None
    async with sessions() as session:
        created = await create_election(
            session,
            None,
            village_id=roll.village.id,
            kind=ElectionKind.VILLAGE_COMMITTEE,
            title="Qingshan village committee election",
            schedule=Schedule(
                election_day=today + days_to_go * DAYS,
                recommendation=Window(now - DAYS, now + min(5, days_to_go - 1) * DAYS),
            ),
            seats={Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 3},
            overrides=overrides or {},
            now=now - 2 * DAYS,
            zone=ZONE,
        )
    assert created.election is not None and created.election.id is not None, created
    async with sessions() as session:
        opened = await open_election(session, None, created.election.id, now=now)
        assert opened.election is not None, opened
        session.add(
            ElectionCandidate(
                election_id=created.election.id,
                position="member",
                person_id=roll.people["钱候选"].id or 0,
                stage="formal",
                fingerprint="0" * 64,
            )
        )
        await session.commit()
    return opened.election


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "form.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    )
    return re.sub(r"\s+", "", out.stdout)


async def _ask_holder(harness: Harness, user: SimUser, typed: str, person: str, relation: str) -> ChatEvent:
    """/proxy up to the confirmation: returns the bot's answer to "Yes, ask them".

    After a refused request the search is still open: /proxy first ends it (one line says so)."""
    await harness.emu.user_sends(user, "/proxy")
    prompt = await harness.emu.wait_for(user, lambda e: not e.content.startswith("What you had started"))
    assert "a near relative who votes in this village can vote for you" in prompt.content, prompt.content
    matches = await harness.say(user, typed)
    relations = await _press(
        harness, user, matches, next(b for b in matches.button_texts if b.startswith(person))
    )
    assert relations.content == "What is this person to you?"
    confirm = await _press(harness, user, relations, relation)
    return await _press(harness, user, confirm, "✅ Yes, ask them")


async def test_intent_request_accept_approve_publish_and_election_day(
    harness: Harness, sessions: SessionFactory, tmp_path: Path
) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    member = await harness.linked("Zhao", MEMBER)
    worker = await harness.linked("Wang Waichu", "+8613800000011")
    father = await harness.linked("Wang Fuqin", "+8613800000012")
    li = await harness.linked("Li Dagong", "+8613800000013")
    sister = await harness.linked("Li Jiejie", "+8613800000014")
    election = await _election(sessions, roll)
    assert election.id is not None

    assert (
        await harness.say(li, "/proxies")
    ).content == "Sorry, this is only for the village's election committee."

    # The committee asks every migrant worker; the one not on Telegram is named for a phone call.
    overview = await harness.say(member, "/proxies")
    assert overview.content == "Qingshan village committee election: 0 proxy requests under way."
    asked = await _press(harness, member, overview, "Ask migrant workers")
    assert asked.content.startswith("Asked 2 migrant workers how they will take part.")
    assert "周远方" in asked.content
    question = await harness.emu.wait_for(
        worker, lambda e: "how will you take part?" in e.content, timeout=10
    )
    assert question.button_texts == [
        "🏠 I will come home to vote",
        "🤝 A relative will vote for me",
        "🙋 I need help to vote",
        "✖ I will not take part",
    ]
    li_question = await harness.emu.wait_for(li, lambda e: "how will you take part?" in e.content, timeout=10)
    assert (await _press(harness, li, li_question, "🏠 I will come home to vote")).content.startswith(
        "Recorded:"
    )

    # "A relative will vote for me" goes straight on to the proxy request.
    recorded = await _press(harness, worker, question, "🤝 A relative will vote for me")
    assert recorded.content == "Recorded: 🤝 A relative will vote for me. Thank you."
    prompt = await harness.emu.wait_for(worker, include_edits=False)
    assert "a near relative who votes in this village can vote for you" in prompt.content
    matches = await harness.say(worker, "王父")
    assert matches.button_texts == ["王父亲 · 一组"]
    relations = await _press(harness, worker, matches, "王父亲 · 一组")
    confirm = await _press(harness, worker, relations, "father or mother")
    assert confirm.content.startswith("Ask your father or mother to vote for you?")
    sent = await _press(harness, worker, confirm, "✅ Yes, ask them")
    assert sent.content.startswith("Sent. 王父亲 is asked to vote for you")

    request = await harness.emu.wait_for(
        father, lambda e: "asks you to vote for them" in e.content, timeout=10
    )
    assert "you are their father or mother" in request.content
    thanks = await _press(harness, father, request, "✅ Yes, I will vote for them")
    assert thanks.content.startswith("Thank you. You agreed to vote for 王外出.")
    await harness.emu.wait_for(
        worker, lambda e: e.content.startswith("王父亲 agreed to vote for you"), timeout=10
    )

    # The committee sees the answers per group, then approves.
    await harness.emu.wait_for(member, lambda e: e.content.startswith("Finished “Migrant workers asked"))
    overview = await harness.say(member, "/proxies")
    assert overview.content == "Qingshan village committee election: 1 proxy requests under way."
    line = await harness.emu.wait_for(member, include_edits=False)
    assert (
        "王外出 (一组) → 王父亲 (一组), father or mother" in line.content
        and "Same household." in line.content
    )
    answers = await _press(harness, member, overview, "Their answers")
    assert "🤝 A relative will vote for me 1" in answers.content and "Not answered: 周远方" in answers.content
    approved = await _press(harness, member, line, "✅ Approve")
    assert approved.content.startswith("Approved.")
    assert "already decided" in await _alert(harness, member, line, "✅ Approve")  # approving twice

    told = await harness.emu.wait_for(
        worker, lambda e: "approved: 王父亲 will vote for you" in e.content, timeout=10
    )
    assert "sign it and give it to the election committee" in told.content
    form = await harness.emu.wait_for(worker, lambda e: e.document is not None, timeout=10)
    assert form.document is not None
    text = _pdf_text(harness.emu.file_bytes(form.document.file_id), tmp_path)
    async with sessions() as session:
        row = (await session.exec(select(ProxyAuthorization))).one()
    assert "王外出" in text and "王父亲" in text and row.verification_code in text
    await harness.emu.wait_for(father, lambda e: "you will vote for 王外出" in e.content, timeout=10)

    # The published list reaches the village; the roster names who collects whose ballot.
    overview = await harness.say(member, "/proxies")
    harness.emu.skip_pending(member)
    published = await harness.emu.user_presses(member, overview, text="Publish the proxy list")
    assert published
    done = await harness.emu.wait_for(
        member, lambda e: e.content.startswith("Published. Fingerprint"), timeout=20
    )
    digest = re.search(r"[0-9a-f]{64}", done.content)
    assert digest is not None
    notice = await harness.emu.wait_for(
        sister, lambda e: "Proxy vote list of 青山村" in e.content, timeout=10
    )
    assert "1 villagers have a near relative vote for them" in notice.content
    await harness.emu.user_presses(member, overview, text="Ballot roster")
    roster = await harness.emu.wait_for(
        member, lambda e: e.content.startswith("Ballot roster of proxy votes")
    )
    assert "王父亲 (一组) collects the ballots of: 王外出" in roster.content

    # Election day: the holder is told whom he votes for.
    outbox: OutboxSender = harness.app.dispatcher["outbox"]
    async with sessions() as session:
        lists = await proxies.send_holder_lists(
            session,
            None,  # the reminders' scheduler calls it, as the shell does
            election.id,
            now=datetime.combine(election.election_day, datetime.min.time(), tzinfo=ZONE)
            + timedelta(hours=7),
            zone=ZONE,
            notify=proxy_notifier(harness.app.i18n),
            default_locale="zh_Hans",
        )
    assert lists.sent == 1
    outbox.wake()
    day = await harness.emu.wait_for(
        father, lambda e: e.content.startswith("Today is election day"), timeout=10
    )
    assert "• 王外出 (father or mother)" in day.content


async def test_refusals_revocation_and_unlinking_mid_flow(harness: Harness, sessions: SessionFactory) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    await harness.linked("Zhao", MEMBER)
    worker = await harness.linked("Wang Waichu", "+8613800000011")
    father = await harness.linked("Wang Fuqin", "+8613800000012")
    li = await harness.linked("Li Dagong", "+8613800000013")
    await _election(sessions, roll, overrides={"proxy_cap": 1})

    # A candidate cannot hold proxies (ZJ 25); a relationship the province does not list is refused.
    refused = await _ask_holder(harness, li, "钱", "钱候选", "brother or sister")
    assert "钱候选 is a candidate in this election" in refused.content and "Zhejiang" in refused.content
    other = await _ask_holder(harness, li, "李姐", "李姐姐", "other near relative")
    assert other.content.startswith("In this election only these near relatives can vote for you:")

    await harness.say(worker, "/proxy")
    matches = await harness.say(worker, "王父")
    relations = await _press(harness, worker, matches, matches.button_texts[0])
    confirm = await _press(harness, worker, relations, "father or mother")
    assert (await _press(harness, worker, confirm, "✅ Yes, ask them")).content.startswith("Sent.")
    # A second press of the same button: one active request per principal.
    again = await _press(harness, worker, confirm, "✅ Yes, ask them")
    assert again.content.startswith("You have already asked someone to vote for you.")
    # The father is at the cap (1 here, by the committee's choice): Li is refused.
    capped = await _ask_holder(harness, li, "王父", "王父亲", "brother or sister")
    assert capped.content.startswith("王父亲 already votes for 1 people, the most allowed")
    # No chains: the worker has delegated, so nobody can delegate to the worker.
    chain = await _ask_holder(harness, li, "王外", "王外出", "brother or sister")
    assert "王外出 has asked someone else to vote for them" in chain.content
    status = await harness.say(worker, "/proxy")
    assert (
        "You asked 王父亲 (father or mother) to vote for you: waiting for the relative's answer."
        in status.content
    )

    # The holder presses "yes" on a request the worker revoked a moment earlier.
    request = await harness.emu.wait_for(
        father, lambda e: "asks you to vote for them" in e.content, timeout=10
    )
    taken = await _press(harness, worker, status, "Take it back")
    assert taken.content.startswith("Taken back.")
    assert "taken back by the person who made it" in await _alert(
        harness, father, request, "✅ Yes, I will vote for them"
    )
    await harness.emu.wait_for(father, lambda e: "took back the request" in e.content, timeout=10)

    # The father holds a request from Li now; he cannot then delegate his own vote.
    assert (await _ask_holder(harness, li, "王父", "王父亲", "brother or sister")).content.startswith("Sent.")
    held = await harness.say(father, "/proxy")
    assert "李打工 asked you to vote for them: waiting for the relative's answer." in held.content
    yes = await harness.emu.wait_for(father, lambda e: e.button_texts[:1] == ["✅ Yes, I will vote for them"])
    assert (await _press(harness, father, yes, "✖ No")).content == "You said no. 李打工 will be told."
    await harness.emu.wait_for(li, lambda e: e.content.startswith("王父亲 cannot vote for you"), timeout=10)

    # Unlinked mid-flow: the worker starts a request, the binding goes, then "Yes, ask them".
    status = await harness.say(worker, "/proxy")
    assert "You asked 王父亲 (father or mother) to vote for you: taken back." in status.content
    await harness.emu.wait_for(worker, lambda e: "a near relative who votes in this village" in e.content)
    matches = await harness.say(worker, "李姐")
    relations = await _press(harness, worker, matches, matches.button_texts[0])
    confirm = await _press(harness, worker, relations, "brother or sister")
    async with sessions() as session:
        await session.exec(delete(Binding).where(Binding.person_id == roll.people["王外出"].id))  # type: ignore[call-overload]
        await session.commit()
    gone = await _press(harness, worker, confirm, "✅ Yes, ask them")
    assert gone.content.startswith("Your Telegram is not linked to the voter roll")
    async with sessions() as session:
        rows = (await session.exec(select(ProxyAuthorization))).all()
    assert sorted(r.status for r in rows) == sorted([ProxyStatus.REVOKED.value, ProxyStatus.DECLINED.value])


async def test_after_the_last_day_for_requests_nothing_is_recorded(
    harness: Harness, sessions: SessionFactory
) -> None:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    worker = await harness.linked("Wang Waichu", "+8613800000011")
    await _election(sessions, roll, days_to_go=2)  # ZJ 25: requests until 3 days before
    late = await _ask_holder(harness, worker, "王父", "王父亲", "father or mother")
    assert late.content.startswith("The last day to ask was") and "Nothing was recorded" in late.content
    async with sessions() as session:
        assert (await session.exec(select(ProxyAuthorization))).all() == []

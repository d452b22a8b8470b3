"""The proxy reminders through the emulator, with a controllable clock: migrant workers who have not
said how they will take part are asked again with the answer buttons and drop out once they press
one; a relative who has not answered a request is reminded; on election day each holder is told
whom they vote for. Everyone here speaks English."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine
from sqlmodel import select

from bot.rules.policy import ElectionKind, Position, Relationship
from bot.rules.schedule import Schedule, Window
from bot.services.elections import create_election, open_election
from storage.db import SessionFactory
from storage.models import Election, ProxyAuthorization, ProxyStatus, ReminderWave
from tests.e2e.conftest import Harness
from tests.e2e.test_reminders import ZONE, _deliveries, _scheduler, _tick, at
from tests.factories import Roll, grant, make_village

MEMBER = "+8613900000001"
PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组"},
    {"name": "王外出", "phone": "+8613800000011", "group": "一组", "migrant": True, "household": "H1"},
    {"name": "王父亲", "phone": "+8613800000012", "group": "一组", "household": "H1"},
    {"name": "李打工", "phone": "+8613800000013", "group": "二组", "migrant": True},
    {"name": "李姐姐", "phone": "+8613800000014", "group": "二组"},
    {"name": "周远方", "phone": None, "group": "二组", "migrant": True},
]
DAY = date(2026, 12, 20)  # ZJ 25: proxy requests until 17 December


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    # Started before the bot (list it before `harness`): the scheduler plans with this clock.
    with time_machine.travel(at(1, 10), tick=True) as traveller:
        yield traveller


async def _draft(sessions: SessionFactory, roll: Roll) -> Election:
    assert roll.village.id is not None
    async with sessions() as session:
        created = await create_election(
            session,
            None,
            village_id=roll.village.id,
            kind=ElectionKind.VILLAGE_COMMITTEE,
            title="Qingshan village committee election",
            schedule=Schedule(election_day=DAY, recommendation=Window(at(2, 9), at(6, 18))),
            seats={Position.DIRECTOR: 1, Position.DEPUTY: 1, Position.MEMBER: 3},
            overrides={},
            now=at(1, 10),
            zone=ZONE,
        )
    assert created.election is not None and created.election.id is not None, created
    return created.election


async def _election(sessions: SessionFactory, roll: Roll) -> Election:
    draft = await _draft(sessions, roll)
    async with sessions() as session:
        opened = await open_election(session, None, draft.id or 0, now=at(1, 10))
    assert opened.election is not None, opened
    return opened.election


def _proxy(
    election: Election, roll: Roll, principal: str, holder: str, **values: object
) -> ProxyAuthorization:
    return ProxyAuthorization(
        election_id=election.id or 0,
        principal_person_id=roll.people[principal].id or 0,
        holder_person_id=roll.people[holder].id or 0,
        relationship=Relationship.PARENT.value if holder == "王父亲" else Relationship.SIBLING.value,
        verification_code=f"V{principal}",
        **values,  # type: ignore[arg-type]
    )


async def test_proxy_waves_reach_who_still_has_something_to_do(
    clock: time_machine.Traveller, harness: Harness, sessions: SessionFactory
) -> None:
    emu, app = harness.emu, harness.app
    roll = await make_village(sessions, "青山村", province="ZJ", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    wang = await harness.linked("Wang", "+8613800000011")
    father = await harness.linked("Father", "+8613800000012")
    li = await harness.linked("Li", "+8613800000013")
    sister = await harness.linked("Sister", "+8613800000014")
    election = await _election(sessions, roll)
    async with sessions() as session:
        # 王外出's proxy is approved and on the published list; 李打工's waits for his sister's answer.
        session.add(
            _proxy(
                election,
                roll,
                "王外出",
                "王父亲",
                status=ProxyStatus.APPROVED.value,
                form_received_at=at(2, 10),
                published_on=date(2026, 12, 2),
            )
        )
        session.add(_proxy(election, roll, "李打工", "李姐姐"))
        await session.commit()
    await _scheduler(app).rebuild(election_ids=[election.id or 0])
    async with sessions() as session:
        kinds = {w.kind for w in (await session.exec(select(ReminderWave))).all()}
    assert {"proxy_intent_close_48h", "proxy_holder_close_24h", "election_day_holders"} <= kinds

    # Two days before the deadline's end: both migrant workers are asked, with the answer buttons.
    await _tick(app, clock, at(16, 8, 0, 1))
    asked = await emu.wait_for(wang, lambda e: "how you will take part" in e.content, timeout=10)
    assert "17 December" in asked.content or "December 17" in asked.content
    await emu.wait_for(li, lambda e: "how you will take part" in e.content, timeout=10)
    reminded = await emu.wait_for(sister, lambda e: "waiting for your answer" in e.content, timeout=10)
    assert "/proxy" in reminded.content
    # 王外出 answers from the reminder itself.
    await emu.user_presses(wang, asked, text="🏠 I will come home to vote")
    await emu.wait_for(wang, lambda e: e is not asked, include_edits=True, timeout=10)

    await _tick(app, clock, at(17, 8, 0, 1))
    await emu.wait_for(li, lambda e: "how you will take part" in e.content, timeout=10)
    assert await _deliveries(sessions, "proxy_intent") == {
        "proxy_intent_close_48h": 2,
        "proxy_intent_close_24h": 1,  # 王外出 answered; 周远方 is not on Telegram
    }

    # Election day: the father is told whom he votes for; the sister's request was never approved.
    await _tick(app, clock, at(20, 8, 0, 1))
    told = await emu.wait_for(father, lambda e: "Today is election day" in e.content, timeout=10)
    assert "王外出" in told.content
    assert await _deliveries(sessions, "election_day_holders") == {"election_day_holders": 1}
    assert not any("Today is election day of" in e.content for e in emu.bot_messages(sister.id))


async def test_opening_an_election_in_chat_asks_the_migrant_workers(
    clock: time_machine.Traveller, harness: Harness, sessions: SessionFactory
) -> None:
    emu = harness.emu
    roll = await make_village(sessions, "青山村", province="ZJ", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    member = emu.create_user("赵主任", language_code="zh-hans")
    await emu.user_shares_contact(member, MEMBER.removeprefix("+"))
    await emu.wait_for(member)
    wang = await harness.linked("Wang", "+8613800000011")
    await _draft(sessions, roll)
    listed = await harness.say(member, "/elections")
    await harness.press(member, listed, "开放推荐")
    report = await emu.wait_for(member, lambda e: "外出务工人员" in e.content, timeout=10)
    assert "1" in report.content and "周远方" in report.content  # not on Telegram: phone him
    asked = await emu.wait_for(wang, lambda e: "how will you take part" in e.content, timeout=10)
    assert len(asked.button_texts) == 4

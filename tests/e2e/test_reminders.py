"""Reminders through the emulator, with a controllable clock: a whole election's plan fires in order to
the right people, quiet hours defer, a restart neither loses nor repeats a wave, a moved deadline
re-plans, a second process sends nothing, and /reminders works for the committee and for villagers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import col, func, select

from bot.app import Application, open_application
from bot.config import Settings
from bot.rules.policy import ElectionKind
from bot.scheduling import ReminderScheduler
from sandbox.emulator import Emulator
from sandbox.testing import audit
from sandbox.world import SimUser
from storage.db import SessionFactory
from storage.models import (
    Broadcast,
    Delivery,
    Election,
    ElectionStatus,
    Participation,
    ReminderWave,
    TrustVoter,
)
from tests.e2e.conftest import Harness
from tests.factories import Roll, grant, make_village

ZONE = ZoneInfo("Asia/Shanghai")
MEMBER = "+8613900000001"
PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER, "group": "一组"},
    {"name": "王建国", "phone": "+8613800000001", "group": "一组", "party_member": True},
    {"name": "李秀英", "phone": "+8613800000002", "group": "二组"},
    {"name": "张三", "phone": "+8613800000003", "group": "二组"},
]


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=ZONE)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    # Started before the bot (list it before `harness`): the scheduler plans with this clock.
    with time_machine.travel(at(1, 10), tick=True) as traveller:
        yield traveller


async def _village(sessions: SessionFactory) -> Roll:
    roll = await make_village(sessions, "青山村", people=PEOPLE)
    await grant(sessions, roll.village, MEMBER, "committee")
    return roll


async def _election(sessions: SessionFactory, roll: Roll) -> Election:
    assert roll.village.id is not None
    async with sessions() as session:
        election = Election(
            village_id=roll.village.id,
            kind=ElectionKind.PARTY_TWO_BALLOTS.value,
            province="zj",
            title="村党支部换届",
            status=ElectionStatus.OPEN.value,
            election_day=date(2026, 12, 20),
            recommendation_opens=at(3, 9),
            recommendation_closes=at(6, 18),
            trust_vote_opens=at(8, 9),
            trust_vote_closes=at(11, 18),
        )
        session.add(election)
        await session.commit()
        return election


async def _linked(emu: Emulator, name: str, phone: str) -> SimUser:
    user = emu.create_user(name, language_code="zh-hans")
    await emu.user_shares_contact(user, phone.removeprefix("+"))
    await emu.wait_for(user)
    return user


def _scheduler(app: Application) -> ReminderScheduler:
    scheduler = app.dispatcher["reminders"]
    assert isinstance(scheduler, ReminderScheduler)
    return scheduler


async def _tick(app: Application, clock: time_machine.Traveller, moment: datetime) -> None:
    clock.move_to(moment, tick=True)
    _scheduler(app).wakeup()
    await asyncio.sleep(0.3)  # let a job that is due start


async def _deliveries(sessions: SessionFactory, kind: str) -> dict[str, int]:
    """How many copies each wave sent, by wave kind (reminder broadcasts are titled with the wave key)."""
    async with sessions() as session:
        rows = (
            await session.exec(
                select(Broadcast.title, func.count(col(Delivery.id)))
                .join(Delivery, col(Delivery.broadcast_id) == col(Broadcast.id))
                .where(Broadcast.kind == "reminder")
                .group_by(Broadcast.title)
            )
        ).all()
    return {title.rsplit(":", 1)[1]: count for title, count in rows if kind in title}


async def _wave(sessions: SessionFactory, kind: str) -> ReminderWave:
    async with sessions() as session:
        return (await session.exec(select(ReminderWave).where(ReminderWave.kind == kind))).one()


async def test_a_whole_election_reminds_the_right_people_in_order(
    clock: time_machine.Traveller, harness: Harness, sessions: SessionFactory
) -> None:
    emu, app = harness.emu, harness.app
    roll = await _village(sessions)
    member = await _linked(emu, "赵主任", MEMBER)
    wang = await _linked(emu, "建国", "+8613800000001")
    li = await _linked(emu, "秀英", "+8613800000002")
    zhang = await _linked(emu, "张三", "+8613800000003")
    election = await _election(sessions, roll)
    await _scheduler(app).rebuild(election_ids=[election.id or 0])  # after the dates were set
    assert len([j for j in _scheduler(app).job_ids() if j.startswith("reminder:election:")]) == 7

    # Nothing before its time.
    await _tick(app, clock, at(3, 8, 59))
    assert await _deliveries(sessions, "election") == {}

    await _tick(app, clock, at(3, 9, 0, 1))
    for user in (member, wang, li, zhang):
        opened = await emu.wait_for(user, lambda e: "开始推荐候选人" in e.content, timeout=10)
        assert "村党支部换届" in opened.content and "/recommend" in opened.content

    # 王建国 recommends; 李秀英 turns reminders off in chat.
    async with sessions() as session:
        session.add(
            Participation(
                election_id=election.id or 0, round="party", person_id=roll.people["王建国"].id or 0
            )
        )
        await session.commit()
    state = await harness.say(li, "/reminders")
    assert "提醒已开" in state.content
    muted = await harness.press(li, state, "🔕 关掉提醒")
    assert "提醒已关" in muted.content

    await _tick(app, clock, at(4, 18, 0, 1))
    for user in (member, zhang):
        nudge = await emu.wait_for(user, lambda e: "您还没参加" in e.content, timeout=10)
        assert "/recommend" in nudge.content
    await _tick(app, clock, at(5, 18, 0, 1))
    await emu.wait_for(zhang, lambda e: "您还没参加" in e.content, timeout=10)
    assert await _deliveries(sessions, "recommendation") == {
        "recommendation_opens": 4,
        "recommendation_close_48h": 2,
        "recommendation_close_24h": 2,
    }
    assert not any("您还没参加" in e.content for e in emu.bot_messages(wang.id) + emu.bot_messages(li.id))

    # The trust vote opens at 06:00 after a change: quiet hours move it to 08:00.
    async with sessions() as session:
        row = await session.get(Election, election.id)
        assert row is not None
        row.trust_vote_opens = at(8, 6)
        session.add(row)
        await session.commit()
    await _scheduler(app).rebuild(election_ids=[election.id or 0])
    assert (await _wave(sessions, "trust_vote_opens")).due_at == at(8, 8).astimezone(UTC)
    await _tick(app, clock, at(8, 6, 0, 1))
    assert "trust_vote_opens" not in await _deliveries(sessions, "trust")
    await _tick(app, clock, at(8, 8, 0, 1))
    await emu.wait_for(zhang, lambda e: "信任投票开始了" in e.content, timeout=10)
    await _tick(app, clock, at(9, 18, 0, 1))
    await emu.wait_for(zhang, lambda e: "信任投票您还没投" in e.content, timeout=10)
    # 张三 votes: the last call is not for him.
    async with sessions() as session:
        session.add(TrustVoter(election_id=election.id or 0, person_id=roll.people["张三"].id or 0))
        await session.commit()
    await _tick(app, clock, at(10, 18, 0, 1))
    await emu.wait_for(wang, lambda e: "信任投票您还没投" in e.content, timeout=10)
    assert await _deliveries(sessions, "trust") == {
        "trust_vote_opens": 3,
        "trust_vote_close_48h": 3,
        "trust_vote_close_24h": 2,
    }

    # Election-day morning reaches everyone who has not muted reminders, with what to bring.
    await _tick(app, clock, at(20, 8, 0, 1))
    morning = await emu.wait_for(wang, lambda e: "是选举日" in e.content, timeout=10)
    assert "身份证" in morning.content
    sent = await _deliveries(sessions, "election")
    assert sent["election_day_morning"] == 3
    # Every wave of the election went out once, in the order of the plan.
    async with sessions() as session:
        waves = (await session.exec(select(ReminderWave).order_by(col(ReminderWave.fired_at)))).all()
    assert [w.kind for w in waves if w.status == "sent"] == [
        "recommendation_opens",
        "recommendation_close_48h",
        "recommendation_close_24h",
        "trust_vote_opens",
        "trust_vote_close_48h",
        "trust_vote_close_24h",
        "election_day_morning",
    ]


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Application]:
    """One bot process: started like `cunmin run`, stopped at the end of the block."""
    async with open_application(settings) as app:
        started = asyncio.Event()

        async def mark_started() -> None:
            started.set()

        app.dispatcher.startup.register(mark_started)
        polling = asyncio.create_task(
            app.dispatcher.start_polling(app.bot, handle_signals=False, close_bot_session=False)
        )
        await asyncio.wait_for(started.wait(), timeout=10)
        try:
            yield app
        finally:
            await app.dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=10)


async def test_restart_neither_loses_nor_repeats_and_a_second_process_stands_by(
    clock: time_machine.Traveller, emulator: Emulator, bot_settings: Settings, sessions: SessionFactory
) -> None:
    roll = await _village(sessions)
    async with running_bot(bot_settings) as app:
        zhang = await _linked(emulator, "张三", "+8613800000003")
        await _linked(emulator, "建国", "+8613800000001")
        election = await _election(sessions, roll)
        await _scheduler(app).rebuild()
        # A second process started by mistake on the same database: it does not become the sender.
        async with running_bot(bot_settings) as second:
            assert _scheduler(app).is_sender and not _scheduler(second).is_sender
            assert _scheduler(second).job_ids() == []
            await _tick(app, clock, at(3, 9, 0, 1))
            _scheduler(second).wakeup()
            await emulator.wait_for(zhang, lambda e: "开始推荐候选人" in e.content, timeout=10)
            assert not await _scheduler(second).try_takeover()
        assert await _deliveries(sessions, "election") == {"recommendation_opens": 2}

    # Down across the 48 h mark: at start-up the missed wave runs (its phase is still open), once.
    # A standby started beside the sender takes over once the sender is gone.
    clock.move_to(at(4, 20), tick=True)
    sender = running_bot(bot_settings)
    first = await sender.__aenter__()
    stopped = False
    try:
        await emulator.wait_for(zhang, lambda e: "您还没参加" in e.content, timeout=10)
        async with running_bot(bot_settings) as standby:
            assert _scheduler(first).is_sender and not _scheduler(standby).is_sender
            await sender.__aexit__(None, None, None)
            stopped = True
            assert await _scheduler(standby).try_takeover()
            assert _scheduler(standby).job_ids() != []
    finally:
        if not stopped:
            await sender.__aexit__(None, None, None)
    async with running_bot(bot_settings) as app:
        await asyncio.sleep(0.5)
        assert _scheduler(app).is_sender
    assert await _deliveries(sessions, "election") == {
        "recommendation_opens": 2,
        "recommendation_close_48h": 2,
    }

    # Down from before the 24 h mark until after recommending closed: skipped, not sent late.
    clock.move_to(at(6, 19), tick=True)
    async with running_bot(bot_settings) as app:
        await asyncio.sleep(0.5)
    wave = await _wave(sessions, "recommendation_close_24h")
    assert wave.status == "skipped" and wave.reason == "phase_closed"
    assert "recommendation_close_24h" not in await _deliveries(sessions, "election")
    assert election.id is not None
    # Every request of every process was valid against the Bot API spec.
    assert emulator.violations == [], emulator.violations
    audit(emulator)


async def test_committee_sees_the_plan_cancels_and_schedules_a_notice(
    clock: time_machine.Traveller, harness: Harness, sessions: SessionFactory
) -> None:
    emu, app = harness.emu, harness.app
    roll = await _village(sessions)
    member = await _linked(emu, "赵主任", MEMBER)
    zhang = await _linked(emu, "张三", "+8613800000003")
    await _election(sessions, roll)
    await _scheduler(app).rebuild()

    plan = await harness.say(member, "/reminders")
    assert "准备发出的提醒" in plan.content
    assert "1. " in plan.content and "推荐开始" in plan.content and "现在会发给 2 人" in plan.content
    await emu.user_presses(member, plan, text="✖ 取消第 1 条提醒")
    done = await emu.wait_for(member, lambda e: e.content.startswith("已取消："), timeout=5)
    assert "推荐开始" in done.content
    assert (await _wave(sessions, "recommendation_opens")).status == "cancelled"
    # The villager's /reminders has no committee buttons, only their own switch.
    own = await harness.say(zhang, "/reminders")
    assert own.button_texts == ["🔕 关掉提醒"]

    ask = await harness.press(member, plan, "➕ 定时发一条通知（青山村）")
    assert "通知的内容" in ask.content
    when = await harness.say(member, "明天上午9点在村委会开会，请准时参加。")
    assert "什么时候发" in when.content
    assert "没看懂" in (await harness.say(member, "明天")).content
    assert "已经过了" in (await harness.say(member, "2026-11-30 08:00")).content
    night = await harness.say(member, "2026-12-01 22:30")
    assert "夜里休息时间" in night.content
    await _tick(app, clock, at(1, 22, 31))
    assert not any("村委会开会" in e.content for e in emu.bot_messages(zhang.id))
    await _tick(app, clock, at(2, 8, 0, 1))
    notice = await emu.wait_for(zhang, lambda e: "村委会开会" in e.content, timeout=10)
    assert "青山村村民选举委员会通知" in notice.content
    # The recommendation opening was cancelled: it never goes out.
    await _tick(app, clock, at(3, 9, 0, 1))
    assert "recommendation_opens" not in await _deliveries(sessions, "election")


async def test_opening_an_election_in_chat_plans_its_reminders_at_once(
    clock: time_machine.Traveller, harness: Harness, sessions: SessionFactory
) -> None:
    emu = harness.emu
    roll = await _village(sessions)
    member = await _linked(emu, "赵主任", MEMBER)
    draft = await _election(sessions, roll)
    async with sessions() as session:
        row = await session.get(Election, draft.id)
        assert row is not None
        row.status = ElectionStatus.DRAFT.value
        session.add(row)
        await session.commit()
    listed = await harness.say(member, "/elections")
    assert "开放推荐" in listed.button_texts
    opened = await harness.press(member, listed, "开放推荐")
    assert "村党支部换届" in opened.content
    async with sessions() as session:
        waves = (await session.exec(select(ReminderWave).where(ReminderWave.status == "planned"))).all()
    assert len(waves) == 7
    assert f"reminder:election:{draft.id}:recommendation_opens" in _scheduler(harness.app).job_ids()
    await _tick(harness.app, clock, at(3, 9, 0, 1))
    await emu.wait_for(member, lambda e: "开始推荐候选人" in e.content, timeout=10)

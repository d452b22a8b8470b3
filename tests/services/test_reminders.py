"""Reminder waves: planned from the database with stable keys, fired once each to the people who still
have something to do, moved by quiet hours and by date changes, refused to non-members."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from bot.rules.policy import ElectionKind
from bot.services import reminders
from bot.services.identity import Me
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.reminders import (
    CancelRefusal,
    FireResult,
    ScheduleRefusal,
    WaveSubject,
)
from storage.db import SessionFactory
from storage.models import (
    Delivery,
    Election,
    ElectionStatus,
    Notice,
    Participation,
    ReminderWave,
    TrustVoter,
)
from tests.factories import Roll
from tests.services.test_elections import committee, me_of, village

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ZONE)


PLAN_TIME = at(1, 12)


def render(subject: WaveSubject, recipient: Recipient) -> MessagePayload:
    return MessagePayload(text=f"{subject.wave.kind} for {recipient.name}")


async def _election(sessions: SessionFactory, roll: Roll, **changes: object) -> Election:
    assert roll.village.id is not None
    values: dict[str, object] = {
        "village_id": roll.village.id,
        "kind": ElectionKind.PARTY_TWO_BALLOTS.value,
        "province": "zj",
        "title": "第十二届村党支部换届",
        "status": ElectionStatus.OPEN.value,
        "election_day": date(2026, 12, 20),
        "recommendation_opens": at(3, 9),
        "recommendation_closes": at(6, 18),
        "trust_vote_opens": at(8, 9),
        "trust_vote_closes": at(11, 18),
    }
    values.update(changes)
    async with sessions() as session:
        election = Election(**values)  # type: ignore[arg-type]
        session.add(election)
        await session.commit()
        return election


async def _waves(sessions: SessionFactory) -> dict[str, ReminderWave]:
    async with sessions() as session:
        rows = (await session.exec(select(ReminderWave))).all()
        return {w.kind: w for w in rows}


async def _plan(sessions: SessionFactory, now: datetime = PLAN_TIME) -> reminders.PlanSummary:
    async with sessions() as session:
        return await reminders.plan_reminders(session, now=now)


async def _fire(sessions: SessionFactory, key: str, now: datetime) -> reminders.FireOutcome:
    async with sessions() as session:
        return await reminders.fire_wave(session, key=key, now=now, render=render, default_locale="zh_Hans")


async def _texts(sessions: SessionFactory, broadcast_id: int | None) -> set[str]:
    async with sessions() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.broadcast_id == broadcast_id))).all()
        return {MessagePayload.from_json(d.payload).text or "" for d in rows}


async def _linked(sessions: SessionFactory, roll: Roll, names: list[str]) -> dict[str, Me]:
    return {name: await me_of(sessions, 500 + i, roll.people[name]) for i, name in enumerate(names)}


async def test_plan_has_stable_keys_due_times_and_is_idempotent(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await _election(sessions, roll)
    summary = await _plan(sessions)
    assert summary.planned == 7 and summary.moved == summary.skipped == summary.cancelled == 0
    waves = await _waves(sessions)
    assert waves["trust_vote_close_24h"].key == f"election:{election.id}:trust_vote_close_24h"
    assert waves["trust_vote_close_24h"].due_at == at(10, 18).astimezone(UTC)
    assert waves["trust_vote_close_24h"].deadline_at == at(11, 18).astimezone(UTC)
    # Election day morning: 07:00 is quiet (21:00-08:00), so 08:00.
    assert waves["election_day_morning"].due_at == at(20, 8).astimezone(UTC)
    assert not waves["trust_vote_opens"].essential
    again = await _plan(sessions, PLAN_TIME + timedelta(hours=1))
    assert again == reminders.PlanSummary()
    assert len(await _waves(sessions)) == 7


async def test_a_whole_plan_fires_in_order_and_people_who_acted_drop_out(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await _election(sessions, roll)
    people = await _linked(sessions, roll, ["王建国", "李秀英", "张三", "王建军"])
    member = await committee(sessions, roll)
    assert election.id is not None and roll.village.id is not None
    await _plan(sessions)
    async with sessions() as session:
        planned = await reminders.upcoming_waves(session, member, default_locale="zh_Hans", limit=20)
    order = [line.wave.kind for line in planned]
    assert order == [
        "recommendation_opens",
        "recommendation_close_48h",
        "recommendation_close_24h",
        "trust_vote_opens",
        "trust_vote_close_48h",
        "trust_vote_close_24h",
        "election_day_morning",
    ]
    # Five linked people (the member too) would be reached by each wave now.
    assert {line.reach for line in planned} == {5}

    opens = await _fire(sessions, planned[0].wave.key, at(3, 9))
    assert opens.result is FireResult.SENT and opens.recipients == 5

    # 王建国 recommends; 李秀英 mutes reminders: neither hears "48 h left".
    async with sessions() as session:
        session.add(
            Participation(election_id=election.id, round="party", person_id=roll.people["王建国"].id or 0)
        )
        await session.commit()
        await reminders.set_reminders_muted(session, people["李秀英"], muted=True, now=at(4, 10))
    left = await _fire(sessions, planned[1].wave.key, at(4, 18))
    assert left.result is FireResult.SENT and left.recipients == 3
    assert await _texts(sessions, left.broadcast_id) == {
        "recommendation_close_48h for 赵主任",
        "recommendation_close_48h for 张三",
        "recommendation_close_48h for 王建军",
    }

    # Trust vote: 张三 votes before the last call.
    async with sessions() as session:
        session.add(TrustVoter(election_id=election.id, person_id=roll.people["张三"].id or 0))
        await session.commit()
    last = await _fire(sessions, planned[5].wave.key, at(10, 18))
    assert await _texts(sessions, last.broadcast_id) == {
        "trust_vote_close_24h for 赵主任",
        "trust_vote_close_24h for 王建国",
        "trust_vote_close_24h for 王建军",
    }


async def test_a_wave_never_fires_twice_even_from_two_processes(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    await _election(sessions, roll)
    await _linked(sessions, roll, ["王建国", "李秀英"])
    await _plan(sessions)
    key = (await _waves(sessions))["recommendation_opens"].key
    first, second = await asyncio.gather(_fire(sessions, key, at(3, 9)), _fire(sessions, key, at(3, 9)))
    assert sorted([first.result, second.result]) == sorted([FireResult.SENT, FireResult.ALREADY_SETTLED])
    assert (await _fire(sessions, key, at(3, 10))).result is FireResult.ALREADY_SETTLED
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Delivery))).one() == 2
    # A re-plan after sending leaves the sent wave alone.
    await _plan(sessions, at(3, 10))
    assert (await _waves(sessions))["recommendation_opens"].status == "sent"


async def test_not_due_too_late_and_quiet_hours_at_firing(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    await _election(sessions, roll)
    await _linked(sessions, roll, ["王建国"])
    await _plan(sessions)
    waves = await _waves(sessions)
    assert (await _fire(sessions, waves["trust_vote_opens"].key, at(8, 8))).result is FireResult.NOT_DUE
    # The bot came back at 22:00: the wave waits for the morning instead of waking people.
    deferred = await _fire(sessions, waves["trust_vote_opens"].key, at(8, 22))
    assert deferred.result is FireResult.DEFERRED and deferred.due_at == at(9, 8).astimezone(UTC)
    assert (await _fire(sessions, waves["trust_vote_opens"].key, at(9, 8))).result is FireResult.SENT
    late = await _fire(sessions, waves["recommendation_close_24h"].key, at(6, 18))
    assert late.result is FireResult.TOO_LATE
    assert (await _waves(sessions))["recommendation_close_24h"].reason == "phase_closed"


async def test_missed_waves_run_if_still_useful_else_are_skipped(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    await _election(sessions, roll)
    await _plan(sessions)
    # Down from before the recommendation opened until the 24 h mark of the trust vote.
    async with sessions() as session:
        fire = await reminders.settle_missed(session, now=at(10, 19))
    waves = await _waves(sessions)
    assert fire == [waves["trust_vote_close_24h"].key]
    assert waves["recommendation_opens"].status == "skipped"
    assert waves["recommendation_opens"].reason == "phase_closed"
    assert waves["trust_vote_close_48h"].reason == "superseded"
    assert waves["election_day_morning"].status == "planned"


async def test_moved_deadline_re_plans(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await _election(sessions, roll)
    await _plan(sessions)
    async with sessions() as session:
        row = await session.get(Election, election.id)
        assert row is not None
        row.trust_vote_closes = at(12, 18)
        session.add(row)
        await session.commit()
    async with sessions() as session:
        summary = await reminders.plan_reminders(session, now=PLAN_TIME, election_ids=[election.id or 0])
    assert summary.moved == 3  # the opening wave too: its deadline moved
    assert (await _waves(sessions))["trust_vote_close_24h"].due_at == at(11, 18).astimezone(UTC)
    # Moved earlier than now: the waves of the closed phase are skipped, with the reason.
    async with sessions() as session:
        row = await session.get(Election, election.id)
        assert row is not None
        row.recommendation_closes = at(3, 10)
        session.add(row)
        await session.commit()
    summary = await _plan(sessions, at(3, 11))
    waves = await _waves(sessions)
    assert waves["recommendation_close_24h"].status == "skipped"
    assert waves["recommendation_close_24h"].reason == "phase_closed"
    assert summary.skipped == 3  # the opening wave too: it was not sent before the phase closed


async def test_closed_election_cancels_its_waves(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    election = await _election(sessions, roll)
    await _plan(sessions)
    async with sessions() as session:
        row = await session.get(Election, election.id)
        assert row is not None
        row.status = ElectionStatus.CLOSED.value
        session.add(row)
        await session.commit()
    assert (await _plan(sessions)).cancelled == 7
    assert {w.status for w in (await _waves(sessions)).values()} == {"cancelled"}


async def test_objection_deadline_reaches_muted_people(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    people = await _linked(sessions, roll, ["王建国", "李秀英"])
    assert roll.village.id is not None
    async with sessions() as session:
        session.add(
            Notice(
                village_id=roll.village.id,
                kind="publicity",
                title="选民名单公示",
                body="名单见附件",
                audience="all",
                draft_key="k1",
                created_at=at(1, 9),
                objection_deadline=at(6, 18),
            )
        )
        await session.commit()
        await reminders.set_reminders_muted(session, people["李秀英"], muted=True, now=at(1, 10))
    await _plan(sessions)
    wave = (await _waves(sessions))["objection_deadline"]
    assert wave.essential and wave.due_at == at(5, 18).astimezone(UTC)
    sent = await _fire(sessions, wave.key, at(5, 18))
    assert "objection_deadline for 李秀英" in await _texts(sessions, sent.broadcast_id)


async def test_cancel_and_custom_notice_are_for_the_committee_only(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    await _election(sessions, roll)
    member = await committee(sessions, roll)
    villager = (await _linked(sessions, roll, ["王建国"]))["王建国"]
    assert roll.village.id is not None
    await _plan(sessions)
    wave = (await _waves(sessions))["trust_vote_opens"]
    assert wave.id is not None
    async with sessions() as session:
        assert (
            await reminders.cancel_wave(session, villager, wave.id, now=PLAN_TIME)
            is CancelRefusal.NOT_ALLOWED
        )
        cancelled = await reminders.cancel_wave(session, member, wave.id, now=PLAN_TIME)
        assert isinstance(cancelled, ReminderWave) and cancelled.status == "cancelled"
        again = await reminders.cancel_wave(session, member, wave.id, now=PLAN_TIME)
        assert again is CancelRefusal.ALREADY_SETTLED
        assert (
            await reminders.cancel_wave(session, member, 99999, now=PLAN_TIME) is CancelRefusal.UNKNOWN_WAVE
        )
    assert (await _fire(sessions, wave.key, at(8, 9))).result is FireResult.ALREADY_SETTLED
    await _plan(sessions)  # a re-plan does not bring it back
    assert (await _waves(sessions))["trust_vote_opens"].status == "cancelled"

    async def schedule(me: Me, text: str, send_at: datetime) -> reminders.ScheduleOutcome:
        async with sessions() as session:
            return await reminders.schedule_custom_notice(
                session, me, village_id=roll.village.id or 0, text=text, send_at=send_at, now=PLAN_TIME
            )

    assert (await schedule(villager, "开会", at(4, 8))).refusal is ScheduleRefusal.NOT_ALLOWED
    assert (await schedule(member, "  ", at(4, 8))).refusal is ScheduleRefusal.EMPTY_TEXT
    assert (await schedule(member, "开会", at(1, 11))).refusal is ScheduleRefusal.IN_THE_PAST
    assert (await schedule(member, "开" * 4000, at(4, 8))).refusal is ScheduleRefusal.TEXT_TOO_LONG
    assert (
        await schedule(member, "开会", PLAN_TIME + timedelta(days=400))
    ).refusal is ScheduleRefusal.TOO_FAR
    night = await schedule(member, "明早开会", at(4, 22))
    assert night.deferred and night.wave is not None and night.wave.due_at == at(5, 8).astimezone(UTC)
    sent = await _fire(sessions, night.wave.key, at(5, 8))
    assert sent.result is FireResult.SENT and sent.recipients == 2


async def test_village_settings_change_quiet_hours_and_zone(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    assert roll.village.id is not None
    await _election(sessions, roll, trust_vote_opens=at(8, 7, 30))
    async with sessions() as session:
        bad = await reminders.set_reminder_settings(
            session, village_id=roll.village.id, time_zone="Mars/Base"
        )
        assert bad is reminders.SettingsRefusal.UNKNOWN_ZONE
        assert (
            await reminders.set_reminder_settings(session, village_id=99999)
            is reminders.SettingsRefusal.UNKNOWN_VILLAGE
        )
        await reminders.set_reminder_settings(
            session, village_id=roll.village.id, quiet_start=time(22, 0), quiet_end=time(7, 0)
        )
    await _plan(sessions)
    assert (await _waves(sessions))["trust_vote_opens"].due_at == at(8, 7, 30).astimezone(UTC)
    assert (await _waves(sessions))["election_day_morning"].due_at == at(20, 7).astimezone(UTC)


async def test_a_wave_already_past_when_first_planned_is_not_sent_late(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    await _linked(sessions, roll, ["王建国"])
    # Opened after its window began: no "recommending has started" an hour late, the rest as usual.
    await _election(sessions, roll, recommendation_opens=at(1, 11))
    summary = await _plan(sessions, at(1, 12))
    assert summary.skipped == 1 and summary.planned == 6
    waves = await _waves(sessions)
    assert waves["recommendation_opens"].status == "skipped"
    assert waves["recommendation_opens"].reason == "past_when_planned"
    await _plan(sessions, at(1, 13))  # a re-plan does not bring it back
    assert (await _waves(sessions))["recommendation_opens"].status == "skipped"
    async with sessions() as session:
        assert await reminders.settle_missed(session, now=at(1, 13)) == []
    assert (await _waves(sessions))["recommendation_close_48h"].status == "planned"

"""The "results are now final" wave: planned from a published results entry, sent to the whole village
the morning after its objection window closed, cancelled for a version a correction replaced, never sent
twice across re-plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlmodel import select

from bot.i18n import build_i18n
from bot.services import reminders
from bot.services.reminders import FireResult
from bot.services.results import VoteLine, confirm_results
from handlers.reminder_render import wave_renderer
from storage.db import SessionFactory
from storage.models import Delivery, ReminderWave, ResultEntry
from tests.results_setup import ResultsElection, good_tally, results_election
from tests.services.test_results import NOW, ZONE, bind_villagers, enter, member, publish

RENDER = wave_renderer(build_i18n("zh_Hans"))


async def _published(sessions: SessionFactory, setup: ResultsElection, tmp_path: Path) -> ResultEntry:
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    entry = (await enter(sessions, first, setup, good_tally())).entry
    assert entry is not None and entry.id is not None
    async with sessions() as session:
        await confirm_results(session, second, entry.id, now=NOW)
    assert (await publish(sessions, first, entry.id, tmp_path)).refusal is None
    async with sessions() as session:
        stored = await session.get(ResultEntry, entry.id)
    assert stored is not None and stored.objections_until is not None
    return stored


async def _plan(sessions: SessionFactory, now: datetime) -> reminders.PlanSummary:
    async with sessions() as session:
        return await reminders.plan_reminders(session, now=now)


async def _final_waves(sessions: SessionFactory) -> dict[int, ReminderWave]:
    async with sessions() as session:
        rows = (await session.exec(select(ReminderWave).where(ReminderWave.kind == "results_final"))).all()
    return {w.result_entry_id or 0: w for w in rows}


async def _fire(sessions: SessionFactory, key: str, now: datetime) -> reminders.FireOutcome:
    async with sessions() as session:
        return await reminders.fire_wave(session, key=key, now=now, render=RENDER, default_locale="zh_Hans")


def _morning_after(entry: ResultEntry) -> datetime:
    assert entry.objections_until is not None
    return datetime.combine(entry.objections_until + timedelta(days=1), time(8), tzinfo=ZONE)


async def test_final_wave_goes_to_the_whole_village_once_the_window_closed(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00", "村民01", "王伟"])
    entry = await _published(sessions, setup, tmp_path)

    summary = await _plan(sessions, NOW + timedelta(minutes=5))
    assert summary.planned >= 1
    wave = (await _final_waves(sessions))[entry.id or 0]
    assert wave.key == f"results:{entry.id}:results_final"
    # Midnight after the last day for objections is in quiet hours: 08:00 that morning.
    due = _morning_after(entry)
    assert wave.due_at == due.astimezone(UTC)
    assert wave.status == "planned" and not wave.essential

    early = await _fire(sessions, wave.key, due - timedelta(minutes=1))
    assert early.result is FireResult.NOT_DUE
    sent = await _fire(sessions, wave.key, due)
    assert sent.result is FireResult.SENT and sent.recipients == 3
    async with sessions() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.broadcast_id == sent.broadcast_id))).all()
    texts = [r.payload for r in rows]
    assert len(texts) == 3
    chinese = next(t for t in texts if "已成为最终结果" in t)
    english = next(t for t in texts if "now final" in t)  # the English reader's copy
    for text in (chinese, english):
        for word in ("第十二届村民委员会选举", "王伟", "张强", "刘芳", entry.fingerprint[:4], "/results"):
            assert word in text
        assert "陈明" not in text  # exactly half of the ballots: not elected

    # Re-planning (every few minutes, and at each start) never sends it again.
    await _plan(sessions, due + timedelta(minutes=5))
    again = await _fire(sessions, wave.key, due + timedelta(minutes=6))
    assert again.result is FireResult.ALREADY_SETTLED
    async with sessions() as session:
        assert await reminders.settle_missed(session, now=due + timedelta(hours=1)) == []
    assert (await _final_waves(sessions))[entry.id or 0].status == "sent"


async def test_a_superseded_version_gets_no_final_wave_the_correction_does(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00"])
    v1 = await _published(sessions, setup, tmp_path)
    await _plan(sessions, NOW + timedelta(minutes=5))
    assert (await _final_waves(sessions))[v1.id or 0].status == "planned"

    first, second = await member(sessions, setup, 3), await member(sessions, setup, 4)
    tally = good_tally()
    director = replace(tally.positions[0], votes=[VoteLine("王伟", 10), VoteLine("李娜", 5)])
    v2 = (await enter(sessions, first, setup, replace(tally, positions=[director, tally.positions[1]]))).entry
    assert v2 is not None and v2.id is not None
    async with sessions() as session:
        await confirm_results(session, second, v2.id, now=NOW)
    assert (await publish(sessions, first, v2.id, tmp_path)).refusal is None

    summary = await _plan(sessions, NOW + timedelta(minutes=10))
    assert summary.cancelled == 1
    waves = await _final_waves(sessions)
    assert (waves[v1.id or 0].status, waves[v1.id or 0].reason) == ("cancelled", "subject_gone")
    assert waves[v2.id].status == "planned"
    due = _morning_after(v1)
    assert (await _fire(sessions, waves[v1.id or 0].key, due)).result is FireResult.ALREADY_SETTLED
    sent = await _fire(sessions, waves[v2.id].key, due)
    assert sent.result is FireResult.SENT and sent.recipients == 1


async def test_a_wave_planned_before_a_correction_is_cancelled_when_it_fires(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    """No re-plan between the correction and the morning: the wave finds its entry replaced."""
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00"])
    v1 = await _published(sessions, setup, tmp_path)
    await _plan(sessions, NOW + timedelta(minutes=5))
    async with sessions() as session:
        stored = await session.get(ResultEntry, v1.id)
        assert stored is not None
        stored.status = "superseded"
        session.add(stored)
        await session.commit()
    wave = (await _final_waves(sessions))[v1.id or 0]
    gone = await _fire(sessions, wave.key, _morning_after(v1))
    assert gone.result is FireResult.SUBJECT_GONE
    assert (await _final_waves(sessions))[v1.id or 0].status == "cancelled"


async def test_results_already_final_when_published_get_no_late_wave(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00"])
    entry = await _published(sessions, setup, tmp_path)
    # First planned only after the window closed (the bot was installed late): not sent late.
    await _plan(sessions, _morning_after(entry) + timedelta(hours=1))
    wave = (await _final_waves(sessions))[entry.id or 0]
    assert (wave.status, wave.reason) == ("skipped", "past_when_planned")

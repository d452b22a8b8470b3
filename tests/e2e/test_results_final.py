"""Results become final, through the emulator with a controllable clock: published in chat, a
correction the same day, then the morning after the objection window every villager hears once, in
their language, that the corrected results are final; the replaced version's wave never goes out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.rules.fingerprint import short_fingerprint
from sandbox.world import SimUser
from storage.db import SessionFactory
from storage.models import ReminderWave, ResultEntry
from tests.e2e.conftest import Harness
from tests.e2e.test_committee_group import _publish_next_count
from tests.e2e.test_reminders import ZONE, _scheduler, _tick
from tests.factories import grant
from tests.results_setup import results_election

MEMBER, VILLAGER, READER = "+8613900000001", "+8613800000001", "+8613800000002"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    # Started before the bot (list it before `harness`): the scheduler plans with this clock.
    with time_machine.travel(datetime(2026, 12, 20, 15, 0, tzinfo=ZONE), tick=True) as traveller:
        yield traveller


async def _final_waves(sessions: SessionFactory, *, settled: int) -> dict[int | None, ReminderWave]:
    """The "now final" waves by results entry, once the one of entry `settled` is planned (the
    committee member is answered first, then the plan is rebuilt)."""
    for _attempt in range(50):
        async with sessions() as session:
            rows = (
                await session.exec(select(ReminderWave).where(ReminderWave.kind == "results_final"))
            ).all()
        waves = {w.result_entry_id: w for w in rows}
        if settled in waves:
            return waves
        await asyncio.sleep(0.1)
    raise AssertionError("the correction's wave was not planned")


def _finals(harness: Harness, user: SimUser) -> list[str]:
    return [
        e.content
        for e in harness.emu.bot_messages(user)
        if "最终结果" in e.content or "now final" in e.content
    ]


async def test_the_village_hears_once_that_the_corrected_results_are_final(
    clock: time_machine.Traveller, harness: Harness, sessions: SessionFactory
) -> None:
    emu, app = harness.emu, harness.app
    setup = await results_election(sessions, {"村民00": MEMBER, "村民02": VILLAGER, "村民03": READER})
    await grant(sessions, setup.roll.village, MEMBER, "committee")
    member = await harness.linked("委员", MEMBER, "zh-hans")
    villager = await harness.linked("村民", VILLAGER, "zh-hans")
    reader = await harness.linked("reader", READER, "en")

    first, _said = await _publish_next_count(harness, sessions, setup, member, director=11)
    corrected, _said = await _publish_next_count(harness, sessions, setup, member, director=10)
    waves = await _final_waves(sessions, settled=corrected.id or 0)
    async with sessions() as session:
        stored = await session.get(ResultEntry, corrected.id)
    # Planned when it was published; the replaced version's wave cancelled when the correction was.
    assert waves[first.id].status == "cancelled" and waves[corrected.id].status == "planned"
    assert stored is not None and stored.objections_until is not None
    morning = datetime.combine(stored.objections_until + timedelta(days=1), time(8), tzinfo=ZONE)
    assert waves[corrected.id].due_at == morning.astimezone(UTC)

    # The last day for objections: nothing yet.
    await _tick(app, clock, morning - timedelta(hours=9))
    assert _finals(harness, villager) == []

    await _tick(app, clock, morning + timedelta(seconds=1))
    final = await emu.wait_for(villager, lambda e: "已成为最终结果" in e.content, timeout=10)
    for word in (
        "第十二届村民委员会选举",
        "王伟",
        "张强",
        "刘芳",
        short_fingerprint(corrected.fingerprint),
        "/results",
    ):
        assert word in final.content
    english = await emu.wait_for(reader, lambda e: "now final" in e.content, timeout=10)
    assert "Director: 王伟" in english.content
    await emu.wait_for(member, lambda e: "已成为最终结果" in e.content, timeout=10)

    # A re-plan and a later tick send nothing more; the replaced version was never announced final.
    await _scheduler(app).rebuild()
    await _tick(app, clock, morning + timedelta(hours=2))
    for user in (villager, reader, member):
        assert len(_finals(harness, user)) == 1
        assert short_fingerprint(first.fingerprint) not in _finals(harness, user)[0]
    results = await harness.say(villager, "/results")
    assert "正式结果：提出异议的时间已经过了。" in results.content

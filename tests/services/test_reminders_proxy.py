"""The proxy waves of the reminder plan: migrant workers who have not answered, holders who have not
replied, approved proxies without the signed form, and on election day each holder's own list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.rules.policy import Relationship
from bot.rules.proxy import ProxyRefusalReason
from bot.services import proxies, reminders
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload
from bot.services.reminders import FireResult, WaveSubject
from storage.db import SessionFactory
from storage.models import Delivery, Election, IntentChoice, ReminderWave
from tests.services.test_elections import DAY, ZONE, local, village
from tests.services.test_proxies import NOW, World, world
from tests.services.test_reminders import PLAN_TIME
from tests.services.test_reminders import _election as party_election

DEADLINE = date(2026, 12, 17)  # ZJ 25: 3 days before election day


def render(subject: WaveSubject, recipient: Recipient) -> MessagePayload:
    mine = ",".join(name for name, _ in subject.details.get(recipient.account_id, ()))
    return MessagePayload(text=f"{subject.wave.kind}|{recipient.name}|{mine}")


async def _waves(sessions: SessionFactory) -> dict[str, ReminderWave]:
    async with sessions() as session:
        return {w.kind: w for w in (await session.exec(select(ReminderWave))).all()}


async def _fire(
    sessions: SessionFactory, kind: str, election_id: int, now: datetime
) -> reminders.FireOutcome:
    async with sessions() as session:
        return await reminders.fire_wave(
            session, key=f"election:{election_id}:{kind}", now=now, render=render, default_locale="zh_Hans"
        )


async def _texts(sessions: SessionFactory, broadcast_id: int | None) -> list[str]:
    async with sessions() as session:
        rows = (await session.exec(select(Delivery).where(Delivery.broadcast_id == broadcast_id))).all()
        return sorted(MessagePayload.from_json(d.payload).text or "" for d in rows)


async def _setup(sessions: SessionFactory, tmp_path: Path) -> World:
    w = await world(sessions, tmp_path)
    for name in ("王外出", "王父亲", "李打工", "李母亲", "张远方"):
        await w.me(name)  # on Telegram; 周老人 (a migrant worker too) is not
    async with sessions() as session:
        await proxies.record_intent(session, await w.me("王外出"), w.eid, IntentChoice.PROXY, NOW)
        await proxies.record_intent(session, await w.me("李打工"), w.eid, IntentChoice.PROXY, NOW)
    await w.approved("王外出", "王父亲")  # approved, written form not yet received
    waiting = await w.request("李打工", "李母亲")  # the holder has not answered
    assert waiting.refusal is None
    async with sessions() as session:  # 王外出 turns non-essential reminders off
        await reminders.set_reminders_muted(session, await w.me("王外出"), muted=True, now=NOW)
    return w


async def test_proxy_waves_are_planned_from_the_deadline_and_election_day(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    w = await _setup(sessions, tmp_path)
    async with sessions() as session:
        await reminders.plan_reminders(session, now=NOW)
    waves = await _waves(sessions)
    after_deadline = local(DEADLINE + timedelta(days=1))
    # 48 h before the end of the deadline day is midnight: quiet hours move it to 08:00.
    assert waves["proxy_intent_close_48h"].due_at == local(date(2026, 12, 16), 8).astimezone(UTC)
    assert waves["proxy_holder_close_24h"].due_at == local(date(2026, 12, 17), 8).astimezone(UTC)
    assert waves["proxy_holder_close_24h"].deadline_at == after_deadline.astimezone(UTC)
    assert waves["proxy_form_close_24h"].due_at == local(date(2026, 12, 19), 8).astimezone(UTC)
    assert waves["election_day_holders"].due_at == local(DAY, 8).astimezone(UTC)
    assert not waves["proxy_intent_close_48h"].essential
    assert waves["proxy_holder_close_48h"].essential and waves["proxy_form_close_48h"].essential
    assert waves["election_day_holders"].essential

    # A committee's earlier proxy deadline moves the waves and the flow's own deadline with it.
    async with sessions() as session:
        election = await session.get(Election, w.eid)
        assert election is not None
        election.proxy_deadline = date(2026, 12, 10)
        session.add(election)
        await session.commit()
    async with sessions() as session:
        summary = await reminders.plan_reminders(session, now=NOW, election_ids=[w.eid])
        late = await proxies.request_proxy(
            session,
            await w.me("张远方"),
            w.eid,
            w.pid("李母亲"),
            Relationship.SIBLING,
            now=local(date(2026, 12, 11), 10),
            zone=ZONE,
            notify=lambda note, locale: [],
            default_locale="zh_Hans",
        )
    assert summary.moved == 4  # the intent and holder waves; the form and election-day waves stay
    assert (await _waves(sessions))["proxy_holder_close_24h"].due_at == local(
        date(2026, 12, 10), 8
    ).astimezone(UTC)
    assert late.refusal is proxies.FlowRefusal.RULE
    assert [reason for reason, _ in late.rules] == [ProxyRefusalReason.AFTER_DEADLINE]


async def test_each_proxy_wave_reaches_only_who_still_has_something_to_do(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    w = await _setup(sessions, tmp_path)
    async with sessions() as session:
        await reminders.plan_reminders(session, now=NOW)

    # Migrant workers who have not answered: 张远方 (周老人 is not on Telegram).
    intent = await _fire(sessions, "proxy_intent_close_48h", w.eid, local(date(2026, 12, 16), 8))
    assert intent.result is FireResult.SENT
    assert await _texts(sessions, intent.broadcast_id) == ["proxy_intent_close_48h|张远方|"]

    # The holder who has not replied: 李母亲. She accepts; the next wave finds nobody.
    holder = await _fire(sessions, "proxy_holder_close_48h", w.eid, local(date(2026, 12, 16), 8))
    assert await _texts(sessions, holder.broadcast_id) == ["proxy_holder_close_48h|李母亲|"]
    async with sessions() as session:
        pending = await proxies.requests_awaiting_holder(session, w.eid)
    assert pending == [w.pid("李母亲")]
    async with sessions() as session:
        row = (await proxies.my_proxies(session, await w.me("李母亲"), w.eid)).held[0].authorization
    assert (await w.answer("李母亲", row.id or 0)).refusal is None
    again = await _fire(sessions, "proxy_holder_close_24h", w.eid, local(date(2026, 12, 17), 8))
    assert again.result is FireResult.NOBODY

    # The approved proxy without its signed form: 王外出, although he muted reminders (his own proxy).
    form = await _fire(sessions, "proxy_form_close_48h", w.eid, local(date(2026, 12, 18), 8))
    assert await _texts(sessions, form.broadcast_id) == ["proxy_form_close_48h|王外出|"]

    # Election day: only authorizations that count (ZJ 25: published) are on the holder's list.
    assert (await w.publish()).refusal is None
    day = await _fire(sessions, "election_day_holders", w.eid, local(DAY, 8))
    assert day.result is FireResult.SENT
    # 李打工's authorization was accepted but never approved by the committee: not on any list.
    assert await _texts(sessions, day.broadcast_id) == ["election_day_holders|王父亲|王外出"]
    assert (await _fire(sessions, "election_day_holders", w.eid, local(DAY, 9))).result is (
        FireResult.ALREADY_SETTLED
    )


async def test_no_proxy_waves_where_the_election_has_no_proxy_votes(sessions: SessionFactory) -> None:
    roll = await village(sessions)
    await party_election(sessions, roll)  # a party branch election: members vote in person
    async with sessions() as session:
        await reminders.plan_reminders(session, now=PLAN_TIME)
    kinds = set(await _waves(sessions))
    assert "trust_vote_close_24h" in kinds
    assert not [kind for kind in kinds if "proxy" in kind or kind == "election_day_holders"]

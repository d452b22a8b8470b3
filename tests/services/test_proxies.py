"""Migrant workers' intents and proxy authorizations: the flow, every refusal, and the cap under a race."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlmodel import col, select

from bot.files.proxy_form import ProxyForm
from bot.files.publicity import PublicityLabels
from bot.rules.policy import Relationship
from bot.rules.proxy import ProxyDuty, ProxyRefusalReason
from bot.services import proxies
from bot.services.audit import verify_audit
from bot.services.identity import Me
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.proxies import ConsentSource, FlowRefusal, ProxyNote
from storage.db import SessionFactory
from storage.models import (
    AuditEntry,
    Delivery,
    Election,
    ElectionCandidate,
    IntentChoice,
    Notice,
    Person,
    ProxyAuthorization,
    ProxyStatus,
    Village,
)
from tests.factories import Roll, grant, make_village
from tests.files.test_publicity import _cjk_font_or_skip, _poppler
from tests.services.test_elections import DAY, MEMBER_PHONE, ZONE, local, me_of, opened, schedule

NOW = local(date(2026, 12, 1), 10)  # ZJ 25: requests until 3 days before 20 December
LATE = local(date(2026, 12, 18), 10)

PEOPLE: list[dict[str, object]] = [
    {"name": "赵主任", "phone": MEMBER_PHONE, "group": "一组"},
    {"name": "王外出", "phone": "+8613800000011", "group": "一组", "migrant": True, "household": "H1"},
    {"name": "王父亲", "phone": "+8613800000012", "group": "一组", "household": "H1"},
    {"name": "李打工", "phone": "+8613800000013", "group": "二组", "migrant": True, "household": "H2"},
    {"name": "李母亲", "phone": "+8613800000014", "group": "二组", "household": "H2"},
    {"name": "张远方", "phone": "+8613800000015", "group": "二组", "migrant": True},
    {"name": "钱候选", "phone": "+8613800000016", "group": "一组"},
    {"name": "孙未绑", "phone": None, "group": "一组"},
    {"name": "小明", "phone": None, "group": "二组", "eligible_voter": False},
    {"name": "周老人", "phone": "+8613800000019", "group": "一组", "migrant": True},
]


def notify(note: ProxyNote, locale: str) -> Sequence[MessagePayload]:
    text = f"{note.kind.value}|{note.principal}|{note.holder}|{','.join(p for p, _ in note.principals)}"
    if note.duties:
        text += "|" + ",".join(d.value for d in note.duties)
    out = [MessagePayload(text=text)]
    if note.file_path is not None:
        out.append(MessagePayload(method=SendMethod.SEND_DOCUMENT, file_path=note.file_path))
    return out


def ask(election: Election, recipient: Recipient) -> MessagePayload:
    return MessagePayload(text=f"how will you vote, {recipient.name}?")


def form_words(
    row: ProxyAuthorization,
    principal: Person,
    holder: Person,
    election: Election,
    village: Village,
    locale: str,
) -> ProxyForm:
    return ProxyForm(
        title="委托投票委托书",
        place=f"{village.township} {village.name}",
        election=election.title,
        fields=[
            ("委托人", principal.name),
            ("受委托人", holder.name),
            ("关系", row.relationship),
            ("验证码", row.verification_code),
        ],
        statement=f"本人{principal.name}委托{holder.name}代为投票。",
        signatures=["委托人签名：", "受委托人签名：", "日期："],
        note="请签字后交村民选举委员会。",
    )


LABELS = PublicityLabels(
    published_on="公布日期：{date}",
    objection_deadline="异议截止：{date}",
    no_objection_window="",
    page="第 {page} / {pages} 页",
    fingerprint="指纹（SHA-256）：{fingerprint}",
    columns={
        "seq": "序号",
        "group": "组",
        "principal": "委托人",
        "holder": "受委托人",
        "relationship": "关系",
    },
    date_format="{year:04d}-{month:02d}-{day:02d}",
    place="{township}{village}",
    sheet="委托投票",
)
WORDS = proxies.ProxyListText(
    title="委托投票名单",
    summary=lambda n, groups: f"{n} 人委托投票",
    labels=LABELS,
    relationship=lambda r: r.value,
)


def render_notice(notice: Notice, recipient: Recipient) -> list[MessagePayload]:
    return [MessagePayload(text=notice.body)]


class World:
    def __init__(self, sessions: SessionFactory, roll: Roll, election: Election, tmp: Path) -> None:
        self.sessions, self.roll, self.election, self.tmp = sessions, roll, election, tmp
        self.people: dict[str, Me] = {}

    @property
    def eid(self) -> int:
        assert self.election.id is not None
        return self.election.id

    def pid(self, name: str) -> int:
        return self.roll.people[name].id or 0

    async def me(self, name: str) -> Me:
        if name not in self.people:
            self.people[name] = await me_of(self.sessions, 7000 + len(self.people), self.roll.people[name])
        return self.people[name]

    async def request(
        self, principal: str, holder: str, rel: Relationship = Relationship.PARENT, now: datetime = NOW
    ) -> proxies.ProxyResult:
        me = await self.me(principal)
        async with self.sessions() as session:
            result = await proxies.request_proxy(
                session,
                me,
                self.eid,
                self.pid(holder),
                rel,
                now=now,
                zone=ZONE,
                notify=notify,
                default_locale="zh_Hans",
            )
            assert not session.in_transaction()
        return result

    async def answer(self, holder: str, proxy_id: int, accept: bool = True) -> proxies.ProxyResult:
        me = await self.me(holder)
        async with self.sessions() as session:
            return await proxies.answer_proxy_request(
                session, me, proxy_id, accept=accept, now=NOW, notify=notify, default_locale="zh_Hans"
            )

    async def decide(
        self, proxy_id: int, approve: bool = True, reason: str = "", who: str = "赵主任"
    ) -> proxies.ProxyResult:
        me = await self.me(who)
        async with self.sessions() as session:
            return await proxies.decide_proxy(
                session,
                me,
                proxy_id,
                approve=approve,
                reason=reason,
                now=NOW,
                notify=notify,
                form_words=form_words,
                out_dir=self.tmp,
                default_locale="zh_Hans",
            )

    async def revoke(self, principal: str, proxy_id: int, now: datetime = NOW) -> proxies.ProxyResult:
        me = await self.me(principal)
        async with self.sessions() as session:
            return await proxies.revoke_proxy(
                session, me, proxy_id, now=now, zone=ZONE, notify=notify, default_locale="zh_Hans"
            )

    async def approved(self, principal: str, holder: str, rel: Relationship = Relationship.PARENT) -> int:
        requested = await self.request(principal, holder, rel)
        assert requested.authorization is not None and requested.authorization.id is not None, requested
        pid = requested.authorization.id
        assert (await self.answer(holder, pid)).refusal is None
        assert (await self.decide(pid)).refusal is None
        return pid

    async def publish(self, now: datetime = NOW) -> proxies.ProxyListOutcome:
        async with self.sessions() as session:
            return await proxies.publish_proxy_list(
                session,
                await self.me("赵主任"),
                self.eid,
                words=WORDS,
                render=render_notice,
                out_dir=self.tmp,
                now=now,
                zone=ZONE,
                default_locale="zh_Hans",
            )

    async def texts_to(self, name: str) -> list[str]:
        me = await self.me(name)
        async with self.sessions() as session:
            rows = (await session.exec(select(Delivery).where(Delivery.account_id == me.account.id))).all()
        return [json.loads(r.payload).get("text", "<file>") for r in rows]


async def world(sessions: SessionFactory, tmp_path: Path, province: str = "ZJ", **kwargs: object) -> World:
    roll = await make_village(sessions, province=province, people=PEOPLE)
    await grant(sessions, roll.village, MEMBER_PHONE, "committee")
    election = await opened(sessions, roll, plan=schedule(), **kwargs)  # type: ignore[arg-type]
    return World(sessions, roll, election, tmp_path)


async def test_intent_wave_answers_summary_and_who_has_not_answered(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    w = await world(sessions, tmp_path)
    for name in ("王外出", "李打工", "张远方"):
        await w.me(name)  # linked; 周老人 is not
    member = await w.me("赵主任")
    async with sessions() as session:
        asked = await proxies.ask_migrants(session, member, w.eid, ask=ask, default_locale="zh_Hans")
    assert asked.refusal is None and asked.asked == 3 and asked.unbound == ("周老人",)
    assert await w.texts_to("王外出") == ["how will you vote, 王外出?"]

    async with sessions() as session:
        done = await proxies.record_intent(session, await w.me("王外出"), w.eid, IntentChoice.PROXY, NOW)
        assert done.refusal is None
        await proxies.record_intent(session, await w.me("李打工"), w.eid, IntentChoice.NEED_HELP, NOW)
        await proxies.record_intent(session, await w.me("李打工"), w.eid, IntentChoice.COMING_HOME, NOW)
        summary = await proxies.intent_summary(session, member, w.eid)
        missing = await proxies.migrants_without_answer(session, w.eid)
    assert summary.total(IntentChoice.PROXY) == 1 and summary.total(IntentChoice.COMING_HOME) == 1
    assert summary.total(IntentChoice.NEED_HELP) == 0  # the later answer replaced the earlier one
    by_group = {g.group: g for g in summary.groups}
    assert by_group["一组"].not_answered == ("周老人",) and by_group["二组"].not_answered == ("张远方",)
    assert sorted(missing) == sorted([w.pid("张远方"), w.pid("周老人")])

    # A second wave asks only who has not answered; a villager is refused the committee's summary.
    async with sessions() as session:
        again = await proxies.ask_migrants(session, member, w.eid, ask=ask, default_locale="zh_Hans")
        refused = await proxies.intent_summary(session, await w.me("王父亲"), w.eid)
        refused_wave = await proxies.ask_migrants(
            session, await w.me("王父亲"), w.eid, ask=ask, default_locale="zh_Hans"
        )
    assert again.asked == 1
    assert refused.refusal is FlowRefusal.NOT_ALLOWED and refused_wave.refusal is FlowRefusal.NOT_ALLOWED


async def test_request_accept_approve_publish_roster_and_election_day(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    _cjk_font_or_skip()
    w = await world(sessions, tmp_path)
    await w.me("王父亲")  # the holder is on Telegram
    requested = await w.request("王外出", "王父亲")
    assert requested.refusal is None and requested.authorization is not None
    pid = requested.authorization.id or 0
    assert requested.deadline == date(2026, 12, 17) and requested.cap == 3 and requested.holder_load == 1
    assert requested.holder_reached
    assert await w.texts_to("王父亲") == ["ask_holder|王外出|王父亲|"]
    async with sessions() as session:
        assert await proxies.requests_awaiting_holder(session, w.eid) == [w.pid("王父亲")]

    assert (await w.answer("王父亲", pid)).refusal is None
    assert "holder_accepted|王外出|王父亲|" in await w.texts_to("王外出")
    async with sessions() as session:
        pending = await proxies.pending_proxies(session, await w.me("赵主任"), w.eid)
    assert [(line.principal, line.holder, line.same_household) for line in pending.lines] == [
        ("王外出", "王父亲", True)
    ]

    decided = await w.decide(pid)
    assert decided.refusal is None and decided.form_path is not None
    # The form renders the Chinese names (pdftotext reads them back).
    text = re.sub(r"\s+", "", _poppler("pdftotext", str(decided.form_path), "-"))
    assert "王外出" in text and "王父亲" in text and decided.authorization is not None
    assert decided.authorization.verification_code in text
    assert "<file>" in await w.texts_to("王外出")  # the PDF goes to the principal through the outbox
    assert (await w.decide(pid)).refusal is FlowRefusal.ALREADY_DECIDED  # approving twice
    async with sessions() as session:
        assert await proxies.approved_forms_missing(session, w.eid) == [w.pid("王外出")]
        await proxies.record_written_form(session, await w.me("赵主任"), pid, now=NOW)
        await proxies.record_written_form(session, await w.me("赵主任"), pid, now=NOW)  # once is enough
        assert await proxies.approved_forms_missing(session, w.eid) == []

    listed = await w.publish()
    assert listed.refusal is None and listed.plist is not None and listed.pdf_path is not None
    assert list(listed.plist.rows) == [("1", "一组", "王外出", "王父亲", "parent")]
    async with sessions() as session:
        actions = (
            await session.exec(
                select(AuditEntry.action)
                .where(AuditEntry.village_id == (w.roll.village.id or 0))
                .order_by(col(AuditEntry.seq))
            )
        ).all()
    assert [a for a in actions if a != "role_granted" and not a.startswith("election_")] == [
        "proxy_decided",
        "proxy_form_received",
        "list_published",
    ]
    flat = re.sub(r"\s+", "", _poppler("pdftotext", str(listed.pdf_path), "-"))
    assert "王外出" in flat and "王父亲" in flat
    async with sessions() as session:
        row = await session.get(ProxyAuthorization, pid)
        assert row is not None and row.published_fingerprint == listed.plist.fingerprint()
        roster = await proxies.ballot_roster(session, await w.me("赵主任"), w.eid)
    assert [(h.name, [p.name for p in h.principals]) for h in roster.holders] == [("王父亲", ["王外出"])]
    assert roster.holders[0].principals[0].valid and not roster.take_back_voter_cards

    async with sessions() as session:
        early = await proxies.send_holder_lists(
            session, await w.me("赵主任"), w.eid, now=NOW, zone=ZONE, notify=notify, default_locale="zh_Hans"
        )
        sent = await proxies.send_holder_lists(
            session,
            await w.me("赵主任"),
            w.eid,
            now=local(DAY, 7),
            zone=ZONE,
            notify=notify,
            default_locale="zh_Hans",
        )
    assert early.refusal is FlowRefusal.NOT_ELECTION_DAY
    assert sent.sent == 1 and "election_day|王外出|王父亲|王外出" in await w.texts_to("王父亲")


async def test_every_refusal_of_the_request(sessions: SessionFactory, tmp_path: Path) -> None:
    w = await world(sessions, tmp_path)
    async with sessions() as session:
        session.add(
            ElectionCandidate(
                election_id=w.eid,
                position="member",
                person_id=w.pid("钱候选"),
                stage="formal",
                fingerprint="0" * 64,
            )
        )
        await session.commit()
    other = await make_village(sessions, "绿水村", people=[{"name": "外村人", "phone": "+8613800000099"}])

    def rule(result: proxies.ProxyResult) -> ProxyRefusalReason | None:
        assert result.refusal in (FlowRefusal.RULE, None), result
        return result.rule

    assert rule(await w.request("王外出", "王外出")) is ProxyRefusalReason.SELF
    assert rule(await w.request("王外出", "小明")) is ProxyRefusalReason.HOLDER_NOT_REGISTERED
    assert rule(await w.request("王外出", "钱候选")) is ProxyRefusalReason.HOLDER_IS_CANDIDATE  # ZJ 25
    assert (
        rule(await w.request("王外出", "王父亲", Relationship.NOT_RELATED))
        is ProxyRefusalReason.RELATIONSHIP_NOT_ALLOWED
    )
    assert rule(await w.request("王外出", "王父亲", now=LATE)) is ProxyRefusalReason.AFTER_DEADLINE
    me = await w.me("王外出")
    async with sessions() as session:
        outside = await proxies.request_proxy(
            session,
            me,
            w.eid,
            other.people["外村人"].id or 0,
            Relationship.SIBLING,
            now=NOW,
            zone=ZONE,
            notify=notify,
            default_locale="zh_Hans",
        )
    assert outside.rule is ProxyRefusalReason.HOLDER_NOT_IN_VILLAGE

    first = await w.request("王外出", "王父亲")
    assert first.refusal is None
    assert (
        rule(await w.request("王外出", "李母亲", Relationship.SIBLING))
        is ProxyRefusalReason.PRINCIPAL_HAS_ACTIVE_PROXY
    )
    # No chains: the holder cannot delegate, and the principal cannot hold proxies.
    chain = await w.request("李打工", "王外出", Relationship.SIBLING)
    assert rule(chain) is ProxyRefusalReason.HOLDER_HAS_DELEGATED
    holds = await w.request("王父亲", "李母亲", Relationship.SIBLING)
    assert rule(holds) is ProxyRefusalReason.PRINCIPAL_HOLDS_PROXIES
    # Nothing was stored for any refusal.
    async with sessions() as session:
        rows = (await session.exec(select(ProxyAuthorization))).all()
    assert len(rows) == 1

    # Unbound mid-flow: the account no longer speaks for anyone.
    unbound = Me(account=me.account)
    async with sessions() as session:
        gone = await proxies.request_proxy(
            session,
            unbound,
            w.eid,
            w.pid("李母亲"),
            Relationship.PARENT,
            now=NOW,
            zone=ZONE,
            notify=notify,
            default_locale="zh_Hans",
        )
    assert gone.refusal is FlowRefusal.NOT_BOUND


async def test_holder_at_cap_and_other_provinces(sessions: SessionFactory, tmp_path: Path) -> None:
    w = await world(sessions, tmp_path, overrides={"proxy_cap": 1})
    assert (await w.request("王外出", "王父亲")).refusal is None
    at_cap = await w.request("李打工", "王父亲", Relationship.SIBLING)
    assert at_cap.rule is ProxyRefusalReason.HOLDER_AT_CAP and at_cap.cap == 1


async def test_hn_roster_takes_back_voter_cards(sessions: SessionFactory, tmp_path: Path) -> None:
    _cjk_font_or_skip()
    w = await world(sessions, tmp_path, province="HN")
    await w.approved("王外出", "王父亲")
    async with sessions() as session:
        roster = await proxies.ballot_roster(session, await w.me("赵主任"), w.eid)
    assert roster.take_back_voter_cards and roster.certificate
    approved = [t for t in await w.texts_to("王外出") if t.startswith("approved|")]
    assert len(approved) == 1 and ProxyDuty.TAKE_BACK_VOTER_CARD.value in approved[0]


async def test_revoked_request_cannot_be_accepted_and_revocation_ends_at_the_deadline(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    w = await world(sessions, tmp_path)
    await w.me("王父亲")
    first = await w.request("王外出", "王父亲")
    assert first.authorization is not None
    pid = first.authorization.id or 0
    assert (await w.answer("李母亲", pid)).refusal is FlowRefusal.NOT_FOUND  # not theirs to answer
    assert (await w.revoke("李打工", pid)).refusal is FlowRefusal.NOT_FOUND  # not theirs to revoke
    # The holder presses "accept" while the principal revokes: exactly one wins, never both.
    revoked, answered = await asyncio.gather(w.revoke("王外出", pid), w.answer("王父亲", pid))
    assert (revoked.refusal is None) != (answered.refusal is None)
    if revoked.refusal is None:
        assert answered.refusal is FlowRefusal.WITHDRAWN
        assert "revoked|王外出|王父亲|" in await w.texts_to("王父亲")
        # Revoked, the place is free again: a new request may go to someone else.
        assert (await w.request("王外出", "李母亲", Relationship.SIBLING)).refusal is None
    else:
        assert revoked.refusal is None or revoked.refusal is FlowRefusal.NO_LONGER_ACTIVE

    second = await w.request("李打工", "李母亲")
    assert second.authorization is not None
    late = await w.revoke("李打工", second.authorization.id or 0, now=LATE)
    assert late.refusal is FlowRefusal.AFTER_DEADLINE
    async with sessions() as session:
        row = await session.get(ProxyAuthorization, second.authorization.id)
    assert row is not None and row.status == ProxyStatus.REQUESTED  # nothing changed


async def test_committee_consent_decisions_and_refusals(sessions: SessionFactory, tmp_path: Path) -> None:
    w = await world(sessions, tmp_path)
    first = await w.request("王外出", "孙未绑")  # the holder has no Telegram
    assert first.authorization is not None and not first.holder_reached
    pid = first.authorization.id or 0
    assert (await w.decide(pid)).refusal is FlowRefusal.NOT_ACCEPTED
    async with sessions() as session:
        villager = await proxies.record_holder_consent(
            session,
            await w.me("王父亲"),
            pid,
            ConsentSource.PAPER,
            now=NOW,
            notify=notify,
            default_locale="zh_Hans",
        )
        done = await proxies.record_holder_consent(
            session,
            await w.me("赵主任"),
            pid,
            ConsentSource.PHONE,
            now=NOW,
            notify=notify,
            default_locale="zh_Hans",
        )
    assert villager.refusal is FlowRefusal.NOT_ALLOWED and done.refusal is None
    assert (await w.decide(pid, who="王父亲")).refusal is FlowRefusal.NOT_ALLOWED
    assert (await w.decide(pid, approve=False, reason="  ")).refusal is FlowRefusal.EMPTY_REASON
    rejected = await w.decide(pid, approve=False, reason="不是近亲属")
    assert rejected.refusal is None
    assert (await w.decide(pid)).refusal is FlowRefusal.ALREADY_DECIDED
    async with sessions() as session:
        row = await session.get(ProxyAuthorization, pid)
        assert row is not None and row.status == ProxyStatus.REJECTED and row.consent_source == "phone"
    empty = await w.publish()
    assert empty.refusal is FlowRefusal.NOTHING_TO_PUBLISH
    assert "rejected|王外出|孙未绑|" in await w.texts_to("王外出")

    # The committee's steps are on the village's audit trail (refusals wrote nothing), and it verifies.
    village_id = w.roll.village.id or 0
    async with sessions() as session:
        logged = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.village_id == village_id).order_by(col(AuditEntry.seq))
            )
        ).all()
        verified = await verify_audit(session, village_id)
    proxy_steps = [(e.action, json.loads(e.details)) for e in logged if e.action.startswith("proxy_")]
    assert [(action, details.get("source"), details.get("decision")) for action, details in proxy_steps] == [
        ("proxy_consent_recorded", "phone", None),
        ("proxy_decided", None, "rejected"),
    ]
    assert proxy_steps[1][1]["reason"] == "不是近亲属" and proxy_steps[1][1]["proxy_id"] == pid
    assert verified.intact


async def test_sh_list_must_be_published_two_days_before(sessions: SessionFactory, tmp_path: Path) -> None:
    w = await world(sessions, tmp_path, province="SH")
    late = await w.publish(now=local(date(2026, 12, 19), 9))
    assert late.refusal is FlowRefusal.LIST_TOO_LATE and late.latest == date(2026, 12, 18)
    # SH 16: requests at least 5 days before.
    assert (
        await w.request("王外出", "王父亲", now=local(date(2026, 12, 16), 9))
    ).rule is ProxyRefusalReason.AFTER_DEADLINE


async def test_two_principals_racing_for_the_last_place_never_exceed_the_cap(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    w = await world(sessions, tmp_path, overrides={"proxy_cap": 1})
    for name in ("王外出", "李打工"):
        await w.me(name)
    for _ in range(3):  # a few rounds: the order of arrival differs between runs
        results = await asyncio.gather(
            w.request("王外出", "王父亲"), w.request("李打工", "王父亲", Relationship.SIBLING)
        )
        accepted = [r for r in results if r.refusal is None]
        refused = [r for r in results if r.refusal is not None]
        assert len(accepted) == 1 and len(refused) == 1
        assert refused[0].rule is ProxyRefusalReason.HOLDER_AT_CAP
        async with sessions() as session:
            active = (
                await session.exec(
                    select(ProxyAuthorization).where(
                        ProxyAuthorization.holder_person_id == w.pid("王父亲"),
                        col(ProxyAuthorization.status).in_(["requested", "accepted", "approved"]),
                    )
                )
            ).all()
        assert len(active) == 1
        winner = accepted[0].principal
        assert winner is not None and accepted[0].authorization is not None
        assert (await w.revoke(winner.name, accepted[0].authorization.id or 0)).refusal is None


async def test_unknown_election(sessions: SessionFactory, tmp_path: Path) -> None:
    w = await world(sessions, tmp_path)
    me = await w.me("王外出")
    async with sessions() as session:
        missing = await proxies.request_proxy(
            session,
            me,
            9999,
            w.pid("王父亲"),
            Relationship.PARENT,
            now=NOW,
            zone=ZONE,
            notify=notify,
            default_locale="zh_Hans",
        )
        intent = await proxies.record_intent(session, me, 9999, IntentChoice.PROXY, NOW)
    assert missing.refusal is FlowRefusal.UNKNOWN_ELECTION and intent.refusal is FlowRefusal.UNKNOWN_ELECTION


async def test_two_members_approving_at_once_decide_once_and_keep_one_form(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    _cjk_font_or_skip()
    w = await world(sessions, tmp_path)
    await w.me("王外出")
    requested = await w.request("王外出", "王父亲")
    assert requested.authorization is not None
    pid = requested.authorization.id or 0
    assert (await w.answer("王父亲", pid)).refusal is None
    await w.me("赵主任")
    first, second = await asyncio.gather(w.decide(pid), w.decide(pid))
    assert sorted(str(r.refusal) for r in (first, second)) == ["None", "already_decided"]
    winner = first if first.refusal is None else second
    assert winner.form_path is not None and winner.form_path.is_file()
    forms = await asyncio.to_thread(lambda: sorted(tmp_path.glob("proxy-form-*.pdf")))
    assert forms == [winner.form_path]
    approved = [t for t in await w.texts_to("王外出") if t.startswith("approved|")]
    assert len(approved) == 1  # the principal is told once

"""Results: entered, confirmed by a second member, decided by the law, published once, corrected as
a new version; every step in the audit trail."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, delete, select, update

from bot.cli_text import translator
from bot.results_text import announcement_text, results_document
from bot.rules.policy import Position
from bot.rules.results import ElectionRound, ResultStatus, TallyProblemReason, VoteDecision
from bot.services.audit import verify_audit
from bot.services.identity import Me, RoleName
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.results import (
    Announcement,
    Evaluation,
    PositionCount,
    ResultsRefusal,
    TallyInput,
    VoteLine,
    confirm_results,
    enter_results,
    evaluate_results,
    latest_results,
    publish_results,
)
from storage.db import SessionFactory
from storage.models import (
    Account,
    AuditEntry,
    Binding,
    Delivery,
    Election,
    ElectionCandidate,
    ElectionPosition,
    Notice,
    Person,
    ResultEntry,
    Role,
)
from tests.results_setup import ResultsElection, expected_document, good_tally, results_election

NOW = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")


async def member(
    sessions: SessionFactory, setup: ResultsElection, user_id: int, *, committee: bool = True
) -> Me:
    vid = setup.roll.village.id
    assert vid is not None
    async with sessions() as session:
        account = Account(telegram_user_id=user_id, chat_id=user_id, phone=f"+86138{user_id:08d}")
        session.add(account)
        await session.commit()
    roles = {vid: frozenset({RoleName.COMMITTEE})} if committee else {}
    return Me(account=account, roles=roles, role_villages={vid: setup.roll.village})


async def bind_villagers(sessions: SessionFactory, setup: ResultsElection, names: Sequence[str]) -> None:
    async with sessions() as session:
        for n, name in enumerate(names):
            account = Account(telegram_user_id=9000 + n, chat_id=9000 + n, locale="en" if n % 2 else None)
            session.add(account)
            await session.flush()
            assert account.id is not None
            session.add(
                Binding(account_id=account.id, person_id=setup.roll.people[name].id or 0, method="contact")
            )
        await session.commit()


def render(
    notice: Notice, recipient: Recipient, announcement: Announcement, chart: Path, pdf: Path
) -> list[MessagePayload]:
    text = announcement_text(announcement, translator(recipient.locale))
    return [
        MessagePayload(text=text[:4000]),
        MessagePayload(method=SendMethod.SEND_PHOTO, file_path=str(chart)),
        MessagePayload(method=SendMethod.SEND_DOCUMENT, file_path=str(pdf)),
    ]


async def publish(sessions: SessionFactory, me: Me, entry_id: int, tmp_path: Path):  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await publish_results(
            session,
            me,
            entry_id,
            words=lambda a: results_document(a, translator("zh_Hans")),
            render=render,
            out_dir=tmp_path,
            zone=ZONE,
            default_locale="zh_Hans",
            now=NOW,
        )


async def enter(sessions: SessionFactory, me: Me | None, setup: ResultsElection, tally: TallyInput):  # type: ignore[no-untyped-def]
    async with sessions() as session:
        outcome = await enter_results(session, me, setup.id, tally, now=NOW)
        assert not session.in_transaction()
    return outcome


async def test_enter_confirm_evaluate_publish(sessions: SessionFactory, tmp_path: Path) -> None:
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00", "村民01", "王伟"])
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)

    entered = await enter(sessions, first, setup, good_tally())
    assert entered.refusal is None and entered.entry is not None
    entry = entered.entry
    assert entry.id is not None and entry.status == "draft" and entry.version == 1
    document = expected_document("青山村", "城关镇", setup.id)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.fingerprint == hashlib.sha256(canonical.encode()).hexdigest()

    async with sessions() as session:
        refused = await confirm_results(session, first, entry.id, now=NOW)
    assert refused.refusal is ResultsRefusal.OWN_ENTRY
    async with sessions() as session:
        assert (
            await publish_results_unconfirmed(session, first, entry.id, tmp_path)
        ) is ResultsRefusal.NOT_CONFIRMED
    async with sessions() as session:
        confirmed = await confirm_results(session, second, entry.id, now=NOW)
    assert confirmed.refusal is None and confirmed.entry is not None
    assert (confirmed.entry.status, confirmed.entry.confirmed_by_account_id) == (
        "confirmed",
        second.account.id,
    )
    async with sessions() as session:
        again = await confirm_results(session, second, entry.id, now=NOW)
    assert again.refusal is ResultsRefusal.NOT_DRAFT

    async with sessions() as session:
        evaluation = await evaluate_results(session, first, entry.id)
    assert isinstance(evaluation, Evaluation)
    director, members = evaluation.positions
    assert director.outcome.status is ResultStatus.DECIDED
    assert [director.names[c] for c in director.outcome.elected] == ["王伟"]
    assert [members.names[c] for c in members.outcome.elected] == ["张强", "刘芳"]
    decisions = {members.names[line.candidate_id]: line for line in members.outcome.positions[0].lines}
    assert decisions["陈明"].decision is VoteDecision.BELOW_THRESHOLD  # 8 of 16: exactly half fails
    assert decisions["陈明"].source.cite == "OL 15 ¶2"
    assert members.outcome.positions[0].unfilled == 0
    assert evaluation.women is not None and evaluation.women.met  # 刘芳

    published = await publish(sessions, first, entry.id, tmp_path)
    assert published.refusal is None and published.recipients == 3
    assert published.chart_path is not None and published.chart_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert published.pdf_path is not None and published.pdf_path.read_bytes()[:5] == b"%PDF-"
    async with sessions() as session:
        rows = list((await session.exec(select(Delivery).order_by(col(Delivery.id)))).all())
        stored = await session.get(ResultEntry, entry.id)
    assert len(rows) == 9  # text, chart, PDF to each of three villagers
    texts = [json.loads(r.payload)["text"] for r in rows if json.loads(r.payload)["method"] == "sendMessage"]
    assert any("王伟" in t and entry.fingerprint[:4] in t and "当选" in t for t in texts)
    assert any("elected" in t for t in texts)  # the English reader's copy
    assert stored is not None and stored.status == "published" and stored.objections_until is not None

    twice = await publish(sessions, first, entry.id, tmp_path)
    assert twice.refusal is ResultsRefusal.ALREADY_PUBLISHED

    async with sessions() as session:
        latest = await latest_results(session, replace(first, village=setup.roll.village), today=NOW.date())
    assert latest.announcement is not None and latest.announcement.evaluation.entry.id == entry.id

    async with sessions() as session:
        audit = list((await session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))).all())
        assert (await verify_audit(session, setup.roll.village.id or 0)).intact
    assert [a.action for a in audit] == ["results_entered", "results_confirmed", "results_published"]


async def publish_results_unconfirmed(
    session, me: Me, entry_id: int, tmp_path: Path
) -> ResultsRefusal | None:  # type: ignore[no-untyped-def]
    outcome = await publish_results(
        session, me, entry_id, words=lambda a: results_document(a, translator("en")), render=render,
        out_dir=tmp_path, zone=ZONE, default_locale="en", now=NOW,
    )  # fmt: skip
    return outcome.refusal


async def test_a_correction_is_a_new_version_and_the_old_one_is_kept(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00"])
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    v1 = (await enter(sessions, first, setup, good_tally())).entry
    assert v1 is not None and v1.id is not None
    async with sessions() as session:
        await confirm_results(session, second, v1.id, now=NOW)
    assert (await publish(sessions, first, v1.id, tmp_path)).refusal is None

    tally = good_tally()
    director = replace(tally.positions[0], votes=[VoteLine("王伟", 10), VoteLine("李娜", 5)])
    v2 = (
        await enter(sessions, second, setup, replace(tally, positions=[director, tally.positions[1]]))
    ).entry
    assert v2 is not None and v2.id is not None
    assert v2.version == 2 and v2.fingerprint != v1.fingerprint
    async with sessions() as session:
        assert (await session.get(ResultEntry, v1.id)).status == "published"  # type: ignore[union-attr]
    async with sessions() as session:
        await confirm_results(session, first, v2.id, now=NOW)
    corrected = await publish(sessions, first, v2.id, tmp_path)
    assert corrected.refusal is None and corrected.announcement is not None
    assert corrected.announcement.superseded == (v1.fingerprint,)
    async with sessions() as session:
        old, new = await session.get(ResultEntry, v1.id), await session.get(ResultEntry, v2.id)
    assert old is not None and new is not None
    assert (old.status, old.fingerprint, new.status) == ("superseded", v1.fingerprint, "published")
    assert old.superseded_at is not None
    text = announcement_text(corrected.announcement, translator("en"))
    assert "corrects the results published earlier" in text


async def test_counts_that_do_not_add_up_are_refused_with_the_numbers(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    first = await member(sessions, setup, 1)
    tally = good_tally()
    director = replace(tally.positions[0], returned=19)  # more than the 18 issued
    outcome = await enter(sessions, first, setup, replace(tally, positions=[director, tally.positions[1]]))
    assert outcome.refusal is ResultsRefusal.TALLY_INCONSISTENT and outcome.position is Position.DIRECTOR
    reasons = {p.reason: dict(p.numbers) for p in outcome.problems}
    assert reasons[TallyProblemReason.RETURNED_ABOVE_ISSUED] == {"returned": 19, "issued": 18}
    assert reasons[TallyProblemReason.VALID_PLUS_INVALID_NOT_RETURNED] == {
        "valid": 15,
        "invalid": 1,
        "returned": 19,
    }

    members = replace(
        tally.positions[1], votes=[VoteLine("张强", 16), VoteLine("刘芳", 16), VoteLine("陈明", 1)]
    )
    outcome = await enter(sessions, first, setup, replace(tally, positions=[tally.positions[0], members]))
    assert outcome.refusal is ResultsRefusal.TALLY_INCONSISTENT and outcome.position is Position.MEMBER
    [problem] = outcome.problems
    assert dict(problem.numbers) == {"votes": 33, "valid": 16, "seats": 2}
    async with sessions() as session:
        assert (await session.exec(select(ResultEntry))).all() == []
        assert (await session.exec(select(AuditEntry))).all() == []


async def test_names_positions_and_rights(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    first = await member(sessions, setup, 1)
    stranger = await member(sessions, setup, 3, committee=False)
    tally = good_tally()
    assert (await enter(sessions, stranger, setup, tally)).refusal is ResultsRefusal.NOT_ALLOWED

    typo = replace(tally.positions[0], votes=[VoteLine("王玮", 11), VoteLine("李娜", 4)])
    outcome = await enter(sessions, first, setup, replace(tally, positions=[typo, tally.positions[1]]))
    assert (outcome.refusal, outcome.names) == (ResultsRefusal.NOT_A_CANDIDATE, ("王玮",))

    twice = replace(tally.positions[0], votes=[VoteLine("王伟", 5), VoteLine("王伟", 6)])
    outcome = await enter(sessions, first, setup, replace(tally, positions=[twice, tally.positions[1]]))
    assert (outcome.refusal, outcome.names) == (ResultsRefusal.DUPLICATE_NAME, ("王伟",))

    outcome = await enter(sessions, first, setup, replace(tally, positions=[tally.positions[0]]))
    assert (outcome.refusal, outcome.position) == (ResultsRefusal.MISSING_POSITION, Position.MEMBER)

    wrong = PositionCount(Position.SECRETARY, 1, 1, 1, 0, [VoteLine("王伟", 1)])
    outcome = await enter(sessions, first, setup, replace(tally, positions=[*tally.positions, wrong]))
    assert outcome.refusal is ResultsRefusal.UNKNOWN_POSITION


async def test_a_vote_with_too_few_ballots_is_void(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    low = TallyInput(
        positions=[
            PositionCount(Position.DIRECTOR, 12, 10, 10, 0, [VoteLine("王伟", 9), VoteLine("李娜", 1)]),
            PositionCount(Position.MEMBER, 12, 10, 10, 0, [VoteLine("张强", 9), VoteLine("刘芳", 8)]),
        ]
    )  # 10 of 20: exactly half is not more than half (OL 15 ¶2)
    entry = (await enter(sessions, first, setup, low)).entry
    assert entry is not None and entry.id is not None
    async with sessions() as session:
        await confirm_results(session, second, entry.id, now=NOW)
    async with sessions() as session:
        evaluation = await evaluate_results(session, first, entry.id)
    assert isinstance(evaluation, Evaluation)
    assert all(p.outcome.status is ResultStatus.INVALID for p in evaluation.positions)
    announcement = Announcement(
        evaluation=evaluation,
        published_on=NOW.date(),
        objections_until=None,
        finality=__import__("bot.services.results", fromlist=["Finality"]).Finality.FINAL,
    )
    text = announcement_text(announcement, translator("en"))
    assert "Void: only 10 of 20 took part" in text and "art. 15, para. 2" in text


async def test_a_seat_left_open_goes_to_a_second_round_with_its_own_rule(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    setup = await results_election(sessions)
    await bind_villagers(sessions, setup, ["村民00"])
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    tally = good_tally()
    # Only 张强 has more than half: one member's seat stays open (OL 15 ¶2).
    members = replace(
        tally.positions[1], votes=[VoteLine("张强", 12), VoteLine("刘芳", 8), VoteLine("陈明", 7)]
    )
    v1 = (await enter(sessions, first, setup, replace(tally, positions=[tally.positions[0], members]))).entry
    assert v1 is not None and v1.id is not None
    async with sessions() as session:
        await confirm_results(session, second, v1.id, now=NOW)
    early = TallyInput(round=ElectionRound.SECOND, positions=[tally.positions[1]])
    assert (await enter(sessions, first, setup, early)).refusal is ResultsRefusal.NO_SECOND_ROUND
    published = await publish(sessions, first, v1.id, tmp_path)
    assert published.announcement is not None
    [_director, member_result] = published.announcement.evaluation.positions
    decided = member_result.outcome.positions[0]
    assert decided.unfilled == 1 and decided.next_step.value == "second_round"
    assert "另行选举" in announcement_text(published.announcement, translator("zh_Hans"))

    # The second round: most votes win, but never below 1/3 of the ballots cast (OL 15 ¶2).
    runoff = TallyInput(
        round=ElectionRound.SECOND,
        positions=[PositionCount(Position.MEMBER, 18, 15, 15, 0, [VoteLine("刘芳", 7), VoteLine("陈明", 5)])],
    )
    v2 = (await enter(sessions, first, setup, runoff)).entry
    assert v2 is not None and v2.id is not None and v2.version == 1 and v2.round == "second"
    async with sessions() as session:
        evaluation = await evaluate_results(session, first, v2.id)
    assert isinstance(evaluation, Evaluation)
    [result] = evaluation.positions
    assert [result.names[c] for c in result.outcome.elected] == ["刘芳"]  # 7 of 15 ≥ 1/3, not > 1/2
    assert result.outcome.positions[0].source.cite == "OL 15 ¶2"
    assert evaluation.women is not None and evaluation.women.met  # 刘芳, counted with the first round


async def test_a_party_election_needs_the_members_present(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    async with sessions() as session:
        election = await session.get(Election, setup.id)
        assert election is not None
        election.kind = "party_two_pushes"
        session.add(election)
        await session.exec(delete(ElectionPosition).where(col(ElectionPosition.position) == "member"))
        await session.exec(delete(ElectionCandidate).where(col(ElectionCandidate.position) == "member"))
        await session.exec(update(ElectionPosition).values(position="secretary"))
        await session.exec(update(ElectionCandidate).values(position="secretary"))
        for name in (
            "王伟",
            "李娜",
            "张强",
            "刘芳",
            "陈明",
            "村民00",
            "村民01",
            "村民02",
            "村民03",
            "村民04",
        ):
            person = await session.get(Person, setup.roll.people[name].id)
            assert person is not None
            person.party_member = True
            session.add(person)
        await session.commit()
    first = await member(sessions, setup, 1)
    count = PositionCount(Position.SECRETARY, 9, 9, 9, 0, [VoteLine("王伟", 5), VoteLine("李娜", 4)])
    assert (
        await enter(sessions, first, setup, TallyInput([count]))
    ).refusal is ResultsRefusal.PRESENT_REQUIRED
    # 8 of 10 present is not more than 4/5 (PR): void.
    entry = (
        await enter(
            sessions,
            first,
            setup,
            TallyInput(
                [
                    replace(
                        count, issued=8, returned=8, valid=8, votes=[VoteLine("王伟", 5), VoteLine("李娜", 3)]
                    )
                ],
                present=8,
            ),
        )
    ).entry
    assert entry is not None and entry.registered == 10 and entry.present == 8
    async with sessions() as session:
        evaluation = await evaluate_results(session, first, entry.id or 0)
    assert isinstance(evaluation, Evaluation)
    assert evaluation.positions[0].outcome.status is ResultStatus.INVALID
    entry = (await enter(sessions, first, setup, TallyInput([count], present=9))).entry
    assert entry is not None and entry.version == 2
    async with sessions() as session:
        evaluation = await evaluate_results(session, first, entry.id or 0)
    assert isinstance(evaluation, Evaluation)
    [result] = evaluation.positions
    assert [result.names[c] for c in result.outcome.elected] == ["王伟"]  # 5 of 9 present: more than half
    async with sessions() as session:
        old = (await session.exec(select(ResultEntry).where(ResultEntry.version == 1))).one()
    assert old.status == "superseded"  # an unpublished draft is replaced by the newer one


async def test_two_members_saving_at_once_get_two_versions(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    outcomes = await asyncio.gather(
        enter(sessions, first, setup, good_tally()), enter(sessions, second, setup, good_tally())
    )
    assert sorted(o.entry.version for o in outcomes if o.entry is not None) == [1, 2]
    async with sessions() as session:
        statuses = sorted(e.status for e in (await session.exec(select(ResultEntry))).all())
        assert (await verify_audit(session, setup.roll.village.id or 0)).intact
    assert statuses == ["draft", "superseded"]


async def test_the_other_committee_members_are_asked_to_confirm(sessions: SessionFactory) -> None:
    setup = await results_election(sessions)
    first, second = await member(sessions, setup, 1), await member(sessions, setup, 2)
    async with sessions() as session:
        # Roles are matched on the proven phone: give both accounts the committee role.
        for me in (first, second):
            session.add(
                Role(village_id=setup.roll.village.id or 0, phone=me.account.phone or "", role="committee")
            )
        await session.commit()
    asked: list[tuple[int | None, str]] = []

    def ask(entry: ResultEntry, election: Election, locale: str) -> MessagePayload:
        asked.append((entry.version, locale))
        return MessagePayload(text=f"confirm {election.title} v{entry.version}")

    async with sessions() as session:
        outcome = await enter_results(session, first, setup.id, good_tally(), now=NOW, ask_to_confirm=ask)
    assert outcome.entry is not None
    async with sessions() as session:
        rows = (await session.exec(select(Delivery))).all()
    assert [r.account_id for r in rows] == [second.account.id]  # not the member who entered it
    assert asked == [(1, "zh_Hans")]

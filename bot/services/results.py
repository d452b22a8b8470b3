"""Results of the formal vote: the committee enters the paper count, a second member confirms it, the
law decides it (bot.rules.results), and the announcement goes to the whole village.

Four eyes: the member who entered a count cannot confirm it. A count that does not add up is refused
with the numbers that disagree. Publishing is once per version; a correction after publication is a
new version with its own fingerprint, and the published one is kept, marked superseded, when the
correction is published. The fingerprint is the SHA-256 of the canonical tally (`tally_document`),
printed on the message, the chart and the PDF. Results stay provisional until the objection window
closes (RULES.md, "Publicity and supervision"), then they are final.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.fonts import CjkFontMissing
from bot.files.results import ResultsDocument, render_results_chart, render_results_pdf
from bot.locale_choice import resolve_locale
from bot.rules.fingerprint import fingerprint
from bot.rules.policy import Denominator, Policy, Position
from bot.rules.recommendation import CutStage
from bot.rules.results import (
    BallotCounts,
    ElectionRound,
    PositionVotes,
    ResultOutcome,
    TallyProblem,
    WomenCheck,
    check_tally,
    check_women,
    decide_results,
)
from bot.rules.schedule import objection_deadline
from bot.services.audit import AuditAction, append_audit
from bot.services.elections import policy_of
from bot.services.identity import Me, RoleName
from bot.services.notices import (
    TITLE_LIMIT,
    Attachment,
    AttachmentKind,
    Audience,
    NoticeDraft,
    NoticeRefusal,
    PublicityFields,
    Recipient,
    publish_notice,
)
from bot.services.outbox import BroadcastKind, MessagePayload, OutgoingMessage, enqueue_broadcast
from bot.services.recommendations import position_from_text
from storage.models import (
    Election,
    Notice,
    ResultEntry,
    ResultEntryStatus,
    ResultPosition,
    ResultVote,
    Village,
)
from storage.repositories import audit as audit_repo
from storage.repositories import elections as elections_repo
from storage.repositories import notices as notices_repo
from storage.repositories import results as results_repo

RESULTS_LIST_KIND = "results"
NAME_LIMIT = 100


# --- what the committee enters ------------------------------------------------------------------


@dataclass(frozen=True)
class VoteLine:
    name: str
    votes: int
    write_in: bool = False  # a name written on the ballot (另选他人), not on the formal list


@dataclass(frozen=True)
class PositionCount:
    position: Position
    issued: int
    returned: int
    valid: int
    invalid: int
    votes: Sequence[VoteLine]


@dataclass(frozen=True)
class TallyInput:
    positions: Sequence[PositionCount]
    round: ElectionRound = ElectionRound.FIRST
    present: int | None = None  # party elections: members present (PR)


class ResultsRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_ELECTION = "unknown_election"
    NO_CANDIDATES = "no_candidates"  # no formal candidate list was published
    NO_POSITIONS = "no_positions"
    UNKNOWN_POSITION = "unknown_position"  # the election fills no such position
    MISSING_POSITION = "missing_position"  # a first-round count must cover every position
    DUPLICATE_POSITION = "duplicate_position"
    DUPLICATE_NAME = "duplicate_name"
    NOT_A_CANDIDATE = "not_a_candidate"  # not on the formal list and not marked as written in
    BAD_NAME = "bad_name"
    PRESENT_REQUIRED = "present_required"
    TALLY_INCONSISTENT = "tally_inconsistent"
    UNKNOWN_ENTRY = "unknown_entry"
    NOT_DRAFT = "not_draft"  # confirmed, published or superseded already
    OWN_ENTRY = "own_entry"  # four eyes: someone else confirms
    NOT_CONFIRMED = "not_confirmed"
    ALREADY_PUBLISHED = "already_published"
    SUPERSEDED = "superseded"
    FONT_MISSING = "font_missing"
    EMPTY_AUDIENCE = "empty_audience"
    NOT_BOUND = "not_bound"
    NO_RESULTS = "no_results"
    NO_SECOND_ROUND = "no_second_round"  # no published first round left a seat open


@dataclass(frozen=True)
class ResultsOutcome:
    refusal: ResultsRefusal | None = None
    entry: ResultEntry | None = None
    problems: tuple[TallyProblem, ...] = ()
    position: Position | None = None
    names: tuple[str, ...] = ()
    superseded: tuple[int, ...] = ()  # entries this one replaced


def _committee(me: Me | None, village_id: int) -> bool:
    return me is None or me.has_role(village_id, RoleName.COMMITTEE)


async def _formal_candidates(session: AsyncSession, election_id: int) -> dict[Position, dict[str, int]]:
    listed: dict[Position, dict[str, int]] = {}
    for candidate, line in await elections_repo.candidates(session, election_id, CutStage.FORMAL.value):
        assert line.person.id is not None
        listed.setdefault(Position(candidate.position), {})[line.person.name] = line.person.id
    return listed


def _clean(name: str) -> str:
    return " ".join(name.split())


# What the other committee members are told about a new count (entry, their locale): a confirm button.
ConfirmRequest = Callable[[ResultEntry, Election, str], MessagePayload]


async def enter_results(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    tally: TallyInput,
    *,
    now: datetime,
    ask_to_confirm: ConfirmRequest | None = None,
    default_locale: str = "zh_Hans",
) -> ResultsOutcome:
    """Store a new version of the round's count (a draft), or refuse it saying what disagrees.

    `me` is None only for the shell (`cunmin results import`). A draft or confirmed version not yet
    published is superseded by the new one; a published one stays in force until the new one is
    published.
    """
    outcome = await _enter(session, me, election_id, tally, now, ask_to_confirm, default_locale)
    if outcome.refusal is not None:
        await session.commit()  # nothing was written: end the read (storage/db.py)
    return outcome


async def _enter(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    tally: TallyInput,
    now: datetime,
    ask_to_confirm: ConfirmRequest | None,
    default_locale: str,
) -> ResultsOutcome:
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        return ResultsOutcome(refusal=ResultsRefusal.UNKNOWN_ELECTION)
    if not _committee(me, election.village_id):
        return ResultsOutcome(refusal=ResultsRefusal.NOT_ALLOWED)
    policy = policy_of(election)
    seats = {Position(p.position): p.seats for p in await elections_repo.positions(session, election.id)}
    listed = await _formal_candidates(session, election.id)
    if not listed:
        return ResultsOutcome(refusal=ResultsRefusal.NO_CANDIDATES)
    if tally.round is ElectionRound.SECOND:
        # 另行选举 fills only the seats the published first round left open (OL 15 ¶2).
        seats = await _seats_left_open(session, election)
        if not seats:
            return ResultsOutcome(refusal=ResultsRefusal.NO_SECOND_ROUND)
    if not tally.positions:
        return ResultsOutcome(refusal=ResultsRefusal.NO_POSITIONS)
    seen: set[Position] = set()
    for count in tally.positions:
        if count.position not in seats:
            return ResultsOutcome(refusal=ResultsRefusal.UNKNOWN_POSITION, position=count.position)
        if count.position in seen:
            return ResultsOutcome(refusal=ResultsRefusal.DUPLICATE_POSITION, position=count.position)
        seen.add(count.position)
    if tally.round is ElectionRound.FIRST:
        missing = [p for p in seats if p not in seen]
        if missing:
            return ResultsOutcome(refusal=ResultsRefusal.MISSING_POSITION, position=missing[0])
    party = policy.turnout_measure.value is Denominator.MEMBERS_PRESENT
    if party and tally.present is None:
        return ResultsOutcome(refusal=ResultsRefusal.PRESENT_REQUIRED)
    present = tally.present if party else None
    registered = await results_repo.registered_count(
        session, election.village_id, party_members_only=election_is_party(policy)
    )

    for count in tally.positions:
        names = [_clean(v.name) for v in count.votes]
        bad = tuple(n for n in names if not n or len(n) > NAME_LIMIT)
        if bad:
            return ResultsOutcome(refusal=ResultsRefusal.BAD_NAME, position=count.position, names=bad)
        doubled = tuple(sorted({n for n in names if names.count(n) > 1}))
        if doubled:
            return ResultsOutcome(
                refusal=ResultsRefusal.DUPLICATE_NAME, position=count.position, names=doubled
            )
        on_list = listed.get(count.position, {})
        strangers = tuple(
            _clean(v.name) for v in count.votes if not v.write_in and _clean(v.name) not in on_list
        )
        if strangers:
            return ResultsOutcome(
                refusal=ResultsRefusal.NOT_A_CANDIDATE, position=count.position, names=strangers
            )
        problems = check_tally(
            policy,
            BallotCounts(count.issued, count.returned, count.valid, count.invalid),
            [
                PositionVotes(
                    count.position, seats[count.position], {i: v.votes for i, v in enumerate(count.votes)}
                )
            ],
            registered=registered,
            present=present,
        )
        if problems:
            return ResultsOutcome(
                refusal=ResultsRefusal.TALLY_INCONSISTENT,
                position=count.position,
                problems=tuple(problems),
                names=tuple(_clean(v.name) for v in count.votes),
            )

    # Two members saving at once: the second waits here and takes the next version number.
    await audit_repo.lock_village_chain(session, election.village_id)
    version = await results_repo.last_version(session, election.id, tally.round.value) + 1
    document = tally_document(
        election,
        await session.get(Village, election.village_id),
        round_=tally.round,
        version=version,
        registered=registered,
        present=present,
        positions=[
            (c, seats[c.position])
            for c in sorted(tally.positions, key=lambda c: _position_order(policy, c.position))
        ],
    )
    digest = fingerprint(document)
    entry = ResultEntry(
        election_id=election.id,
        round=tally.round.value,
        version=version,
        status=ResultEntryStatus.DRAFT,
        registered=registered,
        present=present,
        fingerprint=digest,
        entered_by_account_id=me.account.id if me else None,
        entered_at=now,
    )
    session.add(entry)
    await session.flush()
    assert entry.id is not None
    superseded = await results_repo.supersede(
        session,
        election.id,
        tally.round.value,
        [ResultEntryStatus.DRAFT, ResultEntryStatus.CONFIRMED],
        keep=entry.id,
        now=now,
    )
    for count in tally.positions:
        row = ResultPosition(
            entry_id=entry.id,
            position=count.position.value,
            seats=seats[count.position],
            issued=count.issued,
            returned=count.returned,
            valid=count.valid,
            invalid=count.invalid,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        on_list = listed.get(count.position, {})
        for vote in count.votes:
            name = _clean(vote.name)
            session.add(
                ResultVote(
                    result_position_id=row.id,
                    person_id=None if vote.write_in else on_list[name],
                    name=name,
                    write_in=vote.write_in,
                    votes=vote.votes,
                )
            )
    await append_audit(
        session,
        election.village_id,
        me,
        AuditAction.RESULTS_ENTERED,
        {
            "election_id": election.id,
            "entry_id": entry.id,
            "round": tally.round.value,
            "version": version,
            "fingerprint": digest,
            "superseded": superseded,
        },
        now=now,
    )
    if ask_to_confirm is not None:
        await _ask_others(session, me, election, entry, ask_to_confirm, default_locale)
    await session.commit()
    return ResultsOutcome(entry=entry, superseded=tuple(superseded))


async def _ask_others(
    session: AsyncSession,
    me: Me | None,
    election: Election,
    entry: ResultEntry,
    ask: ConfirmRequest,
    default_locale: str,
) -> None:
    """Four eyes: every other committee member linked in chat is asked to check and confirm."""
    messages = []
    for account in await notices_repo.committee_accounts(
        session, election.village_id, (RoleName.COMMITTEE.value,)
    ):
        if account.id is None or account.chat_id is None or (me is not None and account.id == me.account.id):
            continue
        locale = resolve_locale(account.locale, account.telegram_language_code, default_locale)
        messages.append(
            OutgoingMessage(
                account_id=account.id,
                chat_id=account.chat_id,
                payload=ask(entry, election, locale),
                locale=locale,
                requires_binding=False,
            )
        )
    if messages:
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.OTHER,
            title=f"results {entry.id} to confirm",
            village_id=election.village_id,
            created_by_account_id=me.account.id if me else None,
            messages=messages,
            commit=False,
        )


@dataclass(frozen=True)
class SheetCount:
    """A position's count as a spreadsheet gives it: the position as written."""

    position: str
    issued: int
    returned: int
    valid: int
    invalid: int
    votes: Sequence[VoteLine]


async def import_results(
    session: AsyncSession,
    election_id: int,
    counts: Sequence[SheetCount],
    *,
    present: int | None,
    round_: ElectionRound = ElectionRound.FIRST,
    now: datetime,
) -> ResultsOutcome | str:
    """`enter_results` from the shell; the position text that names no position of the election if any."""
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        await session.commit()
        return ResultsOutcome(refusal=ResultsRefusal.UNKNOWN_ELECTION)
    filled = [Position(p.position) for p in await elections_repo.positions(session, election.id)]
    resolved: list[PositionCount] = []
    for count in counts:
        position = position_from_text(count.position, filled)
        if position is None:
            await session.commit()
            return count.position
        resolved.append(
            PositionCount(position, count.issued, count.returned, count.valid, count.invalid, count.votes)
        )
    return await enter_results(
        session, None, election_id, TallyInput(positions=resolved, round=round_, present=present), now=now
    )


def election_is_party(policy: Policy) -> bool:
    return policy.turnout_measure.value is Denominator.MEMBERS_PRESENT or policy.full_party_members_only.value


def _position_order(policy: Policy, position: Position) -> int:
    order = [spec.position for spec in policy.positions]
    return order.index(position) if position in order else len(order)


def _vote_order(vote: VoteLine) -> tuple[int, str]:
    return (-vote.votes, _clean(vote.name))


def tally_document(
    election: Election,
    village: Village | None,
    *,
    round_: ElectionRound,
    version: int,
    registered: int,
    present: int | None,
    positions: Sequence[tuple[PositionCount, int]],
) -> dict[str, Any]:
    """The canonical tally whose SHA-256 is the fingerprint (bot.rules.fingerprint, version 1).

    Positions in the order of the election's policy; in each, the names by votes (most first), then
    by name. Nothing about who entered or confirmed it: the same count gives the same fingerprint.
    """
    return {
        "document": "cunmin.results",
        "v": 1,
        "village": village.name if village else "",
        "township": village.township if village else "",
        "election_id": election.id,
        "election": election.title,
        "round": round_.value,
        "version": version,
        "registered": registered,
        "present": present,
        "positions": [
            {
                "position": count.position.value,
                "seats": seats,
                "issued": count.issued,
                "returned": count.returned,
                "valid": count.valid,
                "invalid": count.invalid,
                "votes": [
                    {"name": _clean(v.name), "votes": v.votes, "write_in": v.write_in}
                    for v in sorted(count.votes, key=_vote_order)
                ],
            }
            for count, seats in positions
        ],
    }


# --- four eyes ------------------------------------------------------------------------------------


async def confirm_results(session: AsyncSession, me: Me, entry_id: int, *, now: datetime) -> ResultsOutcome:
    """A second committee member confirms a draft count; the member who entered it cannot."""
    outcome = await _confirm(session, me, entry_id, now)
    if outcome.refusal is not None:
        await session.commit()  # nothing was written: end the read
    return outcome


async def _confirm(session: AsyncSession, me: Me, entry_id: int, now: datetime) -> ResultsOutcome:
    entry = await results_repo.lock_entry(session, entry_id)
    election = await elections_repo.get(session, entry.election_id) if entry else None
    if entry is None or election is None:
        return ResultsOutcome(refusal=ResultsRefusal.UNKNOWN_ENTRY)
    if not me.has_role(election.village_id, RoleName.COMMITTEE):
        return ResultsOutcome(refusal=ResultsRefusal.NOT_ALLOWED)
    if entry.status != ResultEntryStatus.DRAFT:
        return ResultsOutcome(refusal=ResultsRefusal.NOT_DRAFT, entry=entry)
    if entry.entered_by_account_id is not None and entry.entered_by_account_id == me.account.id:
        return ResultsOutcome(refusal=ResultsRefusal.OWN_ENTRY, entry=entry)
    entry.status = ResultEntryStatus.CONFIRMED
    entry.confirmed_by_account_id = me.account.id
    entry.confirmed_at = now
    session.add(entry)
    await append_audit(
        session,
        election.village_id,
        me,
        AuditAction.RESULTS_CONFIRMED,
        {
            "election_id": election.id,
            "entry_id": entry_id,
            "version": entry.version,
            "fingerprint": entry.fingerprint,
        },
        now=now,
    )
    await session.commit()
    return ResultsOutcome(entry=entry)


# --- the law applied ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionResult:
    position: Position
    seats: int
    ballots: BallotCounts
    outcome: ResultOutcome  # decided for this position alone, on its own ballots
    names: Mapping[int, str]  # candidate id in the outcome -> the name as counted
    write_ins: frozenset[int]


@dataclass(frozen=True)
class Evaluation:
    election: Election
    village: Village
    entry: ResultEntry
    positions: tuple[PositionResult, ...]
    women: WomenCheck | None

    @property
    def elected_names(self) -> list[str]:
        return [p.names[c] for p in self.positions for c in p.outcome.elected]


async def _evaluate(session: AsyncSession, entry: ResultEntry) -> Evaluation:
    election = await elections_repo.get(session, entry.election_id)
    assert election is not None
    village = await session.get(Village, election.village_id)
    assert village is not None
    policy = policy_of(election)
    round_ = ElectionRound(entry.round)
    loaded = await results_repo.positions(session, entry.id or 0)
    loaded.sort(key=lambda pair: _position_order(policy, Position(pair[0].position)))
    people = [v.person_id for _, votes in loaded for v in votes if v.person_id is not None]
    women = await results_repo.women_among(session, people)
    elected_before: set[int] = set()
    if round_ is ElectionRound.SECOND:
        elected_before = await _elected_in_first_round(session, election)
    results: list[PositionResult] = []
    for row, votes in loaded:
        # Write-ins have no person id in the outcome: negative ids keep them apart from people.
        ids = {v.id: (v.person_id if v.person_id is not None else -(v.id or 0)) for v in votes}
        ballots = BallotCounts(row.issued, row.returned, row.valid, row.invalid)
        position = Position(row.position)
        outcome = decide_results(
            policy,
            registered=entry.registered,
            ballots=ballots,
            positions=[PositionVotes(position, row.seats, {ids[v.id]: v.votes for v in votes})],
            present=entry.present,
            round=round_,
        )
        results.append(
            PositionResult(
                position=position,
                seats=row.seats,
                ballots=ballots,
                outcome=outcome,
                names={ids[v.id]: v.name for v in votes},
                write_ins=frozenset(ids[v.id] for v in votes if v.write_in),
            )
        )
    decided = [p for r in results for p in r.outcome.positions]
    women_check = check_women(policy, decided, round=round_, women=women, elected_before=elected_before)
    return Evaluation(election, village, entry, tuple(results), women_check)


async def elected_by_position(
    session: AsyncSession, entry: ResultEntry
) -> tuple[tuple[Position, tuple[str, ...]], ...]:
    """Who an entry elects, position by position in the election's order (a read in the caller's
    transaction)."""
    evaluation = await _evaluate(session, entry)
    return tuple((p.position, tuple(p.names[c] for c in p.outcome.elected)) for p in evaluation.positions)


async def _published_first_round(session: AsyncSession, election: Election) -> ResultEntry | None:
    for entry in reversed(await results_repo.entries_of(session, election.id or 0)):
        if entry.round == ElectionRound.FIRST.value and entry.status == ResultEntryStatus.PUBLISHED:
            return entry
    return None


async def _seats_left_open(session: AsyncSession, election: Election) -> dict[Position, int]:
    first = await _published_first_round(session, election)
    if first is None:
        return {}
    evaluation = await _evaluate(session, first)
    return {
        p.position: decided.unfilled
        for p in evaluation.positions
        for decided in p.outcome.positions
        if decided.unfilled > 0
    }


async def _elected_in_first_round(session: AsyncSession, election: Election) -> set[int]:
    first = await _published_first_round(session, election)
    if first is None:
        return set()
    evaluation = await _evaluate(session, first)
    return {c for p in evaluation.positions for c in p.outcome.elected if c > 0}


async def evaluate_results(
    session: AsyncSession, me: Me | None, entry_id: int
) -> Evaluation | ResultsRefusal:
    """What the law makes of an entry (any status), for the committee."""
    entry = await results_repo.get(session, entry_id)
    election = await elections_repo.get(session, entry.election_id) if entry else None
    if entry is None or election is None:
        await session.commit()
        return ResultsRefusal.UNKNOWN_ENTRY
    if not _committee(me, election.village_id):
        await session.commit()
        return ResultsRefusal.NOT_ALLOWED
    evaluation = await _evaluate(session, entry)
    await session.commit()  # end the read (storage/db.py)
    return evaluation


# --- the announcement -----------------------------------------------------------------------------


class Finality(StrEnum):
    PROVISIONAL = "provisional"  # objections may still be raised
    FINAL = "final"


def finality(entry: ResultEntry, today: date) -> Finality:
    if entry.objections_until is not None and today <= entry.objections_until:
        return Finality.PROVISIONAL
    return Finality.FINAL


@dataclass(frozen=True)
class Announcement:
    evaluation: Evaluation
    published_on: date
    objections_until: date | None
    finality: Finality
    superseded: Sequence[str] = field(default=())  # fingerprints of the versions this one replaces


# Words of the announcement in one language: the printed PDF and the chart (the committee's).
DocumentWords = Callable[[Announcement], ResultsDocument]
# Each recipient's copy in their own language: text, chart photo and PDF (paths given).
AnnouncementRenderer = Callable[[Notice, Recipient, Announcement, Path, Path], Sequence[MessagePayload]]


@dataclass(frozen=True)
class PublishedResults:
    refusal: ResultsRefusal | None = None
    announcement: Announcement | None = None
    notice: Notice | None = None
    recipients: int = 0
    unbound: int = 0
    chart_path: Path | None = None
    pdf_path: Path | None = None
    notice_refusal: NoticeRefusal | None = None
    committee_group: bool = False  # also posted to the committee's Telegram group


def _write_files(document: ResultsDocument, chart_path: Path, pdf_path: Path) -> None:
    chart_path.parent.mkdir(parents=True, exist_ok=True)
    png = render_results_chart(document)
    chart_path.write_bytes(png)
    pdf_path.write_bytes(render_results_pdf(document, png))


async def publish_results(
    session: AsyncSession,
    me: Me | None,
    entry_id: int,
    *,
    words: DocumentWords,
    render: AnnouncementRenderer,
    out_dir: Path,
    zone: ZoneInfo,
    default_locale: str,
    now: datetime,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> PublishedResults:
    """Announce a confirmed count to every linked villager: message, chart and PDF, one fingerprint.

    Publishing a version twice is refused. Publishing a correction marks the version in force
    superseded (kept, with its own fingerprint).
    """
    entry = await results_repo.get(session, entry_id)
    election = await elections_repo.get(session, entry.election_id) if entry else None
    refusal: ResultsRefusal | None = None
    if entry is None or election is None:
        refusal = ResultsRefusal.UNKNOWN_ENTRY
    elif not _committee(me, election.village_id):
        refusal = ResultsRefusal.NOT_ALLOWED
    elif entry.status == ResultEntryStatus.PUBLISHED:
        refusal = ResultsRefusal.ALREADY_PUBLISHED
    elif entry.status == ResultEntryStatus.SUPERSEDED:
        refusal = ResultsRefusal.SUPERSEDED
    elif entry.status != ResultEntryStatus.CONFIRMED:
        refusal = ResultsRefusal.NOT_CONFIRMED
    if refusal is not None or entry is None or election is None:
        await session.commit()
        return PublishedResults(refusal=refusal)
    evaluation = await _evaluate(session, entry)
    policy = policy_of(election)
    today = now.astimezone(zone).date()
    until = objection_deadline(policy, today)
    in_force = [
        e
        for e in await results_repo.entries_of(session, election.id or 0)
        if e.round == entry.round and e.status == ResultEntryStatus.PUBLISHED
    ]
    await session.commit()  # end the read: drawing the chart and the PDF takes a while
    announcement = Announcement(
        evaluation=evaluation,
        published_on=today,
        objections_until=until,
        finality=Finality.PROVISIONAL if today <= until else Finality.FINAL,
        superseded=tuple(e.fingerprint for e in in_force),
    )
    document = words(announcement)
    chart_path, pdf_path = results_files(out_dir, entry)
    try:
        await asyncio.to_thread(_write_files, document, chart_path, pdf_path)
    except CjkFontMissing:
        return PublishedResults(refusal=ResultsRefusal.FONT_MISSING)

    # Everything below is committed by publish_notice, or rolled back with its refusal.
    locked = await results_repo.lock_entry(session, entry_id)
    if locked is None or locked.status != ResultEntryStatus.CONFIRMED:
        await session.commit()
        return PublishedResults(refusal=ResultsRefusal.ALREADY_PUBLISHED)
    superseded = await results_repo.supersede(
        session, election.id or 0, entry.round, [ResultEntryStatus.PUBLISHED], keep=entry_id, now=now
    )
    locked.status = ResultEntryStatus.PUBLISHED
    locked.published_at = now
    locked.objections_until = until
    session.add(locked)
    await append_audit(
        session,
        election.village_id,
        me,
        AuditAction.RESULTS_PUBLISHED,
        {
            "election_id": election.id,
            "entry_id": entry_id,
            "version": entry.version,
            "fingerprint": entry.fingerprint,
            "superseded": superseded,
        },
        now=now,
    )
    deadline = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    village_id = election.village_id
    village = evaluation.village
    group_chat_id = village.committee_group_chat_id
    posting_account = me.account.id if me is not None else None

    async def post_to_committee_group(notice: Notice) -> None:
        """The same announcement in the committee's group, in the deployment's language; its own
        broadcast, so that the villagers' delivery report stays about villagers."""
        if group_chat_id is None or posting_account is None:
            return
        group = Recipient(posting_account, group_chat_id, default_locale, village.name)
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.RESULTS,
            title=notice.title,
            village_id=village_id,
            created_by_account_id=posting_account,
            messages=[
                # No objection button: objections are raised by each villager in their own chat.
                OutgoingMessage(
                    account_id=posting_account,
                    chat_id=group_chat_id,
                    payload=replace(payload, reply_markup=None),
                    locale=default_locale,
                    requires_binding=False,
                )
                for payload in render(notice, group, announcement, chart_path, pdf_path)
            ],
            commit=False,
        )

    published = await publish_notice(
        session,
        me=me,
        draft=NoticeDraft(
            village_id=election.village_id,
            title=document.title[:TITLE_LIMIT],  # a long election title must not stop the announcement
            body=document.summary,
            audience=Audience.ALL,
            attachment=Attachment(kind=AttachmentKind.DOCUMENT, name=pdf_path.name, path=str(pdf_path)),
            draft_key=f"results-{entry_id}",
        ),
        render=lambda notice, recipient: render(notice, recipient, announcement, chart_path, pdf_path),
        default_locale=default_locale,
        now=now,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
        publicity=PublicityFields(
            list_kind=RESULTS_LIST_KIND,
            published_on=today,
            objection_deadline=deadline,
            fingerprint=entry.fingerprint,
        ),
        before_commit=post_to_committee_group,
    )
    if published.refusal is not None:
        refusal = (
            ResultsRefusal.EMPTY_AUDIENCE
            if published.refusal is NoticeRefusal.EMPTY_AUDIENCE
            else ResultsRefusal.ALREADY_PUBLISHED
            if published.refusal is NoticeRefusal.ALREADY_SENT
            else ResultsRefusal.NOT_ALLOWED
        )
        return PublishedResults(refusal=refusal, notice_refusal=published.refusal, unbound=published.unbound)
    return PublishedResults(
        announcement=announcement,
        notice=published.notice,
        recipients=published.recipients,
        unbound=published.unbound,
        chart_path=chart_path,
        pdf_path=pdf_path,
        committee_group=group_chat_id is not None and posting_account is not None,
    )


# --- /results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestResults:
    refusal: ResultsRefusal | None = None
    announcement: Announcement | None = None


async def latest_results(session: AsyncSession, me: Me, *, today: date) -> LatestResults:
    """The village's latest published results, for anyone bound in it (or holding a role there)."""
    village_ids = [me.village.id] if me.village is not None and me.village.id is not None else []
    village_ids += [v for v in me.roles if v not in village_ids]
    if not village_ids:
        return LatestResults(refusal=ResultsRefusal.NOT_BOUND)
    for village_id in village_ids:
        found = await results_repo.latest_published(session, village_id)
        if found is None:
            continue
        entry, _election = found
        evaluation = await _evaluate(session, entry)
        await session.commit()  # end the read (storage/db.py)
        return LatestResults(
            announcement=Announcement(
                evaluation=evaluation,
                published_on=(entry.published_at.date() if entry.published_at else today),
                objections_until=entry.objections_until,
                finality=finality(entry, today),
            )
        )
    await session.commit()
    return LatestResults(refusal=ResultsRefusal.NO_RESULTS)


@dataclass(frozen=True)
class CountOverview:
    waiting: list[Evaluation]  # counts not published yet (to confirm, or to publish), newest first
    elections: list[Election]  # elections a new count can be entered for


async def count_overview(session: AsyncSession, me: Me) -> CountOverview:
    """What /count shows a committee member: counts waiting for them, and elections to count."""
    villages = [v.id for v in me.villages_with(RoleName.COMMITTEE) if v.id is not None]
    waiting = [
        await _evaluate(session, entry) for entry, _e in await results_repo.open_entries(session, villages)
    ]
    return CountOverview(waiting=waiting, elections=await countable_elections(session, me))


def results_files(out_dir: Path, entry: ResultEntry) -> tuple[Path, Path]:
    """Where the chart (PNG) and the PDF of a published entry are written."""
    stem = f"results-{entry.election_id}-{entry.round}-v{entry.version}-{entry.fingerprint[:8]}"
    return out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"


@dataclass(frozen=True)
class CountForm:
    """What the committee member is asked for, position by position, in the chat wizard."""

    election: Election
    party: bool  # ask for the members present (PR)
    positions: tuple[tuple[Position, int, tuple[str, ...]], ...]  # position, seats, formal candidates


async def countable_elections(session: AsyncSession, me: Me) -> list[Election]:
    """Elections with a published formal list, in villages where the member is on the committee."""
    villages = [v.id for v in me.villages_with(RoleName.COMMITTEE) if v.id is not None]
    found = []
    for election in await elections_repo.of_villages(session, villages, statuses=["open", "closed"]):
        if election.id is not None and await elections_repo.candidates(
            session, election.id, CutStage.FORMAL.value
        ):
            found.append(election)
    await session.commit()  # end the read (storage/db.py)
    return found


async def count_form(session: AsyncSession, me: Me, election_id: int) -> CountForm | ResultsRefusal:
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        await session.commit()
        return ResultsRefusal.UNKNOWN_ELECTION
    if not me.has_role(election.village_id, RoleName.COMMITTEE):
        await session.commit()
        return ResultsRefusal.NOT_ALLOWED
    policy = policy_of(election)
    listed = await _formal_candidates(session, election.id)
    seats = {Position(p.position): p.seats for p in await elections_repo.positions(session, election.id)}
    await session.commit()  # end the read (storage/db.py)
    if not listed:
        return ResultsRefusal.NO_CANDIDATES
    ordered = sorted(seats, key=lambda p: _position_order(policy, p))
    return CountForm(
        election=election,
        party=policy.turnout_measure.value is Denominator.MEMBERS_PRESENT,
        positions=tuple((p, seats[p], tuple(listed.get(p, {}))) for p in ordered),
    )

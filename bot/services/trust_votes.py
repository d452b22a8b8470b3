"""The villagers' trust vote of the two-ballot system (两票制), by chat.

Each bound voter casts one ballot: trust, no trust or abstain for every preliminary candidate on the
published list. The ballot and the record that the voter took part are written in one commit but to
two tables with nothing in common: no foreign key, no time (the ballot keeps only its day), a random
ballot id. The voter gets a short receipt code, which says that their ballot is in the count, never
how they voted. Counting and the threshold are bot.rules.trust's.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.roll import group_key
from bot.files.tally import TrustTallyRow
from bot.rules.policy import ElectionKind, Policy, Position
from bot.rules.recommendation import CutStage
from bot.rules.schedule import ScheduleProblem, Window
from bot.rules.trust import TrustCount, TrustOutcome, trust_cut_for
from bot.services.audit import AuditAction, append_audit
from bot.services.candidate_lists import (
    CandidateListText,
    CandidateNotifier,
    ListedCandidate,
    PublishedList,
    late_for_candidate_list,
    publish_candidate_list,
)
from bot.services.elections import policy_of
from bot.services.identity import Me, RoleName
from bot.services.notices import NoticeRefusal, PublishOutcome, Renderer
from bot.services.recommendations import (
    PaperProblem,
    PaperProblemReason,
    meeting_window_days,
    person_for_row,
    split_name,
    villager_of,
)
from storage.models import (
    Election,
    ElectionStatus,
    Person,
    TrustBallot,
    TrustMark,
    TrustPaperCount,
    TrustVoter,
    Village,
    VillagerGroup,
)
from storage.repositories import elections as elections_repo
from storage.repositories.elections import PersonLine

# Without 0/O, 1/I/L: read aloud or copied by hand from an old phone's screen.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 8


class TrustChoice(StrEnum):
    TRUST = "trust"  # 信任
    NO_TRUST = "no_trust"  # 不信任
    ABSTAIN = "abstain"  # 弃权


class TrustRefusal(StrEnum):
    NOT_BOUND = "not_bound"
    UNKNOWN_ELECTION = "unknown_election"
    NOT_TWO_BALLOTS = "not_two_ballots"  # only 两票制 has a trust vote
    NO_CANDIDATES = "no_candidates"  # the preliminary candidates are not published yet
    WINDOW_NOT_OPEN = "window_not_open"
    WINDOW_CLOSED = "window_closed"
    NOT_A_VOTER = "not_a_voter"  # removed from the roll, or not a registered voter
    ALREADY_VOTED = "already_voted"
    INCOMPLETE = "incomplete"  # every candidate needs a mark (abstain is a mark)


@dataclass(frozen=True)
class TrustCandidate:
    """A person on the preliminary list; trust is given to the person, whatever their positions."""

    person_id: int
    name: str
    group: str | None
    positions: tuple[Position, ...]


@dataclass(frozen=True)
class TrustBallotForm:
    refusal: TrustRefusal | None = None
    election: Election | None = None
    candidates: tuple[TrustCandidate, ...] = ()  # in the order of the published list
    window: Window | None = None


def _trust_window(election: Election) -> Window | None:
    if election.trust_vote_opens is None or election.trust_vote_closes is None:
        return None
    return Window(election.trust_vote_opens, election.trust_vote_closes)


def new_receipt() -> str:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def receipt_hash(code: str) -> str:
    normal = "".join(c for c in code.upper() if c in RECEIPT_ALPHABET)
    return hashlib.sha256(normal.encode("ascii")).hexdigest()


async def _form(session: AsyncSession, me: Me, election_id: int, now: datetime) -> TrustBallotForm:
    if me.person is None or me.person.id is None or me.village is None:
        return TrustBallotForm(refusal=TrustRefusal.NOT_BOUND)
    election = await elections_repo.get(session, election_id)
    if election is None or election.village_id != me.village.id or election.status == ElectionStatus.DRAFT:
        return TrustBallotForm(refusal=TrustRefusal.UNKNOWN_ELECTION)
    if ElectionKind(election.kind) is not ElectionKind.PARTY_TWO_BALLOTS:
        return TrustBallotForm(refusal=TrustRefusal.NOT_TWO_BALLOTS, election=election)
    found = await elections_repo.candidates(session, election_id, CutStage.PRELIMINARY.value)
    positions: dict[int, list[Position]] = defaultdict(list)
    people: dict[int, tuple[str, str | None]] = {}
    for c, line in found:
        positions[c.person_id].append(Position(c.position))
        people.setdefault(c.person_id, (line.person.name, line.group))
    candidates = tuple(
        TrustCandidate(person_id, name, group, tuple(positions[person_id]))
        for person_id, (name, group) in people.items()
    )
    if not candidates:
        return TrustBallotForm(refusal=TrustRefusal.NO_CANDIDATES, election=election)
    window = _trust_window(election)
    if window is None or now < window.opens:
        return TrustBallotForm(refusal=TrustRefusal.WINDOW_NOT_OPEN, election=election, window=window)
    if now >= window.closes:
        return TrustBallotForm(refusal=TrustRefusal.WINDOW_CLOSED, election=election, window=window)
    person = await session.get(Person, me.person.id)
    if person is None or not villager_of(person).on_roll:
        return TrustBallotForm(refusal=TrustRefusal.NOT_A_VOTER, election=election)
    voted = await session.get(TrustVoter, (election_id, me.person.id))
    if voted is not None:
        return TrustBallotForm(refusal=TrustRefusal.ALREADY_VOTED, election=election, window=window)
    return TrustBallotForm(election=election, candidates=candidates, window=window)


async def trust_ballot_form(
    session: AsyncSession, me: Me, election_id: int, now: datetime
) -> TrustBallotForm:
    """The preliminary candidates to mark, if the sender may vote now (and has not yet)."""
    form = await _form(session, me, election_id, now)
    await session.commit()  # end the read (storage/db.py)
    return form


async def open_trust_votes(session: AsyncSession, me: Me) -> list[Election]:
    """Two-ballot elections of the sender's village (the window is checked by the form)."""
    if me.village is None or me.village.id is None:
        return []
    found = await elections_repo.of_villages(session, [me.village.id], [ElectionStatus.OPEN.value])
    await session.commit()
    return [
        e for e in found if e.kind == ElectionKind.PARTY_TWO_BALLOTS.value and e.trust_vote_opens is not None
    ]


@dataclass(frozen=True)
class CastOutcome:
    refusal: TrustRefusal | None = None
    receipt: str | None = None  # shown once to the voter; only its hash is stored
    cast_on: date | None = None


async def cast_trust_ballot(
    session: AsyncSession,
    me: Me,
    election_id: int,
    marks: Mapping[int, TrustChoice],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> CastOutcome:
    """Cast the sender's ballot once: a mark for every preliminary candidate, nothing else."""
    form = await _form(session, me, election_id, now)
    if form.refusal is not None or me.person is None or me.person.id is None:
        await session.commit()
        return CastOutcome(refusal=form.refusal or TrustRefusal.NOT_BOUND)
    wanted = {c.person_id for c in form.candidates}
    if set(marks) != wanted:
        await session.commit()
        return CastOutcome(refusal=TrustRefusal.INCOMPLETE)
    receipt = new_receipt()
    day = now.astimezone(zone).date()
    ballot_id = secrets.token_hex(16)
    session.add(TrustVoter(election_id=election_id, person_id=me.person.id))
    session.add(
        TrustBallot(id=ballot_id, election_id=election_id, cast_on=day, receipt_hash=receipt_hash(receipt))
    )
    await session.flush()
    for person_id, choice in sorted(marks.items()):
        session.add(TrustMark(ballot_id=ballot_id, candidate_person_id=person_id, choice=choice.value))
    try:
        await session.commit()
    except IntegrityError:
        # The same voter on two phones at once: the primary key of trust_voter kept one ballot.
        await session.rollback()
        return CastOutcome(refusal=TrustRefusal.ALREADY_VOTED)
    return CastOutcome(receipt=receipt, cast_on=day)


async def check_receipt(session: AsyncSession, election_id: int, code: str) -> date | None:
    """The day the ballot with this receipt was cast, or None: never its marks."""
    statement = sa_select(col(TrustBallot.cast_on)).where(
        col(TrustBallot.election_id) == election_id, col(TrustBallot.receipt_hash) == receipt_hash(code)
    )
    found = (await session.execute(statement)).scalar_one_or_none()
    await session.commit()
    return found


# ------------------------------------------------------------------------- paper trust votes


class TrustPaperRefusal(StrEnum):
    UNKNOWN_ELECTION = "unknown_election"
    NOT_TWO_BALLOTS = "not_two_ballots"
    NO_CANDIDATES = "no_candidates"  # the preliminary list is not published: nothing to vote on
    NO_ROWS = "no_rows"
    PROBLEMS = "problems"  # nothing was imported: see `problems`


@dataclass(frozen=True)
class TrustPaperOutcome:
    refusal: TrustPaperRefusal | None = None
    problems: tuple[PaperProblem, ...] = ()
    imported: int = 0
    meetings: int = 0
    replaced: int = 0  # meetings imported before, replaced by this file


@dataclass
class _TrustLine:
    row: TrustTallyRow
    group_id: int
    candidate_id: int


async def import_trust_paper(
    session: AsyncSession,
    election_id: int,
    rows: Sequence[TrustTallyRow],
    *,
    zone: ZoneInfo,
    now: datetime,
    entered_by_account_id: int | None = None,
) -> TrustPaperOutcome:
    """Import the trust votes cast on paper at groups' meetings: every row or none.

    A meeting (group, date) imported before is replaced by the file's rows for it. The ballots of a
    group on paper plus its voters who voted by chat may not exceed its registered voters: nobody
    votes twice.
    """
    outcome = await _import_trust_paper(session, election_id, rows, zone, now, entered_by_account_id)
    if outcome.refusal is not None:
        await session.commit()  # nothing was written: end the read
    return outcome


async def _import_trust_paper(
    session: AsyncSession,
    election_id: int,
    rows: Sequence[TrustTallyRow],
    zone: ZoneInfo,
    now: datetime,
    entered_by: int | None,
) -> TrustPaperOutcome:
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        return TrustPaperOutcome(refusal=TrustPaperRefusal.UNKNOWN_ELECTION)
    if ElectionKind(election.kind) is not ElectionKind.PARTY_TWO_BALLOTS:
        return TrustPaperOutcome(refusal=TrustPaperRefusal.NOT_TWO_BALLOTS)
    on_list = {
        c.person_id
        for c, _line in await elections_repo.candidates(session, election.id, CutStage.PRELIMINARY.value)
    }
    if not on_list:
        return TrustPaperOutcome(refusal=TrustPaperRefusal.NO_CANDIDATES)
    if not rows:
        return TrustPaperOutcome(refusal=TrustPaperRefusal.NO_ROWS)
    groups = await elections_repo.groups(session, election.village_id)
    group_by_key = {group_key(g.name): g for g in groups}
    people: dict[str, list[PersonLine]] = defaultdict(list)
    names = {split_name(row.name)[0] for row in rows}
    for line in await elections_repo.people_named(session, election.village_id, names):
        people[line.person.name].append(line)
    window = _trust_window(election)

    problems: list[PaperProblem] = []
    resolved: list[_TrustLine] = []
    for row in rows:
        before = len(problems)
        group = group_by_key.get(group_key(row.group))
        if group is None:
            problems.append(PaperProblem(row.line, PaperProblemReason.UNKNOWN_GROUP, row.group))
        if window is not None:
            first, last = meeting_window_days(window, zone)
            if not first <= row.meeting_date <= last:
                problems.append(
                    PaperProblem(
                        row.line,
                        PaperProblemReason.MEETING_OUTSIDE_TRUST_WINDOW,
                        row.meeting_date.isoformat(),
                    )
                )
        person = person_for_row(row, people, problems)
        if person is not None and person.id not in on_list:
            problems.append(PaperProblem(row.line, PaperProblemReason.NOT_A_CANDIDATE, row.name))
        marks = row.trust + row.no_trust + row.abstain
        if marks > row.ballots:
            problems.append(
                PaperProblem(
                    row.line,
                    PaperProblemReason.MARKS_ABOVE_BALLOTS,
                    row.name,
                    {"marks": marks, "ballots": row.ballots},
                )
            )
        if len(problems) == before:
            assert group is not None and group.id is not None and person is not None and person.id is not None
            resolved.append(_TrustLine(row, group.id, person.id))

    problems.extend(_trust_meeting_problems(resolved))
    if not problems:
        problems.extend(await _trust_registered_problems(session, election, resolved, groups))
    if problems:
        return TrustPaperOutcome(
            refusal=TrustPaperRefusal.PROBLEMS, problems=tuple(sorted(problems, key=lambda p: p.line))
        )

    meetings = sorted({(r.group_id, r.row.meeting_date) for r in resolved})
    earlier = {
        (m.group_id, m.meeting_date) for m in await elections_repo.trust_paper_meetings(session, election.id)
    }
    await elections_repo.delete_trust_meetings(session, election.id, meetings)
    await append_audit(
        session,
        election.village_id,
        entered_by,
        AuditAction.TRUST_PAPER_IMPORTED,
        {"election_id": election.id, "rows": len(resolved), "meetings": len(meetings)},
        now=now,
    )
    for r in resolved:
        session.add(
            TrustPaperCount(
                election_id=election.id,
                group_id=r.group_id,
                meeting_date=r.row.meeting_date,
                candidate_person_id=r.candidate_id,
                trust=r.row.trust,
                no_trust=r.row.no_trust,
                abstain=r.row.abstain,
                ballots=r.row.ballots,
                entered_by_account_id=entered_by,
                entered_at=now,
            )
        )
    await session.commit()
    return TrustPaperOutcome(
        imported=len(resolved), meetings=len(meetings), replaced=sum(1 for m in meetings if m in earlier)
    )


def _trust_meeting_problems(resolved: Sequence[_TrustLine]) -> list[PaperProblem]:
    """One number of ballots per meeting, and one line per candidate and meeting."""
    problems: list[PaperProblem] = []
    ballots: dict[tuple[int, date], tuple[int, int]] = {}
    seen: dict[tuple[int, date, int], int] = {}
    for r in resolved:
        meeting = (r.group_id, r.row.meeting_date)
        first = ballots.setdefault(meeting, (r.row.ballots, r.row.line))
        if first[0] != r.row.ballots:
            problems.append(
                PaperProblem(
                    r.row.line,
                    PaperProblemReason.BALLOTS_DIFFER,
                    numbers={"ballots": r.row.ballots, "other": first[0]},
                    other_line=first[1],
                )
            )
        key = (*meeting, r.candidate_id)
        if key in seen:
            problems.append(
                PaperProblem(r.row.line, PaperProblemReason.DUPLICATE_LINE, r.row.name, other_line=seen[key])
            )
        seen.setdefault(key, r.row.line)
    return problems


async def _trust_registered_problems(
    session: AsyncSession, election: Election, resolved: Sequence[_TrustLine], groups: Sequence[VillagerGroup]
) -> list[PaperProblem]:
    """Nobody votes twice: a group's paper ballots plus its chat voters within its registered voters."""
    assert election.id is not None
    in_file: dict[tuple[int, date], _TrustLine] = {}
    for r in resolved:
        in_file.setdefault((r.group_id, r.row.meeting_date), r)  # the meeting's first row
    paper: dict[int, int] = defaultdict(int)
    for meeting in await elections_repo.trust_paper_meetings(session, election.id):
        if (meeting.group_id, meeting.meeting_date) not in in_file:
            paper[meeting.group_id] += meeting.ballots
    first_line: dict[int, int] = {}
    for (group_id, _day), r in in_file.items():
        paper[group_id] += r.row.ballots
        first_line[group_id] = min(first_line.get(group_id, r.row.line), r.row.line)
    chat = await elections_repo.trust_voters_by_group(session, election.id)
    registered = await elections_repo.registered_by_group(
        session, election.village_id, party_members_only=False
    )
    names = {g.id: g.name for g in groups}
    problems = []
    for group_id, line in sorted(first_line.items(), key=lambda item: item[1]):
        on_paper, by_chat, voters = paper[group_id], chat.get(group_id, 0), registered.get(group_id, 0)
        if on_paper + by_chat > voters:
            problems.append(
                PaperProblem(
                    line,
                    PaperProblemReason.PARTICIPANTS_ABOVE_REGISTERED,
                    names.get(group_id, ""),
                    {"paper": on_paper, "chat": by_chat, "registered": voters},
                )
            )
    return problems


# ---------------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class PositionTrust:
    position: Position
    seats: int
    outcome: TrustOutcome


@dataclass(frozen=True)
class TrustTally:
    """The trust vote counted: by chat and on paper, apart and together."""

    election: Election
    ballots_cast: int  # chat + paper
    chat_ballots: int
    paper_ballots: int
    voters: int  # who voted by chat (equals chat_ballots unless the database was tampered with)
    registered_voters: int
    names: Mapping[int, str]
    people: Mapping[int, ListedCandidate]
    chat: Mapping[int, TrustCount]
    paper: Mapping[int, TrustCount]
    positions: tuple[PositionTrust, ...]

    @property
    def ready(self) -> bool:
        """Every position has enough formal candidates and consistent counts."""
        return bool(self.positions) and all(not p.outcome.problems for p in self.positions)


async def count_trust_votes(session: AsyncSession, election_id: int) -> TrustTally | None:
    """Trust, no trust and abstain per candidate (GROUP BY), chat and paper, and who passes the threshold."""
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        await session.commit()
        return None
    marks = (
        await session.execute(
            sa_select(col(TrustMark.candidate_person_id), col(TrustMark.choice), func.count())
            .join(TrustBallot, col(TrustBallot.id) == col(TrustMark.ballot_id))
            .where(col(TrustBallot.election_id) == election_id)
            .group_by(col(TrustMark.candidate_person_id), col(TrustMark.choice))
        )
    ).all()
    ballots = (
        await session.execute(sa_select(func.count()).where(col(TrustBallot.election_id) == election_id))
    ).scalar_one()
    voters = (
        await session.execute(sa_select(func.count()).where(col(TrustVoter.election_id) == election_id))
    ).scalar_one()
    paper_totals = await elections_repo.trust_paper_totals(session, election_id)
    paper_ballots = sum(m.ballots for m in await elections_repo.trust_paper_meetings(session, election_id))
    registered = await elections_repo.registered_voters(session, election.village_id)
    found = await elections_repo.candidates(session, election_id, CutStage.PRELIMINARY.value)
    positions = {p.position: p.seats for p in await elections_repo.positions(session, election_id)}
    await session.commit()  # end the read (storage/db.py)
    per_candidate: dict[int, dict[str, int]] = defaultdict(dict)
    for candidate, choice, n in marks:
        per_candidate[int(candidate)][str(choice)] = int(n)
    chat: dict[int, TrustCount] = {}
    paper: dict[int, TrustCount] = {}
    for c, _line in found:
        counts = per_candidate.get(c.person_id, {})
        chat[c.person_id] = TrustCount(
            c.person_id,
            trust=counts.get(TrustChoice.TRUST.value, 0),
            no_trust=counts.get(TrustChoice.NO_TRUST.value, 0),
            abstain=counts.get(TrustChoice.ABSTAIN.value, 0),
        )
        paper[c.person_id] = TrustCount(c.person_id, *paper_totals.get(c.person_id, (0, 0, 0)))
    policy = policy_of(election)
    cast = int(ballots) + paper_ballots
    by_position: dict[Position, list[TrustCount]] = defaultdict(list)
    for c, _line in found:
        on_chat, on_paper = chat[c.person_id], paper[c.person_id]
        by_position[Position(c.position)].append(
            TrustCount(
                c.person_id,
                trust=on_chat.trust + on_paper.trust,
                no_trust=on_chat.no_trust + on_paper.no_trust,
                abstain=on_chat.abstain + on_paper.abstain,
            )
        )
    results = tuple(
        PositionTrust(
            position,
            positions.get(position.value, 0),
            trust_cut_for(
                policy,
                counts,
                ballots_cast=cast,
                registered_voters=registered,
                position=position,
                seats=positions.get(position.value, 0),
            ),
        )
        for position, counts in sorted(by_position.items(), key=lambda item: _position_order(policy, item[0]))
    )
    return TrustTally(
        election=election,
        ballots_cast=cast,
        chat_ballots=int(ballots),
        paper_ballots=paper_ballots,
        voters=int(voters),
        registered_voters=registered,
        names={c.person_id: line.person.name for c, line in found},
        people={
            c.person_id: ListedCandidate(
                c.person_id, line.person.name, line.person.gender, line.person.birth_year, line.group
            )
            for c, line in found
        },
        chat=chat,
        paper=paper,
        positions=results,
    )


def _position_order(policy: Policy, position: Position) -> int:
    order = [spec.position for spec in policy.positions]
    return order.index(position) if position in order else len(order)


# ------------------------------------------------------------------- the formal candidate list


class FormalPublishRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_ELECTION = "unknown_election"
    NOT_TWO_BALLOTS = "not_two_ballots"
    NO_CANDIDATES = "no_candidates"  # no preliminary list: nothing was voted on
    VOTE_NOT_OVER = "vote_not_over"  # the trust vote has not ended (or has no dates)
    TOO_LATE = "too_late"  # less than the legal lead before election day: see `schedule_problems`
    NOT_READY = "not_ready"  # too few passed, or the counts disagree: see `position_problems`
    NOTICE = "notice"  # publish_notice refused: see `notice_refusal`


@dataclass(frozen=True)
class FormalPublishOutcome:
    refusal: FormalPublishRefusal | None = None
    notice_refusal: NoticeRefusal | None = None
    schedule_problems: tuple[ScheduleProblem, ...] = ()
    position_problems: tuple[tuple[Position, TrustOutcome], ...] = ()
    published: PublishedList | None = None


async def publish_formal_candidates(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    *,
    text: Callable[[Election], CandidateListText],
    render: Renderer,
    notify: CandidateNotifier,
    out_dir: Path,
    zone: ZoneInfo,
    default_locale: str,
    now: datetime,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> FormalPublishOutcome:
    """Publish who passed the trust vote (两票制) as the formal candidate list (公示), with PDF,
    spreadsheet, fingerprint and objection window; each person on it is told privately.

    Refused before the trust vote has ended, when publishing today would leave less than the legal
    lead before election day, and while a position has fewer formal candidates than the margin asks
    for or counts that do not add up (the committee and the township decide those first).
    """
    tally = await count_trust_votes(session, election_id)
    if tally is None:
        return FormalPublishOutcome(refusal=FormalPublishRefusal.UNKNOWN_ELECTION)
    election = tally.election
    if me is not None and not me.has_role(election.village_id, RoleName.COMMITTEE):
        return FormalPublishOutcome(refusal=FormalPublishRefusal.NOT_ALLOWED)
    if ElectionKind(election.kind) is not ElectionKind.PARTY_TWO_BALLOTS:
        return FormalPublishOutcome(refusal=FormalPublishRefusal.NOT_TWO_BALLOTS)
    if not tally.positions:
        return FormalPublishOutcome(refusal=FormalPublishRefusal.NO_CANDIDATES)
    window = _trust_window(election)
    if window is None or now < window.closes:
        return FormalPublishOutcome(refusal=FormalPublishRefusal.VOTE_NOT_OVER)
    policy = policy_of(election)
    late = late_for_candidate_list(election, policy, now=now, zone=zone)
    if late:
        return FormalPublishOutcome(refusal=FormalPublishRefusal.TOO_LATE, schedule_problems=late)
    if not tally.ready:
        return FormalPublishOutcome(
            refusal=FormalPublishRefusal.NOT_READY,
            position_problems=tuple((p.position, p.outcome) for p in tally.positions if p.outcome.problems),
        )
    village = await session.get(Village, election.village_id)
    assert village is not None
    listed = await publish_candidate_list(
        session,
        me,
        election=election,
        village=village,
        policy=policy,
        stage=CutStage.FORMAL,
        positions=[
            (p.position, [tally.people[candidate] for candidate in p.outcome.passed]) for p in tally.positions
        ],
        words=text(election),
        render=render,
        notify=notify,
        out_dir=out_dir,
        zone=zone,
        default_locale=default_locale,
        now=now,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
    )
    if isinstance(listed, PublishOutcome):
        return FormalPublishOutcome(refusal=FormalPublishRefusal.NOTICE, notice_refusal=listed.refusal)
    return FormalPublishOutcome(published=listed)

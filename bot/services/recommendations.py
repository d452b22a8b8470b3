"""Candidate recommendation (民主推荐): by chat and on paper, tallied together, cut, published.

A villager recommends in chat within the election's window, up to the quota of each position
(bot.rules.recommendation). Who recommended whom stays in the database: chat shows a villager only
their own choices and the committee only counts. Group meetings recommend on paper; the committee
imports their counts, and the roster printed before a meeting lists who already took part by chat,
so that nobody takes part twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.publicity import (
    PublicityList,
)
from bot.files.roll import group_key
from bot.files.tally import PaperTallyRow, TrustTallyRow, clean_text
from bot.rules.policy import ElectionKind, Policy, Position, RecommendationRound, Source
from bot.rules.recommendation import (
    CutDecision,
    CutOutcome,
    CutStage,
    PartyStanding,
    RecommendationRefusal,
    Villager,
    check_recommendation,
    cut,
    tally_recommendations,
)
from bot.rules.schedule import (
    ScheduleProblem,
    Window,
)
from bot.services.audit import AuditAction, append_audit
from bot.services.candidate_lists import (
    CandidateListText,
    CandidateNotifier,
    ListedCandidate,
    late_for_candidate_list,
    publish_candidate_list,
)
from bot.services.elections import (
    election_kind,
    policy_of,
    rounds_of,
    sorted_positions,
)
from bot.services.identity import Me, RoleName
from bot.services.notices import (
    NoticeRefusal,
    PublishOutcome,
    Renderer,
)
from storage.models import (
    Election,
    ElectionStatus,
    PaperTally,
    Participation,
    Person,
    Recommendation,
    Village,
    VillagerGroup,
)
from storage.repositories import elections as elections_repo
from storage.repositories.elections import PersonLine

SEARCH_LIMIT = 8
QUERY_LIMIT = 50


def villager_of(person: Person) -> Villager:
    """A person on the roll as the rules see them. A party member without a stated status is full."""
    assert person.id is not None
    if not person.party_member:
        party = PartyStanding.NONE
    elif person.party_status == "probationary":
        party = PartyStanding.PROBATIONARY
    elif person.party_status == "on_probation":
        party = PartyStanding.ON_PROBATION
    else:
        party = PartyStanding.FULL
    removed = person.removed_at is not None
    return Villager(
        id=person.id,
        village_id=person.village_id,
        on_roll=person.eligible_voter and not removed,
        removed=removed,
        party=party,
    )


def round_for(kind: ElectionKind, villager: Villager) -> RecommendationRound:
    """Full party members recommend in the party round of a party branch election (两推一选, PR 5);
    everyone else, and everyone in a village committee election, in the public round."""
    if kind.is_party and villager.party is PartyStanding.FULL:
        return RecommendationRound.PARTY
    return RecommendationRound.PUBLIC


def age_in(year: int, person: Person) -> int | None:
    return year - person.birth_year if person.birth_year else None


def _window(election: Election) -> Window | None:
    if election.recommendation_opens is None or election.recommendation_closes is None:
        return None
    return Window(election.recommendation_opens, election.recommendation_closes)


async def _seats(session: AsyncSession, election_id: int) -> dict[Position, int]:
    return {Position(p.position): p.seats for p in await elections_repo.positions(session, election_id)}


# ------------------------------------------------------------------------------ which election


async def open_elections_for(session: AsyncSession, me: Me) -> list[Election]:
    """The elections of the villager's village that take recommendations (status open)."""
    if me.village is None or me.village.id is None:
        return []
    found = await elections_repo.of_villages(session, [me.village.id], [ElectionStatus.OPEN.value])
    await session.commit()  # end the read (storage/db.py)
    return found


# ------------------------------------------------------------------------------------ recommend


class RecommendRefusal(StrEnum):
    NOT_BOUND = "not_bound"  # the account is not linked to a person on a roll
    UNKNOWN_ELECTION = "unknown_election"  # none, or another village's
    NOT_OPEN = "not_open"  # a draft, or a finished election
    UNKNOWN_POSITION = "unknown_position"  # this election does not fill that position
    UNKNOWN_CANDIDATE = "unknown_candidate"
    GROUP_MET_ON_PAPER = "group_met_on_paper"  # their group's paper meeting already counted them
    RULE = "rule"  # refused by bot.rules.recommendation: see `rule` and `source`


@dataclass(frozen=True)
class RecommendOutcome:
    refusal: RecommendRefusal | None = None
    rule: RecommendationRefusal | None = None
    source: Source | None = None
    election: Election | None = None
    round: RecommendationRound | None = None
    position: Position | None = None
    candidate: Person | None = None
    quota: int = 0
    used: int = 0  # after this recommendation
    already: bool = False  # the same recommendation was already recorded: nothing new stored


async def recommend(
    session: AsyncSession,
    me: Me,
    election_id: int,
    position: Position,
    candidate_person_id: int,
    now: datetime,
) -> RecommendOutcome:
    """Record that the sender recommends a person for a position, if the rules allow it.

    The round is the recommender's: a full party member in a party branch election recommends in
    the party round, everyone else in the public round. A second tap records nothing twice.
    """
    try:
        outcome = await _recommend(session, me, election_id, position, candidate_person_id, now)
    except IntegrityError:
        # Two taps raced past the duplicate check; the unique constraint kept one row.
        await session.rollback()
        return RecommendOutcome(already=True, position=position)
    if outcome.refusal is not None or outcome.already:
        await session.commit()  # nothing was written: end the read, keep the rows usable
    return outcome


async def _recommend(
    session: AsyncSession,
    me: Me,
    election_id: int,
    position: Position,
    candidate_person_id: int,
    now: datetime,
) -> RecommendOutcome:
    if me.person is None or me.person.id is None or me.village is None:
        return RecommendOutcome(refusal=RecommendRefusal.NOT_BOUND)
    election = await elections_repo.get(session, election_id)
    if election is None or election.village_id != me.village.id:
        return RecommendOutcome(refusal=RecommendRefusal.UNKNOWN_ELECTION)
    window = _window(election)
    if election.status != ElectionStatus.OPEN or window is None:
        return RecommendOutcome(refusal=RecommendRefusal.NOT_OPEN, election=election)
    seats = await _seats(session, election_id)
    if position not in seats:
        return RecommendOutcome(refusal=RecommendRefusal.UNKNOWN_POSITION, election=election)
    recommender = await elections_repo.lock_person(session, me.person.id)
    candidate = await session.get(Person, candidate_person_id)
    if recommender is None:
        return RecommendOutcome(refusal=RecommendRefusal.NOT_BOUND)
    if candidate is None:
        return RecommendOutcome(refusal=RecommendRefusal.UNKNOWN_CANDIDATE, election=election)
    policy = policy_of(election)
    who = villager_of(recommender)
    round_ = round_for(policy.kind, who)
    assert recommender.id is not None
    already = await elections_repo.recommended_ids(
        session, election_id, recommender.id, round_.value, position.value
    )
    checked = check_recommendation(
        policy=policy,
        village_id=election.village_id,
        position=position,
        seats=seats[position],
        round=round_,
        window=window,
        now=now,
        recommender=who,
        candidate=villager_of(candidate),
        already_recommended=already,
    )
    base = RecommendOutcome(election=election, round=round_, position=position, candidate=candidate)
    if not checked.accepted:
        if checked.reason is RecommendationRefusal.DUPLICATE:
            return replace(base, already=True, quota=checked.quota or 0, used=len(already))
        return replace(
            base,
            refusal=RecommendRefusal.RULE,
            rule=checked.reason,
            source=checked.source,
            quota=checked.quota or 0,
            used=checked.used or 0,
        )
    participated = await elections_repo.has_participated(session, election_id, round_.value, recommender.id)
    if (
        not participated
        and recommender.group_id is not None
        and await elections_repo.group_met_on_paper(session, election_id, round_.value, recommender.group_id)
    ):
        return replace(base, refusal=RecommendRefusal.GROUP_MET_ON_PAPER)
    session.add(
        Recommendation(
            election_id=election_id,
            position=position.value,
            round=round_.value,
            recommender_person_id=recommender.id,
            candidate_person_id=candidate_person_id,
            created_at=now,
        )
    )
    if not participated:
        session.add(
            Participation(
                election_id=election_id, round=round_.value, person_id=recommender.id, created_at=now
            )
        )
    await session.commit()
    return replace(base, quota=checked.quota or 0, used=len(already) + 1)


class WithdrawRefusal(StrEnum):
    NOT_BOUND = "not_bound"
    NOT_FOUND = "not_found"  # no such recommendation of theirs (already withdrawn, or not theirs)
    NOT_OPEN = "not_open"
    WINDOW_CLOSED = "window_closed"


@dataclass(frozen=True)
class WithdrawOutcome:
    refusal: WithdrawRefusal | None = None
    election: Election | None = None
    position: Position | None = None
    candidate: Person | None = None
    quota: int = 0
    used: int = 0  # after the withdrawal


async def withdraw_recommendation(
    session: AsyncSession, me: Me, recommendation_id: int, now: datetime
) -> WithdrawOutcome:
    """Take back one's own recommendation while the window is open; the quota place is free again."""
    outcome = await _withdraw(session, me, recommendation_id, now)
    if outcome.refusal is not None:
        await session.commit()  # nothing was written: end the read, keep the rows usable
    return outcome


async def _withdraw(session: AsyncSession, me: Me, recommendation_id: int, now: datetime) -> WithdrawOutcome:
    if me.person is None or me.person.id is None:
        return WithdrawOutcome(refusal=WithdrawRefusal.NOT_BOUND)
    found = await elections_repo.get_recommendation(session, recommendation_id)
    if found is None or found.recommender_person_id != me.person.id:
        return WithdrawOutcome(refusal=WithdrawRefusal.NOT_FOUND)
    election = await elections_repo.get(session, found.election_id)
    assert election is not None
    window = _window(election)
    if election.status != ElectionStatus.OPEN or window is None:
        return WithdrawOutcome(refusal=WithdrawRefusal.NOT_OPEN, election=election)
    if not window.contains(now):
        return WithdrawOutcome(refusal=WithdrawRefusal.WINDOW_CLOSED, election=election)
    position = Position(found.position)
    seats = await _seats(session, election.id or 0)
    policy = policy_of(election)
    candidate = await session.get(Person, found.candidate_person_id)
    await session.delete(found)
    await session.flush()
    left = await elections_repo.recommended_ids(
        session, found.election_id, me.person.id, found.round, found.position
    )
    if await elections_repo.count_in_round(session, found.election_id, me.person.id, found.round) == 0:
        # Nothing left in this round: they may still take part at their group's meeting.
        await elections_repo.remove_participation(session, found.election_id, found.round, me.person.id)
    await session.commit()
    return WithdrawOutcome(
        election=election,
        position=position,
        candidate=candidate,
        quota=seats.get(position, 0) * policy.recommendation_quota_per_seat.value,
        used=len(left),
    )


# ------------------------------------------------------------------------ my recommendations


@dataclass(frozen=True)
class Chosen:
    recommendation_id: int
    candidate_id: int
    name: str
    group: str | None


@dataclass(frozen=True)
class PositionChoices:
    position: Position
    seats: int
    quota: int
    chosen: tuple[Chosen, ...]

    @property
    def used(self) -> int:
        return len(self.chosen)


@dataclass(frozen=True)
class MyRecommendations:
    refusal: RecommendRefusal | None = None
    election: Election | None = None
    round: RecommendationRound | None = None
    window_open: bool = False
    self_allowed: bool = False
    positions: tuple[PositionChoices, ...] = ()

    def of(self, position: Position) -> PositionChoices | None:
        return next((p for p in self.positions if p.position is position), None)


async def my_recommendations(
    session: AsyncSession, me: Me, election_id: int, now: datetime
) -> MyRecommendations:
    """The sender's own recommendations per position ("2 of 3 used"), and whether they may change them."""
    if me.person is None or me.person.id is None or me.village is None:
        return MyRecommendations(refusal=RecommendRefusal.NOT_BOUND)
    election = await elections_repo.get(session, election_id)
    if election is None or election.village_id != me.village.id:
        await session.commit()
        return MyRecommendations(refusal=RecommendRefusal.UNKNOWN_ELECTION)
    positions = await elections_repo.positions(session, election_id)
    mine = await elections_repo.recommendations_of(session, election_id, me.person.id)
    await session.commit()  # end the read (storage/db.py)
    policy = policy_of(election)
    round_ = round_for(policy.kind, villager_of(me.person))
    window = _window(election)
    per_seat = policy.recommendation_quota_per_seat.value
    choices = []
    for p in sorted_positions(policy, positions):
        chosen = tuple(
            Chosen(rec.id or 0, line.person.id or 0, line.person.name, line.group)
            for rec, line in mine
            if rec.position == p.position and rec.round == round_.value
        )
        choices.append(PositionChoices(Position(p.position), p.seats, p.seats * per_seat, chosen))
    return MyRecommendations(
        election=election,
        round=round_,
        window_open=election.status == ElectionStatus.OPEN and window is not None and window.contains(now),
        self_allowed=policy.self_nomination_allowed.value,
        positions=tuple(choices),
    )


# -------------------------------------------------------------------------------- search


class SearchRefusal(StrEnum):
    NOT_BOUND = "not_bound"
    UNKNOWN_ELECTION = "unknown_election"
    EMPTY_QUERY = "empty_query"


@dataclass(frozen=True)
class CandidateMatch:
    """What a villager sees of a person to recommend: never the phone."""

    person_id: int
    name: str
    group: str | None
    age: int | None


@dataclass(frozen=True)
class CandidateSearch:
    refusal: SearchRefusal | None = None
    matches: tuple[CandidateMatch, ...] = ()
    more: bool = False  # more people match than were shown: type more of the name


async def search_candidates(
    session: AsyncSession,
    me: Me,
    election_id: int,
    text: str,
    position: Position | None = None,
    limit: int = SEARCH_LIMIT,
) -> CandidateSearch:
    """People of the election's village whose name contains ``text`` and who may be recommended for
    ``position`` (party positions: full party members only). The sender is left out (see self)."""
    query = clean_text(text)[:QUERY_LIMIT]
    if not query:
        return CandidateSearch(refusal=SearchRefusal.EMPTY_QUERY)
    if me.person is None or me.village is None:
        return CandidateSearch(refusal=SearchRefusal.NOT_BOUND)
    election = await elections_repo.get(session, election_id)
    if election is None or election.village_id != me.village.id:
        await session.commit()
        return CandidateSearch(refusal=SearchRefusal.UNKNOWN_ELECTION)
    policy = policy_of(election)
    party_only = position is not None and (
        policy.has_position(position) and policy.position(position).party_member_required.value
    )
    found = await elections_repo.search_candidates(
        session,
        election.village_id,
        query,
        exclude_person_id=me.person.id,
        party_members_only=party_only,
        limit=limit + 1,
    )
    await session.commit()  # end the read (storage/db.py)
    year = election.election_day.year
    matches = tuple(
        CandidateMatch(line.person.id or 0, line.person.name, line.group, age_in(year, line.person))
        for line in found[:limit]
    )
    return CandidateSearch(matches=matches, more=len(found) > limit)


# ------------------------------------------------------------------------------- paper counts


class PaperImportRefusal(StrEnum):
    UNKNOWN_ELECTION = "unknown_election"
    NO_ROWS = "no_rows"
    PROBLEMS = "problems"  # nothing was imported: see `problems`


class PaperProblemReason(StrEnum):
    UNKNOWN_GROUP = "unknown_group"
    UNKNOWN_POSITION = "unknown_position"  # not a position this election fills
    ROUND_MISSING = "round_missing"  # a party branch election has two rounds: say which
    ROUND_NOT_IN_THIS_KIND = "round_not_in_this_kind"
    UNKNOWN_PERSON = "unknown_person"
    SAME_NAME = "same_name"  # several people have this name: write the group, e.g. 王伟（二组）
    CANDIDATE_REFUSED = "candidate_refused"  # the rules refuse this person: see `rule`
    DUPLICATE_LINE = "duplicate_line"
    PARTICIPANTS_DIFFER = "participants_differ"  # one meeting, two numbers of participants
    COUNT_ABOVE_PARTICIPANTS = "count_above_participants"
    COUNTS_ABOVE_QUOTA = "counts_above_quota"  # more votes than participants x quota
    PARTICIPANTS_ABOVE_REGISTERED = "participants_above_registered"
    MEETING_OUTSIDE_WINDOW = "meeting_outside_window"
    # The trust vote's sheet (bot.services.trust_votes.import_trust_paper):
    NOT_A_CANDIDATE = "not_a_candidate"  # not on the published preliminary list
    BALLOTS_DIFFER = "ballots_differ"  # one meeting, two numbers of ballots
    MARKS_ABOVE_BALLOTS = "marks_above_ballots"  # trust + no trust + abstain above the ballots cast
    MEETING_OUTSIDE_TRUST_WINDOW = "meeting_outside_trust_window"


@dataclass(frozen=True)
class PaperProblem:
    line: int
    reason: PaperProblemReason
    value: str = ""  # what the row says (a name, a group, a position)
    numbers: Mapping[str, int] = field(default_factory=dict)
    rule: RecommendationRefusal | None = None
    source: Source | None = None
    other_line: int | None = None


@dataclass(frozen=True)
class PaperImportOutcome:
    refusal: PaperImportRefusal | None = None
    problems: tuple[PaperProblem, ...] = ()
    imported: int = 0
    meetings: int = 0
    replaced: int = 0  # meetings that had been imported before and were replaced


_POSITION_WORDS: Mapping[str, tuple[Position, ...]] = {
    "主任": (Position.DIRECTOR,),
    "村委会主任": (Position.DIRECTOR,),
    "村民委员会主任": (Position.DIRECTOR,),
    "副主任": (Position.DEPUTY,),
    "村委会副主任": (Position.DEPUTY,),
    "委员": (Position.MEMBER, Position.COMMITTEE_MEMBER),
    "村委会委员": (Position.MEMBER,),
    "书记": (Position.SECRETARY,),
    "支部书记": (Position.SECRETARY,),
    "党支部书记": (Position.SECRETARY,),
    "副书记": (Position.DEPUTY_SECRETARY,),
    "支部副书记": (Position.DEPUTY_SECRETARY,),
    "党支部副书记": (Position.DEPUTY_SECRETARY,),
    "支部委员": (Position.COMMITTEE_MEMBER,),
    "支委": (Position.COMMITTEE_MEMBER,),
    "党支部委员": (Position.COMMITTEE_MEMBER,),
}
_NAME_WITH_GROUP = re.compile(r"^(.+?)\s*[(（]\s*(.+?)\s*[)）]$")


def position_from_text(text: str, filled: Sequence[Position]) -> Position | None:
    """The position a count sheet means: its key (``director``) or its Chinese name (主任, 委员…).
    "委员" is a village committee member or a branch committee member, whichever the election fills."""
    key = clean_text(text).replace(" ", "")
    try:
        position = Position(key.lower())
    except ValueError:
        options = _POSITION_WORDS.get(key, ())
    else:
        options = (position,)
    return next((p for p in options if p in filled), None)


def meeting_window_days(window: Window, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last local day of a window: the days a paper meeting may be held on."""
    last = (window.closes - timedelta(microseconds=1)).astimezone(zone).date()
    return window.opens.astimezone(zone).date(), last


async def import_paper_tally(
    session: AsyncSession,
    election_id: int,
    rows: Sequence[PaperTallyRow],
    *,
    zone: ZoneInfo,
    now: datetime,
    entered_by_account_id: int | None = None,
) -> PaperImportOutcome:
    """Import the counts of groups' paper meetings: every row or none.

    A meeting (round, group, date) already imported is replaced by the file's rows for it. A
    group's participants on paper plus those who took part by chat may not exceed its registered
    voters (for the party round: its full party members).
    """
    outcome = await _import_paper(session, election_id, rows, zone, now, entered_by_account_id)
    if outcome.refusal is not None:
        await session.commit()  # nothing was written: end the read, keep the rows usable
    return outcome


@dataclass
class _Resolved:
    row: PaperTallyRow
    group_id: int
    position: Position
    round: RecommendationRound
    candidate_id: int


async def _import_paper(
    session: AsyncSession,
    election_id: int,
    rows: Sequence[PaperTallyRow],
    zone: ZoneInfo,
    now: datetime,
    entered_by: int | None,
) -> PaperImportOutcome:
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        return PaperImportOutcome(refusal=PaperImportRefusal.UNKNOWN_ELECTION)
    if not rows:
        return PaperImportOutcome(refusal=PaperImportRefusal.NO_ROWS)
    policy = policy_of(election)
    seats = await _seats(session, election.id)
    rounds = rounds_of(policy.kind)
    groups = await elections_repo.groups(session, election.village_id)
    group_by_key = {group_key(g.name): g for g in groups}
    names = {split_name(row.name)[0] for row in rows}
    people: dict[str, list[PersonLine]] = defaultdict(list)
    for line in await elections_repo.people_named(session, election.village_id, names):
        people[line.person.name].append(line)
    window = _window(election)

    problems: list[PaperProblem] = []
    resolved: list[_Resolved] = []
    for row in rows:
        problem_count = len(problems)
        group = group_by_key.get(group_key(row.group))
        if group is None:
            problems.append(PaperProblem(row.line, PaperProblemReason.UNKNOWN_GROUP, row.group))
        position = position_from_text(row.position, list(seats))
        if position is None:
            problems.append(PaperProblem(row.line, PaperProblemReason.UNKNOWN_POSITION, row.position))
        round_ = row.round if row.round is not None else (rounds[0] if len(rounds) == 1 else None)
        if round_ is None:
            problems.append(PaperProblem(row.line, PaperProblemReason.ROUND_MISSING))
        elif round_ not in rounds:
            problems.append(PaperProblem(row.line, PaperProblemReason.ROUND_NOT_IN_THIS_KIND, round_.value))
        if window is not None:
            first, last = meeting_window_days(window, zone)
            if not first <= row.meeting_date <= last:
                problems.append(
                    PaperProblem(
                        row.line, PaperProblemReason.MEETING_OUTSIDE_WINDOW, row.meeting_date.isoformat()
                    )
                )
        person = person_for_row(row, people, problems)
        if person is not None and position is not None and round_ in rounds:
            assert round_ is not None
            refused = _candidate_refusal(policy, election, position, seats[position], round_, person, now)
            if refused is not None:
                problems.append(
                    PaperProblem(
                        row.line,
                        PaperProblemReason.CANDIDATE_REFUSED,
                        row.name,
                        rule=refused[0],
                        source=refused[1],
                    )
                )
        if row.count > row.participants:
            problems.append(
                PaperProblem(
                    row.line,
                    PaperProblemReason.COUNT_ABOVE_PARTICIPANTS,
                    row.name,
                    {"count": row.count, "participants": row.participants},
                )
            )
        if len(problems) == problem_count:
            assert group is not None and group.id is not None and position is not None and round_ is not None
            assert person is not None and person.id is not None
            resolved.append(_Resolved(row, group.id, position, round_, person.id))

    problems.extend(_meeting_problems(resolved, seats, policy))
    if not problems:
        problems.extend(await _registered_problems(session, election, resolved, groups))
    if problems:
        return PaperImportOutcome(
            refusal=PaperImportRefusal.PROBLEMS, problems=tuple(sorted(problems, key=lambda p: p.line))
        )

    meetings = sorted({(r.round.value, r.group_id, r.row.meeting_date) for r in resolved})
    before = {
        (m.round, m.group_id, m.meeting_date)
        for m in await elections_repo.paper_meetings(session, election.id)
    }
    await elections_repo.delete_meetings(session, election.id, meetings)
    await append_audit(
        session,
        election.village_id,
        entered_by,
        AuditAction.PAPER_TALLY_IMPORTED,
        {"election_id": election.id, "rows": len(resolved), "meetings": len(meetings)},
        now=now,
    )
    for r in resolved:
        session.add(
            PaperTally(
                election_id=election.id,
                position=r.position.value,
                round=r.round.value,
                group_id=r.group_id,
                meeting_date=r.row.meeting_date,
                candidate_person_id=r.candidate_id,
                count=r.row.count,
                participants=r.row.participants,
                entered_by_account_id=entered_by,
                entered_at=now,
            )
        )
    await session.commit()
    return PaperImportOutcome(
        imported=len(resolved), meetings=len(meetings), replaced=sum(1 for m in meetings if m in before)
    )


def split_name(text: str) -> tuple[str, str | None]:
    """ "王伟（二组）" -> ("王伟", "二组"): the group tells apart people of the same name."""
    cleaned = clean_text(text)
    match = _NAME_WITH_GROUP.match(cleaned)
    if match is None:
        return cleaned, None
    return match.group(1), match.group(2)


def person_for_row(
    row: PaperTallyRow | TrustTallyRow, people: Mapping[str, list[PersonLine]], problems: list[PaperProblem]
) -> Person | None:
    """The person a count sheet's row names (a group in brackets tells apart people of one name)."""
    name, hint = split_name(row.name)
    found = people.get(name, [])
    if hint is not None:
        found = [
            line for line in found if line.group is not None and group_key(line.group) == group_key(hint)
        ]
    if not found:
        problems.append(PaperProblem(row.line, PaperProblemReason.UNKNOWN_PERSON, row.name))
        return None
    active = [line for line in found if line.person.removed_at is None]
    choices = active or found  # only removed people of that name: the rules will say so
    if len(choices) > 1:
        problems.append(
            PaperProblem(row.line, PaperProblemReason.SAME_NAME, row.name, {"people": len(choices)})
        )
        return None
    return choices[0].person


def _candidate_refusal(
    policy: Policy,
    election: Election,
    position: Position,
    seats: int,
    round_: RecommendationRound,
    candidate: Person,
    now: datetime,
) -> tuple[RecommendationRefusal, Source | None] | None:
    """Whether the rules let anyone recommend this person: check_recommendation with a recommender
    who passes every test (a full party member of the village, on the roll, in an open window), so
    that only the candidate's side of the rule can refuse."""
    anyone = Villager(id=-1, village_id=election.village_id, on_roll=True, party=PartyStanding.FULL)
    checked = check_recommendation(
        policy=policy,
        village_id=election.village_id,
        position=position,
        seats=seats,
        round=round_,
        window=Window(now, now + timedelta(seconds=1)),
        now=now,
        recommender=anyone,
        candidate=villager_of(candidate),
        already_recommended=(),
    )
    if checked.accepted or checked.reason is None:
        return None
    return checked.reason, checked.source


def _meeting_problems(
    resolved: Sequence[_Resolved], seats: Mapping[Position, int], policy: Policy
) -> list[PaperProblem]:
    problems: list[PaperProblem] = []
    participants: dict[tuple[str, int, date], tuple[int, int]] = {}
    seen: dict[tuple[str, int, date, Position, int], int] = {}
    votes: dict[tuple[str, int, date, Position], tuple[int, int]] = {}
    for r in resolved:
        meeting = (r.round.value, r.group_id, r.row.meeting_date)
        first = participants.setdefault(meeting, (r.row.participants, r.row.line))
        if first[0] != r.row.participants:
            problems.append(
                PaperProblem(
                    r.row.line,
                    PaperProblemReason.PARTICIPANTS_DIFFER,
                    numbers={"participants": r.row.participants, "other": first[0]},
                    other_line=first[1],
                )
            )
        key = (*meeting, r.position, r.candidate_id)
        if key in seen:
            problems.append(
                PaperProblem(r.row.line, PaperProblemReason.DUPLICATE_LINE, r.row.name, other_line=seen[key])
            )
        seen.setdefault(key, r.row.line)
        total, line = votes.get((*meeting, r.position), (0, r.row.line))
        votes[(*meeting, r.position)] = (total + r.row.count, line)
    per_seat = policy.recommendation_quota_per_seat
    for (round_, group_id, day, position), (total, line) in votes.items():
        people = participants[(round_, group_id, day)][0]
        allowed = people * seats[position] * per_seat.value
        if total > allowed:
            problems.append(
                PaperProblem(
                    line,
                    PaperProblemReason.COUNTS_ABOVE_QUOTA,
                    position.value,
                    {"votes": total, "participants": people, "quota": seats[position] * per_seat.value},
                    source=per_seat.source,
                )
            )
    return problems


async def _registered_problems(
    session: AsyncSession, election: Election, resolved: Sequence[_Resolved], groups: Sequence[VillagerGroup]
) -> list[PaperProblem]:
    """Nobody takes part twice: paper participants plus chat participants within the group's voters."""
    assert election.id is not None
    names = {g.id: g.name for g in groups}
    in_file: dict[tuple[str, int, date], _Resolved] = {}
    for r in resolved:
        in_file.setdefault((r.round.value, r.group_id, r.row.meeting_date), r)  # the meeting's first row
    stored = await elections_repo.paper_meetings(session, election.id)
    paper: dict[tuple[str, int], int] = defaultdict(int)
    for meeting in stored:
        if (meeting.round, meeting.group_id, meeting.meeting_date) not in in_file:
            paper[(meeting.round, meeting.group_id)] += meeting.participants
    first_line: dict[tuple[str, int], int] = {}
    for (round_, group_id, _day), r in in_file.items():
        paper[(round_, group_id)] += r.row.participants
        first_line[(round_, group_id)] = min(first_line.get((round_, group_id), r.row.line), r.row.line)
    chat = await elections_repo.chat_participants(session, election.id)
    registered = {
        round_: await elections_repo.registered_by_group(
            session, election.village_id, party_members_only=round_ == RecommendationRound.PARTY.value
        )
        for round_ in {key[0] for key in first_line}
    }
    problems = []
    for (round_, group_id), line in sorted(first_line.items(), key=lambda item: item[1]):
        on_paper, by_chat = paper[(round_, group_id)], chat.get((round_, group_id), 0)
        voters = registered[round_].get(group_id, 0)
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


# ---------------------------------------------------------------------------------- roster


@dataclass(frozen=True)
class RosterLine:
    person_id: int
    name: str
    gender: str | None
    birth_year: int | None
    by_chat: frozenset[RecommendationRound]  # the rounds they already took part in by chat
    trust_by_chat: bool = False  # cast their trust ballot (两票制) by chat


@dataclass(frozen=True)
class Roster:
    election: Election
    village: Village
    group: VillagerGroup
    rounds: tuple[RecommendationRound, ...]
    lines: tuple[RosterLine, ...]
    trust_vote: bool = False  # the election has a villagers' trust vote: the roster marks it too

    def took_part(self, round_: RecommendationRound) -> int:
        return sum(1 for line in self.lines if round_ in line.by_chat)


async def participation_roster(session: AsyncSession, election_id: int, group_id: int) -> Roster | None:
    """The group's voters, each with the rounds they already took part in by chat (never their choices)."""
    election = await elections_repo.get(session, election_id)
    group = await session.get(VillagerGroup, group_id)
    if election is None or group is None or group.village_id != election.village_id:
        await session.commit()
        return None
    village = await session.get(Village, election.village_id)
    people = await elections_repo.roster(session, election.village_id, group_id)
    took_part = await elections_repo.participants_of_group(session, election_id, group_id)
    kind = election_kind(election)
    trust_vote = kind is ElectionKind.PARTY_TWO_BALLOTS
    trusted = (
        await elections_repo.trust_voters_of_group(session, election_id, group_id) if trust_vote else set()
    )
    await session.commit()  # end the read (storage/db.py)
    assert village is not None
    lines = tuple(
        RosterLine(
            p.id or 0,
            p.name,
            p.gender,
            p.birth_year,
            frozenset(RecommendationRound(r) for r in took_part.get(p.id or 0, ())),
            trust_by_chat=(p.id or 0) in trusted,
        )
        for p in people
    )
    return Roster(election, village, group, rounds_of(kind), lines, trust_vote=trust_vote)


# ----------------------------------------------------------------------------------- tally


@dataclass(frozen=True)
class TallyLine:
    candidate_id: int
    name: str
    group: str | None
    gender: str | None
    birth_year: int | None
    chat: Mapping[RecommendationRound, int]
    paper: Mapping[RecommendationRound, int]
    score: Fraction
    rank: int
    tied_with: tuple[int, ...]
    decision: CutDecision

    def total(self, round_: RecommendationRound) -> int:
        return self.chat.get(round_, 0) + self.paper.get(round_, 0)

    @property
    def chat_total(self) -> int:
        return sum(self.chat.values())

    @property
    def paper_total(self) -> int:
        return sum(self.paper.values())

    @property
    def all_total(self) -> int:
        return self.chat_total + self.paper_total


@dataclass(frozen=True)
class PositionTally:
    position: Position
    seats: int
    lines: tuple[TallyLine, ...]  # ranked: best first
    cut: CutOutcome

    @property
    def passed(self) -> tuple[TallyLine, ...]:
        return tuple(line for line in self.lines if line.decision is CutDecision.PASSED)


@dataclass(frozen=True)
class RoundParticipants:
    chat: int
    paper: int

    @property
    def total(self) -> int:
        return self.chat + self.paper


@dataclass(frozen=True)
class ElectionTally:
    election: Election
    village: Village
    policy: Policy
    stage: CutStage
    rounds: tuple[RecommendationRound, ...]
    weights: Mapping[RecommendationRound, Fraction]
    # Party branch elections weigh each round as a share of its participants (tally_recommendations).
    weighted_by_participants: bool
    participants: Mapping[RecommendationRound, RoundParticipants]
    positions: tuple[PositionTally, ...]

    @property
    def ready(self) -> bool:
        """Every position has its candidates, without a tie at the line."""
        return all(not p.cut.problems for p in self.positions)


def cut_stage(kind: ElectionKind) -> CutStage:
    """A party branch's recommendations yield preliminary candidates (初步人选) for the township to
    examine; a village's nominations yield the candidates with the margin of each position (差额)."""
    return CutStage.PRELIMINARY if kind.is_party else CutStage.FORMAL


async def tally_election(session: AsyncSession, election_id: int) -> ElectionTally | None:
    """Chat and paper counts per position and round, separately and together, ranked and cut.

    The counting is done by the database (GROUP BY); Python only ranks the few candidates.
    """
    election = await elections_repo.get(session, election_id)
    if election is None or election.id is None:
        await session.commit()
        return None
    village = await session.get(Village, election.village_id)
    positions = await elections_repo.positions(session, election.id)
    chat = await elections_repo.chat_counts(session, election.id)
    paper = await elections_repo.paper_counts(session, election.id)
    chat_people = await elections_repo.chat_participants(session, election.id)
    meetings = await elections_repo.paper_meetings(session, election.id)
    people = await elections_repo.people_by_ids(session, {c.candidate_id for c in [*chat, *paper]})
    await session.commit()  # end the read (storage/db.py)
    assert village is not None
    policy = policy_of(election)
    rounds = rounds_of(policy.kind)
    participants = {
        r: RoundParticipants(
            chat=sum(n for (round_, _group), n in chat_people.items() if round_ == r.value),
            paper=sum(m.participants for m in meetings if m.round == r.value),
        )
        for r in rounds
    }
    by_participants = len(rounds) > 1
    weights = policy.round_weights()
    stage = cut_stage(policy.kind)
    tallies = []
    for p in sorted_positions(policy, positions):
        position = Position(p.position)
        chat_of: dict[int, dict[RecommendationRound, int]] = defaultdict(dict)
        paper_of: dict[int, dict[RecommendationRound, int]] = defaultdict(dict)
        for line in chat:
            if line.position == p.position:
                chat_of[line.candidate_id][RecommendationRound(line.round)] = line.count
        for line in paper:
            if line.position == p.position:
                paper_of[line.candidate_id][RecommendationRound(line.round)] = line.count
        counts = {
            candidate: {r: chat_of[candidate].get(r, 0) + paper_of[candidate].get(r, 0) for r in rounds}
            for candidate in {*chat_of, *paper_of}
        }
        ranked = tally_recommendations(
            counts, weights, {r: n.total for r, n in participants.items()} if by_participants else None
        )
        outcome = cut(ranked, p.seats, policy, position, stage=stage)
        decisions = {line.candidate_id: line.decision for line in outcome.lines}
        lines = []
        for r in ranked:
            person = people[r.candidate_id]
            lines.append(
                TallyLine(
                    candidate_id=r.candidate_id,
                    name=person.person.name,
                    group=person.group,
                    gender=person.person.gender,
                    birth_year=person.person.birth_year,
                    chat=dict(chat_of.get(r.candidate_id, {})),
                    paper=dict(paper_of.get(r.candidate_id, {})),
                    score=r.score,
                    rank=r.rank,
                    tied_with=r.tied_with,
                    decision=decisions[r.candidate_id],
                )
            )
        tallies.append(PositionTally(position, p.seats, tuple(lines), outcome))
    return ElectionTally(
        election=election,
        village=village,
        policy=policy,
        stage=stage,
        rounds=rounds,
        weights=weights,
        weighted_by_participants=by_participants,
        participants=participants,
        positions=tuple(tallies),
    )


# ------------------------------------------------------------------------- publish the list


class CandidatePublishRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_ELECTION = "unknown_election"
    WINDOW_STILL_OPEN = "window_still_open"  # recommendations are still being taken
    TOO_LATE = "too_late"  # less than the legal lead before election day: see `schedule_problems`
    NOT_READY = "not_ready"  # too few candidates, or a tie at the line: see `position_problems`
    NOTICE = "notice"  # publish_notice refused: see `notice_refusal`


@dataclass(frozen=True)
class CandidatePublishOutcome:
    refusal: CandidatePublishRefusal | None = None
    notice_refusal: NoticeRefusal | None = None
    schedule_problems: tuple[ScheduleProblem, ...] = ()
    position_problems: tuple[tuple[Position, CutOutcome], ...] = ()
    published: PublishOutcome | None = None
    plist: PublicityList | None = None
    pdf_path: Path | None = None
    xlsx_path: Path | None = None
    candidates: int = 0
    candidates_reached: int = 0  # people on the list who get a private message (linked to Telegram)


async def publish_candidates(
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
) -> CandidatePublishOutcome:
    """Publish who passed the cut as a publicity list (公示) with PDF, spreadsheet, fingerprint and an
    objection window, to every linked villager; each person on it also gets a private message.

    Refused while recommendations are still open, when publishing today would leave less than the
    legal lead before election day (BJ 20, SH 12, ZJ 18, HN 26), and while a position has too few
    candidates or a tie at the line (the committee decides those first).
    """
    tally = await tally_election(session, election_id)
    if tally is None:
        return CandidatePublishOutcome(refusal=CandidatePublishRefusal.UNKNOWN_ELECTION)
    election = tally.election
    if me is not None and not me.has_role(election.village_id, RoleName.COMMITTEE):
        return CandidatePublishOutcome(refusal=CandidatePublishRefusal.NOT_ALLOWED)
    window = _window(election)
    if window is not None and now < window.closes:
        return CandidatePublishOutcome(refusal=CandidatePublishRefusal.WINDOW_STILL_OPEN)
    late = late_for_candidate_list(election, tally.policy, now=now, zone=zone)
    if late:
        return CandidatePublishOutcome(refusal=CandidatePublishRefusal.TOO_LATE, schedule_problems=late)
    not_ready = tuple((p.position, p.cut) for p in tally.positions if p.cut.problems)
    if not_ready or not tally.positions:
        return CandidatePublishOutcome(refusal=CandidatePublishRefusal.NOT_READY, position_problems=not_ready)

    listed = await publish_candidate_list(
        session,
        me,
        election=election,
        village=tally.village,
        policy=tally.policy,
        stage=tally.stage,
        positions=[
            (
                p.position,
                [
                    ListedCandidate(line.candidate_id, line.name, line.gender, line.birth_year, line.group)
                    for line in p.passed
                ],
            )
            for p in tally.positions
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
        return CandidatePublishOutcome(
            refusal=CandidatePublishRefusal.NOTICE, notice_refusal=listed.refusal, published=listed
        )
    return CandidatePublishOutcome(
        published=listed.published,
        plist=listed.plist,
        pdf_path=listed.pdf_path,
        xlsx_path=listed.xlsx_path,
        candidates=listed.candidates,
        candidates_reached=listed.candidates_reached,
    )

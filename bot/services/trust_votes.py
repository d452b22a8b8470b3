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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Window
from bot.rules.trust import TrustCount, TrustOutcome, trust_cut_for
from bot.services.elections import policy_of
from bot.services.identity import Me
from bot.services.recommendations import villager_of
from storage.models import Election, ElectionStatus, Person, TrustBallot, TrustMark, TrustVoter
from storage.repositories import elections as elections_repo

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
    found = await elections_repo.candidates(session, election_id)
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


@dataclass(frozen=True)
class PositionTrust:
    position: Position
    seats: int
    outcome: TrustOutcome


@dataclass(frozen=True)
class TrustTally:
    election: Election
    ballots_cast: int
    voters: int  # who took part (equals ballots_cast unless the database was tampered with)
    registered_voters: int
    names: Mapping[int, str]
    positions: tuple[PositionTrust, ...]


async def count_trust_votes(session: AsyncSession, election_id: int) -> TrustTally | None:
    """Trust, no trust and abstain per candidate (GROUP BY), and who passes the threshold."""
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
    registered = await elections_repo.registered_voters(session, election.village_id)
    found = await elections_repo.candidates(session, election_id)
    positions = {p.position: p.seats for p in await elections_repo.positions(session, election_id)}
    await session.commit()  # end the read (storage/db.py)
    per_candidate: dict[int, dict[str, int]] = defaultdict(dict)
    for candidate, choice, n in marks:
        per_candidate[int(candidate)][str(choice)] = int(n)
    policy = policy_of(election)
    by_position: dict[Position, list[TrustCount]] = defaultdict(list)
    for c, _line in found:
        counts = per_candidate.get(c.person_id, {})
        by_position[Position(c.position)].append(
            TrustCount(
                c.person_id,
                trust=counts.get(TrustChoice.TRUST.value, 0),
                no_trust=counts.get(TrustChoice.NO_TRUST.value, 0),
                abstain=counts.get(TrustChoice.ABSTAIN.value, 0),
            )
        )
    results = tuple(
        PositionTrust(
            position,
            positions.get(position.value, 0),
            trust_cut_for(
                policy,
                counts,
                ballots_cast=int(ballots),
                registered_voters=registered,
                position=position,
                seats=positions.get(position.value, 0),
            ),
        )
        for position, counts in by_position.items()
    )
    return TrustTally(
        election=election,
        ballots_cast=int(ballots),
        voters=int(voters),
        registered_voters=registered,
        names={c.person_id: line.person.name for c, line in found},
        positions=results,
    )

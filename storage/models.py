"""SQLModel tables. Every schema change comes with an Alembic migration in storage/migrations."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Account(SQLModel, table=True):
    """A Telegram user who has written to the bot (not yet a person on a roll)."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    # Telegram ids need up to 52 significant bits: always 64-bit columns.
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The locale the person picked with /language; None means "follow Telegram's language".
    locale: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    telegram_language_code: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    # E.164 phone the user proved is theirs by sharing their own contact; roles are matched on it.
    phone: str | None = Field(default=None, sa_column=Column(String(20), nullable=True, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class FsmRecord(SQLModel, table=True):
    """One conversation's state and data, so a half-finished wizard survives a restart."""

    __tablename__ = "fsm_record"

    key: str = Field(sa_column=Column(String(255), primary_key=True))
    state: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Village(SQLModel, table=True):
    """A village whose elections this deployment serves; `province` picks the rule presets."""

    __tablename__ = "village"
    __table_args__ = (UniqueConstraint("township", "name", name="uq_village_township_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    township: str = Field(sa_column=Column(String(100), nullable=False))
    county: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    # NATIONAL, BJ, SH, ZJ, HN: the provincial election rules that apply (RULES.md).
    province: str = Field(sa_column=Column(String(16), nullable=False))
    # What a villager is told when the bot cannot help (e.g. "村委会办公室 0571-1234567").
    committee_contact: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # The election committee's Telegram group (a negative chat id), linked with /committeegroup there:
    # results are posted to it too. None: no group linked.
    committee_group_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class VillagerGroup(SQLModel, table=True):
    """A villagers' group (村民小组) inside a village."""

    __tablename__ = "villager_group"
    __table_args__ = (UniqueConstraint("village_id", "name", name="uq_villager_group_village_name"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))


class Person(SQLModel, table=True):
    """A person on a village's roll. Removed people are marked, never deleted (history stays)."""

    __tablename__ = "person"
    __table_args__ = (
        # OL art. 13: a voter is registered in one village only. The phone is the identity across
        # villages, so an active phone may appear once in the whole deployment.
        Index(
            "uq_person_active_phone",
            "phone",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    group_id: int | None = Field(default=None, foreign_key="villager_group.id", nullable=True, index=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    # E.164 (+8613800138000), normalised with phonenumbers; None for people without a phone.
    phone: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    household: str | None = Field(default=None, sa_column=Column(String(50), nullable=True))
    gender: str | None = Field(default=None, sa_column=Column(String(1), nullable=True))  # "F" / "M"
    birth_year: int | None = Field(default=None, nullable=True)
    party_member: bool = Field(default=False, nullable=False)
    # "full" or "probationary" (only full members vote in party elections, PR art. 5).
    party_status: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    migrant: bool = Field(default=False, nullable=False)
    works_in: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    eligible_voter: bool = Field(default=True, nullable=False)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    removed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Binding(SQLModel, table=True):
    """A Telegram account bound to a person on a roll: one account, one person, both ways."""

    __tablename__ = "binding"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", nullable=False, unique=True)
    person_id: int = Field(foreign_key="person.id", nullable=False, unique=True)
    method: str = Field(sa_column=Column(String(16), nullable=False))  # "contact" / "invite"
    bound_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Role(SQLModel, table=True):
    """A right in one village, granted to a phone number.

    Keyed by phone, not by person: a township observer is on no village's roll. The account
    proves the phone by sharing its own contact.
    """

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("village_id", "phone", "role", name="uq_role_village_phone_role"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    phone: str = Field(sa_column=Column(String(20), nullable=False, index=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))  # committee / supervisor / observer
    granted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Invite(SQLModel, table=True):
    """A single-use deep-link code a committee hands to one person (t.me/<bot>?start=<code>)."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    # Stored as its SHA-256, so a leaked database does not leak usable links.
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    person_id: int = Field(foreign_key="person.id", nullable=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DeliveryStatus(StrEnum):
    """Where one outbox row stands. Only `pending` and `claimed` rows still have work to do."""

    PENDING = "pending"  # waiting for its turn (or for next_attempt_at after a transient error)
    CLAIMED = "claimed"  # taken by the sender, committed before the request is made
    SENT = "sent"
    FAILED = "failed"  # a permanent refusal (400) or too many transient errors
    UNREACHABLE = "unreachable"  # 403: the villager blocked the bot or deleted their account
    SKIPPED = "skipped"  # the account was unbound from its person before its turn came


class Broadcast(SQLModel, table=True):
    """One message to many people (a notice, a publicity list, a reminder wave, results)."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int | None = Field(default=None, foreign_key="village.id", nullable=True, index=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))  # notice / publicity / reminder / results
    title: str = Field(sa_column=Column(String(200), nullable=False))
    created_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    total: int = Field(default=0, nullable=False)
    # The committee member's progress message, edited in place while the broadcast runs.
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_locale: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Delivery(SQLModel, table=True):
    """One recipient's copy of a broadcast, rendered in their language, and its fate."""

    __tablename__ = "delivery"
    __table_args__ = (
        # The sender's claim: due pending rows in order (id breaks ties so a chat's rows keep theirs).
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at", "id"),
        # Progress counts and the report of one broadcast, without reading its payloads.
        Index("ix_delivery_broadcast_id_status", "broadcast_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", nullable=False)
    account_id: int = Field(foreign_key="account.id", nullable=False, index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    # JSON: method, text/caption, parse_mode, reply_markup, file_path or file_id (see bot.services.outbox).
    payload: str = Field(sa_column=Column(Text, nullable=False))
    # Villagers' messages stop when the account is unbound; a township observer's never were bound.
    requires_binding: bool = Field(default=True, nullable=False)
    status: str = Field(default=DeliveryStatus.PENDING, sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Notice(SQLModel, table=True):
    """A notice or a publicity list (公示) the election committee sent to (part of) a village."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # notice / publicity
    title: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    # A file the committee member sent in chat (reused by Telegram file_id) or a path on disk.
    attachment_file_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    attachment_path: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    attachment_kind: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    attachment_name: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    audience: str = Field(sa_column=Column(String(16), nullable=False))  # all / party / migrants / group
    audience_group_id: int | None = Field(default=None, foreign_key="villager_group.id", nullable=True)
    ask_receipt: bool = Field(default=False, nullable=False)
    created_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # One per composed draft: a second press of "Send" finds the notice instead of sending twice.
    draft_key: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", nullable=True)
    # Publicity lists only: what was published, when, until when objections are taken, and the
    # SHA-256 of the list's canonical form (also printed on the paper copy).
    list_kind: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    published_on: date | None = Field(default=None, nullable=True)
    objection_deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    fingerprint: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class Objection(SQLModel, table=True):
    """A villager's objection to a publicity list, and the committee's answer."""

    __tablename__ = "objection"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", nullable=False, index=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    person_id: int = Field(foreign_key="person.id", nullable=False)
    account_id: int = Field(foreign_key="account.id", nullable=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    answered_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)


class ElectionStatus(StrEnum):
    """Where an election stands: set up by the committee, under way, or finished."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Election(SQLModel, table=True):
    """One election of a village: its kind, its calendar and the committee's changes to the preset.

    The policy is ``preset(kind, province)`` with ``policy_overrides`` applied (bot.services.elections);
    only the changed values are stored, so a corrected preset reaches every election that kept it.
    """

    __tablename__ = "election"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    kind: str = Field(sa_column=Column(String(32), nullable=False))  # bot.rules.policy.ElectionKind
    # Copied from the village when the election is created: a village's province never changes an
    # election under way.
    province: str = Field(sa_column=Column(String(16), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    status: str = Field(default=ElectionStatus.DRAFT, sa_column=Column(String(16), nullable=False))
    # The calendar (bot.rules.schedule.Schedule): dates are the village's; windows are instants.
    election_day: date = Field(nullable=False)
    voter_list_published: date | None = Field(default=None, nullable=True)
    candidate_list_published: date | None = Field(default=None, nullable=True)
    recommendation_opens: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    recommendation_closes: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    trust_vote_opens: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    trust_vote_closes: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    proxy_deadline: date | None = Field(default=None, nullable=True)
    proxy_list_published: date | None = Field(default=None, nullable=True)
    second_round_day: date | None = Field(default=None, nullable=True)
    # JSON object of the policy values the committee changed, e.g. {"party_round_weight": "2/1"}.
    policy_overrides: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # The candidate list once published (the notice carries the same fingerprint).
    candidates_published_on: date | None = Field(default=None, nullable=True)
    candidates_fingerprint: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    created_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # Optimistic lock: every change says which version it read and bumps it, so two committee members
    # editing at once cannot silently overwrite each other.
    version: int = Field(default=1, nullable=False)


class ElectionPosition(SQLModel, table=True):
    """A position an election fills (bot.rules.policy.Position) and how many seats it has."""

    __tablename__ = "election_position"
    __table_args__ = (UniqueConstraint("election_id", "position", name="uq_election_position"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False)
    position: str = Field(sa_column=Column(String(32), nullable=False))
    seats: int = Field(nullable=False)


class Recommendation(SQLModel, table=True):
    """One recommendation made in chat (民主推荐): who recommended whom, for which position, in which round.

    Who recommended whom is never shown in chat; the committee sees counts only.
    """

    __tablename__ = "recommendation"
    __table_args__ = (
        UniqueConstraint(
            "election_id",
            "round",
            "recommender_person_id",
            "candidate_person_id",
            "position",
            name="uq_recommendation_once",
        ),
        # The tally: counts per position, round and candidate.
        Index("ix_recommendation_tally", "election_id", "position", "round", "candidate_person_id"),
        # A recommender's own choices (the quota, "2 of 3 used").
        Index("ix_recommendation_recommender", "recommender_person_id", "election_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False)
    position: str = Field(sa_column=Column(String(32), nullable=False))
    round: str = Field(sa_column=Column(String(16), nullable=False))  # party / public
    recommender_person_id: int = Field(foreign_key="person.id", nullable=False)
    candidate_person_id: int = Field(foreign_key="person.id", nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class PaperTally(SQLModel, table=True):
    """A count from a paper recommendation meeting of one villagers' group, typed in by the committee.

    ``participants`` is the number of people at that meeting (the same on every row of the meeting).
    """

    __tablename__ = "paper_tally"
    __table_args__ = (
        UniqueConstraint(
            "election_id",
            "round",
            "group_id",
            "meeting_date",
            "position",
            "candidate_person_id",
            name="uq_paper_tally_line",
        ),
        Index("ix_paper_tally_tally", "election_id", "position", "round", "candidate_person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False)
    position: str = Field(sa_column=Column(String(32), nullable=False))
    round: str = Field(sa_column=Column(String(16), nullable=False))
    group_id: int = Field(foreign_key="villager_group.id", nullable=False)
    meeting_date: date = Field(nullable=False)
    candidate_person_id: int = Field(foreign_key="person.id", nullable=False)
    count: int = Field(nullable=False)
    participants: int = Field(nullable=False)
    entered_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    entered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Participation(SQLModel, table=True):
    """Who took part by chat in a recommendation round: printed on the roster before a group's paper
    meeting, so nobody takes part twice. It says nothing of whom they recommended."""

    __tablename__ = "participation"
    __table_args__ = (UniqueConstraint("election_id", "round", "person_id", name="uq_participation_once"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False)
    round: str = Field(sa_column=Column(String(16), nullable=False))
    person_id: int = Field(foreign_key="person.id", nullable=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ElectionCandidate(SQLModel, table=True):
    """A person on an election's published candidate list, for one position (written when the list
    is published, so later stages — the trust vote — work on exactly the list people saw)."""

    __tablename__ = "election_candidate"
    __table_args__ = (
        # Both lists of a two-ballot election stay: the preliminary one the trust vote was cast on,
        # and the formal one that came out of it.
        UniqueConstraint("election_id", "stage", "position", "person_id", name="uq_election_candidate"),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False, index=True)
    position: str = Field(sa_column=Column(String(32), nullable=False))
    person_id: int = Field(foreign_key="person.id", nullable=False)
    stage: str = Field(sa_column=Column(String(16), nullable=False))  # preliminary / formal
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))  # of the list it was on


class TrustPaperCount(SQLModel, table=True):
    """A paper trust vote at one villagers' group meeting, for one preliminary candidate, typed in by
    the committee. ``ballots`` is the number of ballots cast at that meeting (the same on every row of
    the meeting); the marks of one candidate add up to at most that."""

    __tablename__ = "trust_paper_count"
    __table_args__ = (
        UniqueConstraint(
            "election_id", "group_id", "meeting_date", "candidate_person_id", name="uq_trust_paper_count_line"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False, index=True)
    group_id: int = Field(foreign_key="villager_group.id", nullable=False)
    meeting_date: date = Field(nullable=False)
    candidate_person_id: int = Field(foreign_key="person.id", nullable=False)
    trust: int = Field(nullable=False)
    no_trust: int = Field(nullable=False)
    abstain: int = Field(nullable=False)
    ballots: int = Field(nullable=False)
    entered_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    entered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class TrustBallot(SQLModel, table=True):
    """One trust-vote ballot (两票制): its marks, never who cast it.

    The id is random and only the day is kept, so nothing orders or times ballots against the
    voters in `trust_voter`; SQLite stores both WITHOUT ROWID (no hidden insertion order).
    """

    __tablename__ = "trust_ballot"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    election_id: int = Field(foreign_key="election.id", nullable=False, index=True)
    cast_on: date = Field(nullable=False)
    # SHA-256 of the short receipt code the voter was given (to check the ballot was counted).
    receipt_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))


class TrustMark(SQLModel, table=True):
    """Trust (信任), no trust (不信任) or abstain (弃权) for one candidate on one ballot."""

    __tablename__ = "trust_mark"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ballot_id: str = Field(sa_column=Column(String(32), ForeignKey("trust_ballot.id"), primary_key=True))
    candidate_person_id: int = Field(foreign_key="person.id", primary_key=True)
    choice: str = Field(sa_column=Column(String(16), nullable=False))


class TrustVoter(SQLModel, table=True):
    """Who has cast a trust ballot, so nobody votes twice: no link to the ballot, no time."""

    __tablename__ = "trust_voter"
    __table_args__ = ({"sqlite_with_rowid": False},)

    election_id: int = Field(foreign_key="election.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)


# ------------------------------------------------------------------ candidate Q&A (issue 5: /ask)


class QuestionStatus(StrEnum):
    """Where a villager's question to the candidates stands."""

    PENDING = "pending"  # waiting for the election committee
    REJECTED = "rejected"  # the committee refused it, with a reason the asker is told
    FORWARDED = "forwarded"  # sent to the addressed candidates, no answer yet
    ANSWERED = "answered"  # at least one addressed candidate answered
    PUBLISHED = "published"  # question and answers sent to the whole village


class CandidateQuestion(SQLModel, table=True):
    """A villager's question to one candidate, or to all candidates, of an election.

    The asker is kept for the committee (to tell them what became of it); a candidate is never shown
    who asked.
    """

    __tablename__ = "candidate_question"
    __table_args__ = (
        # The per-person cap of open questions, and "my questions".
        Index("ix_candidate_question_asker", "asker_person_id", "election_id", "status"),
        # The committee's lists and counts.
        Index("ix_candidate_question_village_status", "village_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False)
    village_id: int = Field(foreign_key="village.id", nullable=False)
    asker_person_id: int = Field(foreign_key="person.id", nullable=False)
    asker_account_id: int = Field(foreign_key="account.id", nullable=False)
    # None: the question is for every candidate on the published list.
    candidate_person_id: int | None = Field(default=None, foreign_key="person.id", nullable=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=QuestionStatus.PENDING, sa_column=Column(String(16), nullable=False))
    reject_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    moderated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    moderated_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    published_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", nullable=True)
    # One per composed question: a second press of "Send" finds it instead of asking twice.
    draft_key: str = Field(sa_column=Column(String(32), nullable=False, unique=True))


class CandidateAnswer(SQLModel, table=True):
    """One candidate's answer to a question (one answer per candidate and question)."""

    __tablename__ = "candidate_answer"
    __table_args__ = (
        UniqueConstraint("question_id", "candidate_person_id", name="uq_candidate_answer_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="candidate_question.id", nullable=False)
    candidate_person_id: int = Field(foreign_key="person.id", nullable=False)
    account_id: int = Field(foreign_key="account.id", nullable=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# --- results and the audit trail (issue 8) ------------------------------------------------------


class AuditEntry(SQLModel, table=True):
    """One committee action in a village's hash-chained log: each row carries the SHA-256 of the
    previous row of its village, so a changed, removed or inserted row breaks the chain."""

    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("village_id", "seq", name="uq_audit_entry_village_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False)
    seq: int = Field(nullable=False)  # 1, 2, 3 … within the village
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    # Who acted, as the log shows it: the phone of the account, or "shell".
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    details: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class ResultEntryStatus(StrEnum):
    """Where a tally entry stands. A correction is a new version; the old one is kept, superseded."""

    DRAFT = "draft"  # entered by one committee member
    CONFIRMED = "confirmed"  # checked by a second member (four eyes)
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class ResultEntry(SQLModel, table=True):
    """The count of one round of an election's formal vote, as the committee entered it (one version)."""

    __tablename__ = "result_entry"
    __table_args__ = (UniqueConstraint("election_id", "round", "version", name="uq_result_entry_version"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False, index=True)
    round: str = Field(sa_column=Column(String(16), nullable=False))  # bot.rules.results.ElectionRound
    version: int = Field(nullable=False)
    status: str = Field(default=ResultEntryStatus.DRAFT, sa_column=Column(String(16), nullable=False))
    registered: int = Field(nullable=False)  # voters on the roll (party: members entitled to vote)
    present: int | None = Field(default=None, nullable=True)  # party elections: members present
    # SHA-256 of the canonical tally JSON (bot.services.results.tally_document), printed on every copy.
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    entered_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    entered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    confirmed_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # Objections until the end of this day (village time); final afterwards.
    objections_until: date | None = Field(default=None, nullable=True)
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ResultPosition(SQLModel, table=True):
    """The ballots of one position in a tally entry."""

    __tablename__ = "result_position"
    __table_args__ = (UniqueConstraint("entry_id", "position", name="uq_result_position"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="result_entry.id", nullable=False)
    position: str = Field(sa_column=Column(String(32), nullable=False))
    seats: int = Field(nullable=False)
    issued: int = Field(nullable=False)
    returned: int = Field(nullable=False)
    valid: int = Field(nullable=False)
    invalid: int = Field(nullable=False)


class ResultVote(SQLModel, table=True):
    """Votes for one person for one position: a formal candidate, or a name written in (另选他人)."""

    __tablename__ = "result_vote"
    __table_args__ = (UniqueConstraint("result_position_id", "name", name="uq_result_vote_name"),)

    id: int | None = Field(default=None, primary_key=True)
    result_position_id: int = Field(foreign_key="result_position.id", nullable=False, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", nullable=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    write_in: bool = Field(default=False, nullable=False)
    votes: int = Field(nullable=False)


# --- issue 7: reminders ---------------------------------------------------------------------------


class ReminderWaveStatus(StrEnum):
    """A wave is planned until it is sent, skipped (too late, nobody left) or cancelled by the committee.
    Only `planned` waves are ever fired, so a wave's row is the proof that it went out once."""

    PLANNED = "planned"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class ReminderWave(SQLModel, table=True):
    """One reminder to many people at one time (a phase opens, 24 h before a deadline, a custom notice).

    ``key`` is stable (``election:12:trust_vote_close_24h``): re-planning finds the same row again.
    """

    __tablename__ = "reminder_wave"
    __table_args__ = (Index("ix_reminder_wave_status_due_at", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(120), nullable=False, unique=True))
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    election_id: int | None = Field(default=None, foreign_key="election.id", nullable=True, index=True)
    notice_id: int | None = Field(default=None, foreign_key="notice.id", nullable=True)
    scheduled_notice_id: int | None = Field(default=None, foreign_key="scheduled_notice.id", nullable=True)
    # What it reminds of: the subject ("election:12") and its phase ("trust_vote"); the kind names the
    # entry of the wave registry (bot.services.reminders) that computes its audience and its words.
    subject: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    phase: str = Field(sa_column=Column(String(48), nullable=False))
    kind: str = Field(sa_column=Column(String(48), nullable=False))
    # Essential waves (legally required notices) reach people who muted reminders too.
    essential: bool = Field(default=False, nullable=False)
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # After this instant the wave is useless (the phase it reminds of has closed): skipped, not sent.
    deadline_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    status: str = Field(default=ReminderWaveStatus.PLANNED, sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(48), nullable=True))
    fired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", nullable=True)
    recipients: int = Field(default=0, nullable=False)
    cancelled_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    # A "results are now final" wave: the published results entry it announces.
    result_entry_id: int | None = Field(default=None, foreign_key="result_entry.id", nullable=True)


class ReminderMute(SQLModel, table=True):
    """A villager who does not want non-essential reminders (legally required notices still reach them)."""

    __tablename__ = "reminder_mute"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    muted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class VillageReminderSettings(SQLModel, table=True):
    """A village's time zone and quiet hours (21:00-08:00 when no row exists), and where people vote."""

    __tablename__ = "village_reminder_settings"

    village_id: int = Field(foreign_key="village.id", primary_key=True)
    time_zone: str = Field(default="Asia/Shanghai", sa_column=Column(String(64), nullable=False))
    quiet_start: time = Field(default=time(21, 0), nullable=False)
    quiet_end: time = Field(default=time(8, 0), nullable=False)
    # Told in the election-day morning reminder, e.g. "村委会大院，上午8点到12点".
    polling_place: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))


class ScheduledNotice(SQLModel, table=True):
    """A notice the committee asked to be sent later ("send this at 08:00 on Friday")."""

    __tablename__ = "scheduled_notice"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", nullable=False, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # The time the member asked for; the wave's due time may be later (quiet hours).
    send_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


# --- Proxies (issue 6): migrant workers' participation intent and proxy-vote authorizations -----


class IntentChoice(StrEnum):
    """How a migrant worker says they will take part in an election."""

    COMING_HOME = "coming_home"
    PROXY = "proxy"  # will authorize a near relative (OL 15 ¶4)
    NEED_HELP = "need_help"  # e.g. the mobile ballot box for an elderly relative
    NOT_TAKING_PART = "not_taking_part"


class ParticipationIntent(SQLModel, table=True):
    """A migrant worker's answer to "how will you take part?"; the latest answer counts."""

    __tablename__ = "participation_intent"
    __table_args__ = (UniqueConstraint("election_id", "person_id", name="uq_participation_intent"),)

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False, index=True)
    person_id: int = Field(foreign_key="person.id", nullable=False)
    choice: str = Field(sa_column=Column(String(16), nullable=False))  # IntentChoice
    answered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class ProxyStatus(StrEnum):
    REQUESTED = "requested"  # asked by the principal, waiting for the holder
    ACCEPTED = "accepted"  # the holder agreed (in chat, or on paper/phone through the committee)
    DECLINED = "declined"
    APPROVED = "approved"  # the committee approved: only these count
    REJECTED = "rejected"
    REVOKED = "revoked"  # taken back by the principal before the deadline


# Statuses that hold a place under the holder's cap and block a second request of the principal.
ACTIVE_PROXY_STATUSES = (ProxyStatus.REQUESTED, ProxyStatus.ACCEPTED, ProxyStatus.APPROVED)
_ACTIVE_PROXY_SQL = "status IN ('requested', 'accepted', 'approved')"


class ProxyAuthorization(SQLModel, table=True):
    """A principal's (委托人) authorization of a holder (受委托人) to vote for them in one election.

    A principal has at most one active authorization per election: a partial unique index says so,
    whatever races past the service's check. The holder's cap is kept by locking both people's rows
    while the request is checked and written (bot.services.proxies.request_proxy).
    """

    __tablename__ = "proxy_authorization"
    __table_args__ = (
        Index(
            "uq_proxy_active_principal",
            "election_id",
            "principal_person_id",
            unique=True,
            sqlite_where=text(_ACTIVE_PROXY_SQL),
            postgresql_where=text(_ACTIVE_PROXY_SQL),
        ),
        Index("ix_proxy_holder", "election_id", "holder_person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    election_id: int = Field(foreign_key="election.id", nullable=False)
    principal_person_id: int = Field(foreign_key="person.id", nullable=False)
    holder_person_id: int = Field(foreign_key="person.id", nullable=False)
    relationship: str = Field(sa_column=Column(String(32), nullable=False))  # bot.rules.policy.Relationship
    status: str = Field(default=ProxyStatus.REQUESTED, sa_column=Column(String(16), nullable=False))
    # How the holder's consent was given: chat / paper / phone (the last two recorded by the committee).
    consent_source: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    committee_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Printed on the authorization form so the committee can match the paper to this row.
    verification_code: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decided_by_account_id: int | None = Field(default=None, foreign_key="account.id", nullable=True)
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The signed written authorization (书面委托) handed to the committee.
    form_received_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # Set when the authorization is on a published proxy list (公示): the list's date and fingerprint.
    published_on: date | None = Field(default=None, nullable=True)
    published_fingerprint: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))

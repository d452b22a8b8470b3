"""Migrant workers' participation intent and proxy-vote authorizations (委托投票), from the first
"I can't come home" to the published list and the holder's election-day message.

The principal asks in chat, the holder accepts (in chat, or on paper or by phone through the
committee), the committee approves; only approved authorizations count, and the written form stays
on paper (OL 15 ¶4). The rules are bot.rules.proxy; this module loads what they need, locks what
must not race (both people's rows: the holder's cap, the principal's one active proxy) and commits
once. Every message to another person goes through the outbox.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.fonts import CjkFontMissing
from bot.files.proxy_form import ProxyForm, render_proxy_form
from bot.files.publicity import (
    PublicityKind,
    PublicityLabels,
    PublicityList,
    write_publicity_files,
)
from bot.locale_choice import resolve_locale
from bot.rules.policy import OL_15_4, Policy, Relationship, Source
from bot.rules.proxy import (
    Authorization,
    ProxyDuty,
    ProxyPerson,
    ProxyRefusalReason,
    check_proxy_request,
    check_proxy_vote,
    proxy_duties,
)
from bot.rules.schedule import proxy_deadline, proxy_list_latest
from bot.services.audit import AuditAction, append_audit
from bot.services.elections import policy_of
from bot.services.identity import Me, RoleName
from bot.services.notices import (
    Attachment,
    AttachmentKind,
    Audience,
    NoticeDraft,
    NoticeRefusal,
    PublicityFields,
    PublishOutcome,
    Recipient,
    Renderer,
    publish_notice,
)
from bot.services.outbox import BroadcastKind, MessagePayload, OutgoingMessage, enqueue_broadcast
from storage.models import (
    ACTIVE_PROXY_STATUSES,
    Account,
    Election,
    ElectionStatus,
    IntentChoice,
    ParticipationIntent,
    Person,
    ProxyAuthorization,
    ProxyStatus,
    Village,
)
from storage.repositories import elections as elections_repo
from storage.repositories import notices as notices_repo
from storage.repositories import proxies as proxies_repo

__all__ = [
    "ConsentSource",
    "FlowRefusal",
    "IntentSummary",
    "NoteKind",
    "ProxyNote",
    "ProxyResult",
    "answer_proxy_request",
    "approved_forms_missing",
    "ask_migrants",
    "ballot_roster",
    "deadline_of",
    "decide_proxy",
    "holders_with_principals",
    "intent_summary",
    "migrants_without_answer",
    "my_proxies",
    "pending_proxies",
    "publish_proxy_list",
    "record_holder_consent",
    "record_intent",
    "record_written_form",
    "request_proxy",
    "requests_awaiting_holder",
    "revoke_proxy",
    "send_holder_lists",
]

REASON_LIMIT = 500
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
PROXY_COLUMNS = ("seq", "group", "principal", "holder", "relationship")


class ConsentSource(StrEnum):
    CHAT = "chat"
    PAPER = "paper"
    PHONE = "phone"


class FlowRefusal(StrEnum):
    """Why a step of the proxy flow was refused (a rule of bot.rules.proxy: RULE, with `rules`)."""

    NOT_BOUND = "not_bound"  # the account is not (or no longer) linked to a person on the roll
    NOT_ALLOWED = "not_allowed"  # not on this village's election committee
    UNKNOWN_ELECTION = "unknown_election"
    NOT_OPEN = "not_open"
    UNKNOWN_PERSON = "unknown_person"
    RULE = "rule"
    NOT_FOUND = "not_found"  # no such request, or not theirs
    WITHDRAWN = "withdrawn"  # the principal revoked it meanwhile
    ALREADY_ANSWERED = "already_answered"
    NOT_ACCEPTED = "not_accepted"  # the committee decides only once the holder has agreed
    ALREADY_DECIDED = "already_decided"
    NO_LONGER_ACTIVE = "no_longer_active"  # declined, rejected or revoked
    AFTER_DEADLINE = "after_deadline"
    EMPTY_REASON = "empty_reason"
    REASON_TOO_LONG = "reason_too_long"
    NOTHING_TO_PUBLISH = "nothing_to_publish"
    LIST_TOO_LATE = "list_too_late"
    NOT_ELECTION_DAY = "not_election_day"
    FONT_MISSING = "font_missing"
    NOTICE = "notice"  # publish_notice refused: see `notice_refusal`


class NoteKind(StrEnum):
    """What a person is told through the outbox, in their own language."""

    ASK_HOLDER = "ask_holder"  # with accept / decline buttons
    HOLDER_ACCEPTED = "holder_accepted"
    HOLDER_DECLINED = "holder_declined"
    APPROVED = "approved"  # to the principal: the form to sign (a PDF follows)
    APPROVED_HOLDER = "approved_holder"
    REJECTED = "rejected"
    REVOKED = "revoked"  # to the holder
    ELECTION_DAY = "election_day"  # to the holder: whom they vote for


@dataclass(frozen=True)
class ProxyNote:
    kind: NoteKind
    authorization_id: int
    election_title: str
    principal: str
    holder: str
    relationship: Relationship
    reason: str | None = None
    duties: tuple[ProxyDuty, ...] = ()
    principals: tuple[tuple[str, Relationship], ...] = ()  # election day: whom the holder votes for
    file_path: str | None = None  # the authorization form, for APPROVED


# (the note, the recipient's locale) -> the messages (text, then the form's PDF for APPROVED).
# Built by the handlers, which translate.
ProxyNotifier = Callable[[ProxyNote, str], Sequence[MessagePayload]]
# (the authorization, principal, holder, election, locale) -> the form's words.
FormWords = Callable[[ProxyAuthorization, Person, Person, Election, Village, str], ProxyForm]


@dataclass(frozen=True)
class ProxyResult:
    refusal: FlowRefusal | None = None
    rules: tuple[tuple[ProxyRefusalReason, Source], ...] = ()
    authorization: ProxyAuthorization | None = None
    election: Election | None = None
    principal: Person | None = None
    holder: Person | None = None
    deadline: date | None = None
    cap: int | None = None
    holder_load: int = 0
    notice_refusal: NoticeRefusal | None = None
    form_path: Path | None = None
    holder_reached: bool = False  # the request went to the holder's Telegram (else: the committee asks)

    @property
    def rule(self) -> ProxyRefusalReason | None:
        return self.rules[0][0] if self.rules else None


def _local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def _proxy_person(person: Person, village_id: int) -> ProxyPerson:
    assert person.id is not None
    on_roll = person.eligible_voter and person.removed_at is None and person.village_id == village_id
    return ProxyPerson(id=person.id, village_id=person.village_id, on_roll=on_roll)


def _authorizations(rows: Sequence[ProxyAuthorization]) -> list[Authorization]:
    return [
        Authorization(r.principal_person_id, r.holder_person_id, active=r.status in ACTIVE_PROXY_STATUSES)
        for r in rows
    ]


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if not await proxies_repo.code_taken(session, code):
            return code


async def _note_to(
    session: AsyncSession,
    person_id: int,
    note: ProxyNote,
    notify: ProxyNotifier,
    default_locale: str,
    *,
    village_id: int,
    created_by: int | None,
) -> bool:
    """Queue one note to the person's linked account; False when they are not on Telegram."""
    reachable = await elections_repo.bound_accounts(session, [person_id])
    if not reachable:
        return False
    account = await session.get(Account, reachable[0].account_id)
    assert account is not None and account.id is not None and account.chat_id is not None
    locale = resolve_locale(account.locale, account.telegram_language_code, default_locale)
    payloads = list(notify(note, locale))
    await enqueue_broadcast(
        session,
        kind=BroadcastKind.OTHER,
        title=f"proxy {note.kind.value} {note.authorization_id}",
        village_id=village_id,
        created_by_account_id=created_by,
        messages=[
            OutgoingMessage(account_id=account.id, chat_id=account.chat_id, payload=p, locale=locale)
            for p in payloads
        ],
        commit=False,
    )
    return True


async def _election_of_village(session: AsyncSession, election_id: int, village_id: int) -> Election | None:
    election = await elections_repo.get(session, election_id)
    return election if election is not None and election.village_id == village_id else None


async def _committee_election(
    session: AsyncSession, me: Me | None, election_id: int
) -> ProxyResult | Election:
    election = await elections_repo.get(session, election_id)
    if election is None:
        return ProxyResult(refusal=FlowRefusal.UNKNOWN_ELECTION)
    if me is not None and not me.has_role(election.village_id, RoleName.COMMITTEE):
        return ProxyResult(refusal=FlowRefusal.NOT_ALLOWED)
    return election


def _audit_details(row: ProxyAuthorization) -> dict[str, object]:
    """What the audit trail records of an authorization: ids and its code, no names."""
    return {
        "election_id": row.election_id,
        "proxy_id": row.id,
        "principal_person_id": row.principal_person_id,
        "holder_person_id": row.holder_person_id,
        "verification_code": row.verification_code,
    }


async def _finish(session: AsyncSession, result: ProxyResult) -> ProxyResult:
    """Commit what a successful step wrote. A refusal wrote nothing: its read ends with a commit too,
    so the people and rows it names stay loaded for the reply (a rollback would expire them); if a
    refusal came after a change (the form's font missing), the change is rolled back."""
    if result.refusal is not None and (session.new or session.dirty or session.deleted):
        await session.rollback()
    else:
        await session.commit()
    return result


# ------------------------------------------------------------------------------- intents


@dataclass(frozen=True)
class AskOutcome:
    refusal: FlowRefusal | None = None
    asked: int = 0
    unbound: tuple[str, ...] = ()  # migrants not on Telegram yet: the committee reaches them


IntentAsker = Callable[[Election, Recipient], MessagePayload]


async def ask_migrants(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    *,
    ask: IntentAsker,
    default_locale: str,
    title: str | None = None,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> AskOutcome:
    """Ask every migrant worker who has not answered yet how they will take part (one outbox wave
    with the four answer buttons). Run again, it asks only those who still have not answered.
    ``title`` names the wave in the committee member's progress report."""
    found = await _committee_election(session, me, election_id)
    if isinstance(found, ProxyResult):
        await session.rollback()
        return AskOutcome(refusal=found.refusal)
    election = found
    if election.status != ElectionStatus.OPEN:
        await session.rollback()
        return AskOutcome(refusal=FlowRefusal.NOT_OPEN)
    answered = await proxies_repo.intents(session, election_id)
    members = await notices_repo.audience_members(session, election.village_id, Audience.MIGRANTS.value, None)
    eligible = {p.id for p in await proxies_repo.migrants(session, election.village_id)}
    messages, unbound = [], []
    for member in members:
        if member.person_id not in eligible or member.person_id in answered:
            continue
        if member.account_id is None or member.chat_id is None:
            unbound.append(member.name)
            continue
        locale = resolve_locale(member.locale, member.telegram_language_code, default_locale)
        recipient = Recipient(member.account_id, member.chat_id, locale, member.name)
        messages.append(
            OutgoingMessage(member.account_id, member.chat_id, ask(election, recipient), locale=locale)
        )
    if messages:
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.REMINDER,
            title=title or election.title,
            village_id=election.village_id,
            created_by_account_id=me.account.id if me else None,
            messages=messages,
            progress_chat_id=progress_chat_id,
            progress_locale=progress_locale,
            commit=False,
        )
    await session.commit()
    return AskOutcome(asked=len(messages), unbound=tuple(unbound))


@dataclass(frozen=True)
class IntentOutcome:
    refusal: FlowRefusal | None = None
    choice: IntentChoice | None = None
    election: Election | None = None


async def record_intent(
    session: AsyncSession, me: Me, election_id: int, choice: IntentChoice, now: datetime
) -> IntentOutcome:
    """The villager's answer; a later answer replaces the earlier one while the election is open."""
    if me.person is None or me.person.id is None or me.village is None or me.village.id is None:
        return IntentOutcome(refusal=FlowRefusal.NOT_BOUND)
    election = await _election_of_village(session, election_id, me.village.id)
    if election is None:
        await session.rollback()
        return IntentOutcome(refusal=FlowRefusal.UNKNOWN_ELECTION)
    if election.status != ElectionStatus.OPEN:
        await session.rollback()
        return IntentOutcome(refusal=FlowRefusal.NOT_OPEN, election=election)
    row = await proxies_repo.intent_of(session, election_id, me.person.id)
    if row is None:
        row = ParticipationIntent(election_id=election_id, person_id=me.person.id, choice=choice.value)
    row.choice = choice.value
    row.answered_at = now
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # two taps at once: the other one stored the answer
        await session.rollback()
    return IntentOutcome(choice=choice, election=election)


@dataclass(frozen=True)
class GroupIntents:
    group: str | None
    counts: dict[IntentChoice, int]
    not_answered: tuple[str, ...]


@dataclass(frozen=True)
class IntentSummary:
    refusal: FlowRefusal | None = None
    groups: tuple[GroupIntents, ...] = ()

    def total(self, choice: IntentChoice) -> int:
        return sum(g.counts.get(choice, 0) for g in self.groups)

    @property
    def not_answered(self) -> int:
        return sum(len(g.not_answered) for g in self.groups)


async def intent_summary(session: AsyncSession, me: Me | None, election_id: int) -> IntentSummary:
    """The migrant workers' answers per villagers' group, and who has not answered."""
    found = await _committee_election(session, me, election_id)
    if isinstance(found, ProxyResult):
        await session.rollback()
        return IntentSummary(refusal=found.refusal)
    answered = await proxies_repo.intents(session, election_id)
    people = await proxies_repo.migrants(session, found.village_id)
    names = await elections_repo.people_by_ids(session, [p.id for p in people if p.id is not None])
    await session.commit()
    counts: dict[str | None, dict[IntentChoice, int]] = defaultdict(dict)
    missing: dict[str | None, list[str]] = defaultdict(list)
    for person in people:
        assert person.id is not None
        group = names[person.id].group
        counts.setdefault(group, {})  # every group with a migrant shows, even with no answers
        if person.id in answered:
            choice = IntentChoice(answered[person.id].choice)
            counts[group][choice] = counts[group].get(choice, 0) + 1
        else:
            missing[group].append(person.name)
    groups = sorted(counts, key=lambda g: (g is None, g or ""))
    return IntentSummary(groups=tuple(GroupIntents(g, counts[g], tuple(missing.get(g, ()))) for g in groups))


# --------------------------------------------------------------- who still has something to do


def deadline_of(election: Election) -> date:
    """The last day (village time) a proxy request is made, changed or revoked."""
    return proxy_deadline(policy_of(election), election.election_day, election.proxy_deadline)


async def migrants_without_answer(session: AsyncSession, election_id: int) -> list[int]:
    """Person ids of the migrant workers who have not said how they will take part (reminders)."""
    election = await elections_repo.get(session, election_id)
    if election is None:
        return []
    answered = await proxies_repo.intents(session, election_id)
    people = await proxies_repo.migrants(session, election.village_id)
    return [p.id for p in people if p.id is not None and p.id not in answered]


async def requests_awaiting_holder(session: AsyncSession, election_id: int) -> list[int]:
    """Person ids of the holders who have a request they have not answered yet."""
    rows = await proxies_repo.with_status(session, election_id, ProxyStatus.REQUESTED.value)
    return sorted({r.holder_person_id for r in rows})


async def approved_forms_missing(session: AsyncSession, election_id: int) -> list[int]:
    """Person ids of the principals whose approved authorization still lacks the signed written form."""
    rows = await proxies_repo.approved(session, election_id)
    return sorted({r.principal_person_id for r in rows if r.form_received_at is None})


# ------------------------------------------------------------------------ the principal's request


async def request_proxy(
    session: AsyncSession,
    me: Me,
    election_id: int,
    holder_person_id: int,
    relationship: Relationship,
    *,
    now: datetime,
    zone: ZoneInfo,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    """The principal asks a near relative to vote for them; the holder is asked through the outbox.

    Both people's rows are locked (in id order) before the rules read the existing authorizations,
    so two principals racing for a holder's last place are served one after the other, and the
    second one is refused at the cap (SQLite: BEGIN IMMEDIATE already serialises writers).
    """
    try:
        result = await _request(
            session, me, election_id, holder_person_id, relationship, now, zone, notify, default_locale
        )
    except IntegrityError:
        # The partial unique index: another request of this principal got in first.
        await session.rollback()
        return ProxyResult(
            refusal=FlowRefusal.RULE, rules=((ProxyRefusalReason.PRINCIPAL_HAS_ACTIVE_PROXY, OL_15_4),)
        )
    return await _finish(session, result)


async def _request(
    session: AsyncSession,
    me: Me,
    election_id: int,
    holder_person_id: int,
    relationship: Relationship,
    now: datetime,
    zone: ZoneInfo,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    if me.person is None or me.person.id is None or me.village is None or me.village.id is None:
        return ProxyResult(refusal=FlowRefusal.NOT_BOUND)
    election = await _election_of_village(session, election_id, me.village.id)
    if election is None:
        return ProxyResult(refusal=FlowRefusal.UNKNOWN_ELECTION)
    if election.status != ElectionStatus.OPEN:
        return ProxyResult(refusal=FlowRefusal.NOT_OPEN, election=election)
    locked: dict[int, Person | None] = {}
    for person_id in sorted({me.person.id, holder_person_id}):
        locked[person_id] = await elections_repo.lock_person(session, person_id)
    principal, holder = locked[me.person.id], locked[holder_person_id]
    if principal is None:
        return ProxyResult(refusal=FlowRefusal.NOT_BOUND)
    if holder is None:
        return ProxyResult(refusal=FlowRefusal.UNKNOWN_PERSON, election=election)
    policy = policy_of(election)
    rows = await proxies_repo.of_election(session, election_id)
    candidates = {line.person.id for _, line in await elections_repo.candidates(session, election_id)}
    checked = check_proxy_request(
        _proxy_person(principal, election.village_id),
        _proxy_person(holder, election.village_id),
        relationship,
        _authorizations(rows),
        {c for c in candidates if c is not None},
        policy,
        now.astimezone(zone),
        election.election_day,
        election.proxy_deadline,
    )
    base = ProxyResult(
        election=election,
        principal=principal,
        holder=holder,
        deadline=checked.deadline,
        cap=checked.cap,
        holder_load=checked.holder_load,
    )
    if not checked.accepted:
        return replace(
            base, refusal=FlowRefusal.RULE, rules=tuple((r.reason, r.source) for r in checked.refusals)
        )
    assert principal.id is not None and holder.id is not None
    row = ProxyAuthorization(
        election_id=election_id,
        principal_person_id=principal.id,
        holder_person_id=holder.id,
        relationship=relationship.value,
        status=ProxyStatus.REQUESTED.value,
        verification_code=await _new_code(session),
        requested_at=now,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    reached = await _note_to(
        session,
        holder.id,
        ProxyNote(NoteKind.ASK_HOLDER, row.id, election.title, principal.name, holder.name, relationship),
        notify,
        default_locale,
        village_id=election.village_id,
        created_by=me.account.id,
    )
    return replace(base, authorization=row, holder_load=checked.holder_load + 1, holder_reached=reached)


async def _load_people(session: AsyncSession, row: ProxyAuthorization) -> tuple[Person, Person]:
    principal = await session.get(Person, row.principal_person_id)
    holder = await session.get(Person, row.holder_person_id)
    assert principal is not None and holder is not None
    return principal, holder


def _note(
    kind: NoteKind,
    row: ProxyAuthorization,
    election: Election,
    principal: Person,
    holder: Person,
    *,
    reason: str | None = None,
    duties: tuple[ProxyDuty, ...] = (),
    file_path: str | None = None,
) -> ProxyNote:
    assert row.id is not None
    return ProxyNote(
        kind,
        row.id,
        election.title,
        principal.name,
        holder.name,
        Relationship(row.relationship),
        reason=reason,
        duties=duties,
        file_path=file_path,
    )


# ------------------------------------------------------------------------------ the holder's answer


async def answer_proxy_request(
    session: AsyncSession,
    me: Me,
    authorization_id: int,
    *,
    accept: bool,
    now: datetime,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    """The holder accepts or declines in chat. A request revoked a second earlier is refused: the
    row is locked, so the answer and the revocation are served one after the other."""
    return await _finish(
        session, await _answer(session, me, authorization_id, accept, now, notify, default_locale)
    )


async def _answer(
    session: AsyncSession,
    me: Me,
    authorization_id: int,
    accept: bool,
    now: datetime,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    if me.person is None or me.person.id is None:
        return ProxyResult(refusal=FlowRefusal.NOT_BOUND)
    row = await proxies_repo.lock(session, authorization_id)
    if row is None or row.holder_person_id != me.person.id:
        return ProxyResult(refusal=FlowRefusal.NOT_FOUND)
    election = await elections_repo.get(session, row.election_id)
    assert election is not None
    principal, holder = await _load_people(session, row)
    base = ProxyResult(authorization=row, election=election, principal=principal, holder=holder)
    if row.status == ProxyStatus.REVOKED:
        return replace(base, refusal=FlowRefusal.WITHDRAWN)
    if row.status != ProxyStatus.REQUESTED:
        return replace(base, refusal=FlowRefusal.ALREADY_ANSWERED)
    row.status = (ProxyStatus.ACCEPTED if accept else ProxyStatus.DECLINED).value
    row.consent_source = ConsentSource.CHAT.value if accept else None
    row.answered_at = now
    session.add(row)
    kind = NoteKind.HOLDER_ACCEPTED if accept else NoteKind.HOLDER_DECLINED
    await _note_to(
        session,
        row.principal_person_id,
        _note(kind, row, election, principal, holder),
        notify,
        default_locale,
        village_id=election.village_id,
        created_by=me.account.id,
    )
    return base


# --------------------------------------------------------------------------------- the committee


async def record_holder_consent(
    session: AsyncSession,
    me: Me | None,
    authorization_id: int,
    source: ConsentSource,
    *,
    now: datetime,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    """The committee records the consent of a holder not on Telegram, taken on paper or by phone."""
    return await _finish(
        session, await _consent(session, me, authorization_id, source, now, notify, default_locale)
    )


async def _consent(
    session: AsyncSession,
    me: Me | None,
    authorization_id: int,
    source: ConsentSource,
    now: datetime,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    row = await proxies_repo.lock(session, authorization_id)
    if row is None:
        return ProxyResult(refusal=FlowRefusal.NOT_FOUND)
    found = await _committee_election(session, me, row.election_id)
    if isinstance(found, ProxyResult):
        return found
    principal, holder = await _load_people(session, row)
    base = ProxyResult(authorization=row, election=found, principal=principal, holder=holder)
    if row.status == ProxyStatus.REVOKED:
        return replace(base, refusal=FlowRefusal.WITHDRAWN)
    if row.status != ProxyStatus.REQUESTED:
        return replace(base, refusal=FlowRefusal.ALREADY_ANSWERED)
    if source is ConsentSource.CHAT:  # only the holder consents in chat, with their own account
        return replace(base, refusal=FlowRefusal.NOT_ALLOWED)
    row.status = ProxyStatus.ACCEPTED.value
    row.consent_source = source.value
    row.answered_at = now
    session.add(row)
    await append_audit(
        session,
        found.village_id,
        me,
        AuditAction.PROXY_CONSENT_RECORDED,
        {**_audit_details(row), "source": source.value},
        now=now,
    )
    await _note_to(
        session,
        row.principal_person_id,
        _note(NoteKind.HOLDER_ACCEPTED, row, found, principal, holder),
        notify,
        default_locale,
        village_id=found.village_id,
        created_by=me.account.id if me else None,
    )
    return base


async def _principal_locale(session: AsyncSession, person_id: int, default_locale: str) -> str:
    reachable = await elections_repo.bound_accounts(session, [person_id])
    if not reachable:
        return default_locale
    account = await session.get(Account, reachable[0].account_id)
    assert account is not None
    return resolve_locale(account.locale, account.telegram_language_code, default_locale)


def _write_form(form: ProxyForm, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_proxy_form(form))


async def decide_proxy(
    session: AsyncSession,
    me: Me | None,
    authorization_id: int,
    *,
    approve: bool,
    reason: str,
    now: datetime,
    notify: ProxyNotifier,
    form_words: FormWords,
    out_dir: Path,
    default_locale: str,
) -> ProxyResult:
    """The committee approves (the principal gets the pre-filled written form as a PDF) or rejects
    with a reason. Deciding twice is refused; only an authorization the holder agreed to is decided.

    The form is drawn before the deciding transaction (most of a second of CPU, and SQLite has one
    writer); the decision then locks the row and checks again, and a form drawn for nothing is
    deleted."""
    form_path: Path | None = None
    if approve:
        checked = await _check_decision(session, me, authorization_id, approve, reason, lock=False)
        if checked.refusal is not None:
            return await _finish(session, checked)
        form = await _form_of(session, checked, form_words, default_locale)
        await session.commit()  # end the read before drawing
        assert checked.authorization is not None
        row = checked.authorization
        # One file per drawing: two members approving at once must not delete each other's form.
        form_path = out_dir / f"proxy-form-{row.id}-{row.verification_code}-{secrets.token_hex(4)}.pdf"
        try:
            await asyncio.to_thread(_write_form, form, form_path)
        except CjkFontMissing:
            return ProxyResult(refusal=FlowRefusal.FONT_MISSING)
    result = await _decide(
        session, me, authorization_id, approve, reason, now, notify, form_path, default_locale
    )
    if result.refusal is not None and form_path is not None:
        form_path.unlink(missing_ok=True)
    return await _finish(session, result)


async def _check_decision(
    session: AsyncSession, me: Me | None, authorization_id: int, approve: bool, reason: str, *, lock: bool
) -> ProxyResult:
    """What the decision would be refused for, else the row and its people (locked if ``lock``)."""
    if lock:
        row = await proxies_repo.lock(session, authorization_id)
    else:
        row = await session.get(ProxyAuthorization, authorization_id)
    if row is None:
        return ProxyResult(refusal=FlowRefusal.NOT_FOUND)
    found = await _committee_election(session, me, row.election_id)
    if isinstance(found, ProxyResult):
        return found
    principal, holder = await _load_people(session, row)
    base = ProxyResult(authorization=row, election=found, principal=principal, holder=holder)
    if row.status in (ProxyStatus.APPROVED, ProxyStatus.REJECTED):
        return replace(base, refusal=FlowRefusal.ALREADY_DECIDED)
    if row.status == ProxyStatus.REQUESTED:
        return replace(base, refusal=FlowRefusal.NOT_ACCEPTED)
    if row.status != ProxyStatus.ACCEPTED:
        return replace(base, refusal=FlowRefusal.NO_LONGER_ACTIVE)
    reason = reason.strip()
    if not approve and not reason:
        return replace(base, refusal=FlowRefusal.EMPTY_REASON)
    if len(reason) > REASON_LIMIT:
        return replace(base, refusal=FlowRefusal.REASON_TOO_LONG)
    return base


async def _form_of(
    session: AsyncSession, checked: ProxyResult, form_words: FormWords, default_locale: str
) -> ProxyForm:
    row, election = checked.authorization, checked.election
    assert (
        row is not None
        and election is not None
        and checked.principal is not None
        and checked.holder is not None
    )
    village = await session.get(Village, election.village_id)
    assert village is not None
    locale = await _principal_locale(session, row.principal_person_id, default_locale)
    return form_words(row, checked.principal, checked.holder, election, village, locale)


async def _decide(
    session: AsyncSession,
    me: Me | None,
    authorization_id: int,
    approve: bool,
    reason: str,
    now: datetime,
    notify: ProxyNotifier,
    form_path: Path | None,
    default_locale: str,
) -> ProxyResult:
    base = await _check_decision(session, me, authorization_id, approve, reason, lock=True)
    if base.refusal is not None:
        return base
    row, found, principal, holder = base.authorization, base.election, base.principal, base.holder
    assert row is not None and found is not None and principal is not None and holder is not None
    reason = reason.strip()
    row.status = (ProxyStatus.APPROVED if approve else ProxyStatus.REJECTED).value
    row.committee_reason = reason or None
    row.decided_at = now
    row.decided_by_account_id = me.account.id if me else None
    session.add(row)
    await append_audit(
        session,
        found.village_id,
        me,
        AuditAction.PROXY_DECIDED,
        {**_audit_details(row), "decision": row.status, "reason": row.committee_reason},
        now=now,
    )
    created_by = me.account.id if me else None
    if approve:
        duties = tuple(duty for duty, _ in proxy_duties(policy_of(found)))
        path = str(form_path) if form_path is not None else None
        note = _note(NoteKind.APPROVED, row, found, principal, holder, duties=duties, file_path=path)
        await _note_to(
            session,
            row.principal_person_id,
            note,
            notify,
            default_locale,
            village_id=found.village_id,
            created_by=created_by,
        )
        await _note_to(
            session,
            row.holder_person_id,
            _note(NoteKind.APPROVED_HOLDER, row, found, principal, holder),
            notify,
            default_locale,
            village_id=found.village_id,
            created_by=created_by,
        )
    else:
        note = _note(NoteKind.REJECTED, row, found, principal, holder, reason=reason)
        await _note_to(
            session,
            row.principal_person_id,
            note,
            notify,
            default_locale,
            village_id=found.village_id,
            created_by=created_by,
        )
    return replace(base, form_path=form_path)


async def record_written_form(
    session: AsyncSession, me: Me | None, authorization_id: int, *, now: datetime
) -> ProxyResult:
    """The committee received the signed written authorization of an approved proxy."""
    row = await proxies_repo.lock(session, authorization_id)
    if row is None:
        return await _finish(session, ProxyResult(refusal=FlowRefusal.NOT_FOUND))
    found = await _committee_election(session, me, row.election_id)
    if isinstance(found, ProxyResult):
        return await _finish(session, found)
    if row.status != ProxyStatus.APPROVED:
        return await _finish(session, ProxyResult(refusal=FlowRefusal.NOT_ACCEPTED, authorization=row))
    if row.form_received_at is None:
        row.form_received_at = now
        session.add(row)
        await append_audit(
            session, found.village_id, me, AuditAction.PROXY_FORM_RECEIVED, _audit_details(row), now=now
        )
    return await _finish(session, ProxyResult(authorization=row, election=found))


# ------------------------------------------------------------------------------ revocation


async def revoke_proxy(
    session: AsyncSession,
    me: Me,
    authorization_id: int,
    *,
    now: datetime,
    zone: ZoneInfo,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    """The principal takes the authorization back, up to the last day for requests; after it nothing
    changes (the list may be published already)."""
    return await _finish(
        session, await _revoke(session, me, authorization_id, now, zone, notify, default_locale)
    )


async def _revoke(
    session: AsyncSession,
    me: Me,
    authorization_id: int,
    now: datetime,
    zone: ZoneInfo,
    notify: ProxyNotifier,
    default_locale: str,
) -> ProxyResult:
    if me.person is None or me.person.id is None:
        return ProxyResult(refusal=FlowRefusal.NOT_BOUND)
    row = await proxies_repo.lock(session, authorization_id)
    if row is None or row.principal_person_id != me.person.id:
        return ProxyResult(refusal=FlowRefusal.NOT_FOUND)
    election = await elections_repo.get(session, row.election_id)
    assert election is not None
    principal, holder = await _load_people(session, row)
    deadline = deadline_of(election)
    base = ProxyResult(
        authorization=row, election=election, principal=principal, holder=holder, deadline=deadline
    )
    if row.status not in ACTIVE_PROXY_STATUSES:
        return replace(base, refusal=FlowRefusal.NO_LONGER_ACTIVE)
    if _local_today(now, zone) > deadline:
        return replace(base, refusal=FlowRefusal.AFTER_DEADLINE)
    row.status = ProxyStatus.REVOKED.value
    row.revoked_at = now
    session.add(row)
    await _note_to(
        session,
        row.holder_person_id,
        _note(NoteKind.REVOKED, row, election, principal, holder),
        notify,
        default_locale,
        village_id=election.village_id,
        created_by=me.account.id,
    )
    return base


# ----------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ProxyLine:
    authorization: ProxyAuthorization
    principal: str
    principal_group: str | None
    holder: str
    holder_group: str | None
    same_household: bool  # a hint for the committee's review: declared, or the same household


async def _lines(session: AsyncSession, rows: Sequence[ProxyAuthorization]) -> list[ProxyLine]:
    ids = {r.principal_person_id for r in rows} | {r.holder_person_id for r in rows}
    people = await elections_repo.people_by_ids(session, ids)
    out = []
    for r in rows:
        p, h = people[r.principal_person_id], people[r.holder_person_id]
        same = p.person.household is not None and p.person.household == h.person.household
        out.append(ProxyLine(r, p.person.name, p.group, h.person.name, h.group, same))
    return out


@dataclass(frozen=True)
class MyProxies:
    refusal: FlowRefusal | None = None
    election: Election | None = None
    given: tuple[ProxyLine, ...] = ()  # as principal, newest first
    held: tuple[ProxyLine, ...] = ()  # as holder
    deadline: date | None = None


async def my_proxies(session: AsyncSession, me: Me, election_id: int) -> MyProxies:
    if me.person is None or me.person.id is None or me.village is None or me.village.id is None:
        return MyProxies(refusal=FlowRefusal.NOT_BOUND)
    election = await _election_of_village(session, election_id, me.village.id)
    if election is None:
        await session.rollback()
        return MyProxies(refusal=FlowRefusal.UNKNOWN_ELECTION)
    lines = await _lines(session, await proxies_repo.involving(session, election_id, me.person.id))
    await session.commit()
    pid = me.person.id
    return MyProxies(
        election=election,
        given=tuple(line for line in lines if line.authorization.principal_person_id == pid),
        held=tuple(line for line in lines if line.authorization.holder_person_id == pid),
        deadline=deadline_of(election),
    )


@dataclass(frozen=True)
class PendingProxies:
    refusal: FlowRefusal | None = None
    election: Election | None = None
    lines: tuple[ProxyLine, ...] = ()  # requested, accepted and approved, in order of request


async def pending_proxies(session: AsyncSession, me: Me | None, election_id: int) -> PendingProxies:
    """What the committee has to look at: requests waiting for the holder or for its decision."""
    found = await _committee_election(session, me, election_id)
    if isinstance(found, ProxyResult):
        await session.rollback()
        return PendingProxies(refusal=found.refusal)
    rows = await proxies_repo.with_status(session, election_id, *[s.value for s in ACTIVE_PROXY_STATUSES])
    lines = await _lines(session, rows)
    await session.commit()
    return PendingProxies(election=found, lines=tuple(lines))


# ------------------------------------------------------------------------ the published list


@dataclass(frozen=True)
class ProxyListText:
    """The list's words in the committee member's language (the paper copy has one)."""

    title: str
    summary: Callable[[int, dict[str, int]], str]  # (authorizations, per group) -> message body
    labels: PublicityLabels
    relationship: Callable[[Relationship], str]


@dataclass(frozen=True)
class ProxyListOutcome:
    refusal: FlowRefusal | None = None
    notice_refusal: NoticeRefusal | None = None
    published: PublishOutcome | None = None
    plist: PublicityList | None = None
    pdf_path: Path | None = None
    xlsx_path: Path | None = None
    latest: date | None = None  # the legal last day to publish


async def publish_proxy_list(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    *,
    words: ProxyListText,
    render: Renderer,
    out_dir: Path,
    now: datetime,
    zone: ZoneInfo,
    default_locale: str,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> ProxyListOutcome:
    """Publish the approved authorizations, principals and holders per villagers' group, as a
    publicity list with fingerprint, by its legal date (SH 16: 2 days before election day); each
    authorization on it is marked published (ZJ 25: an unpublished one is void)."""
    found = await _committee_election(session, me, election_id)
    if isinstance(found, ProxyResult):
        await session.rollback()
        return ProxyListOutcome(refusal=found.refusal)
    election = found
    policy = policy_of(election)
    today = _local_today(now, zone)
    latest = proxy_list_latest(policy, election.election_day)
    if today > latest:
        await session.rollback()
        return ProxyListOutcome(refusal=FlowRefusal.LIST_TOO_LATE, latest=latest)
    lines = await _lines(session, await proxies_repo.approved(session, election_id))
    village = await session.get(Village, election.village_id)
    assert village is not None
    await session.commit()  # end the read: the documents take a while
    if not lines:
        return ProxyListOutcome(refusal=FlowRefusal.NOTHING_TO_PUBLISH, latest=latest)
    lines.sort(key=lambda line: (line.principal_group or "", line.authorization.id or 0))
    per_group: dict[str, int] = {}
    rows: list[tuple[str, ...]] = []
    for line in lines:
        group = line.principal_group or "—"
        per_group[group] = per_group.get(group, 0) + 1
        rows.append(
            (
                str(len(rows) + 1),
                group,
                line.principal,
                line.holder,
                words.relationship(Relationship(line.authorization.relationship)),
            )
        )
    plist = PublicityList(
        village=village.name,
        township=village.township,
        title=words.title,
        kind=PublicityKind.PROXIES,
        published_on=today,
        objection_deadline=None,
        columns=PROXY_COLUMNS,
        rows=rows,
    )
    digest = plist.fingerprint()
    stem = f"proxies-{election_id}-{today:%Y%m%d}-{digest[:8]}"
    pdf_path, xlsx_path = out_dir / f"{stem}.pdf", out_dir / f"{stem}.xlsx"
    try:
        await asyncio.to_thread(write_publicity_files, plist, words.labels, pdf_path, xlsx_path)
    except CjkFontMissing:
        return ProxyListOutcome(refusal=FlowRefusal.FONT_MISSING)
    for line in lines:
        # Re-read in this transaction: publish_notice commits these with the notice, or nothing.
        row = await proxies_repo.lock(session, line.authorization.id or 0)
        if row is not None and row.status == ProxyStatus.APPROVED:
            row.published_on = today
            row.published_fingerprint = digest
            session.add(row)
    # Rolled back with everything else if publish_notice refuses.
    await append_audit(
        session,
        election.village_id,
        me,
        AuditAction.LIST_PUBLISHED,
        {
            "list": PublicityKind.PROXIES.value,
            "election_id": election_id,
            "fingerprint": digest,
            "rows": len(lines),
        },
        now=now,
    )
    published = await publish_notice(
        session,
        me=me,
        draft=NoticeDraft(
            village_id=election.village_id,
            title=words.title,
            body=words.summary(len(lines), per_group),
            audience=Audience.ALL,
            attachment=Attachment(kind=AttachmentKind.DOCUMENT, name=pdf_path.name, path=str(pdf_path)),
            draft_key=f"proxies-{election_id}-{digest[:40]}",
        ),
        render=render,
        default_locale=default_locale,
        now=now,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
        publicity=PublicityFields(
            list_kind=PublicityKind.PROXIES.value,
            published_on=today,
            objection_deadline=None,
            fingerprint=digest,
        ),
    )
    if published.refusal is not None:
        return ProxyListOutcome(refusal=FlowRefusal.NOTICE, notice_refusal=published.refusal, latest=latest)
    return ProxyListOutcome(
        published=published, plist=plist, pdf_path=pdf_path, xlsx_path=xlsx_path, latest=latest
    )


# ------------------------------------------------------------------------ election day


@dataclass(frozen=True)
class RosterPrincipal:
    name: str
    group: str | None
    relationship: Relationship
    verification_code: str
    published: bool
    valid: bool  # ZJ 25: an unpublished authorization is void
    form_received: bool


@dataclass(frozen=True)
class RosterHolder:
    holder_person_id: int
    name: str
    group: str | None
    principals: tuple[RosterPrincipal, ...]


@dataclass(frozen=True)
class BallotRoster:
    refusal: FlowRefusal | None = None
    holders: tuple[RosterHolder, ...] = ()
    take_back_voter_cards: bool = False  # HN 33: the principals' voter cards are taken back
    certificate: bool = False  # SH 16, HN 30: a proxy certificate (委托投票证) is issued


def _roster(lines: Sequence[ProxyLine], policy: Policy) -> tuple[RosterHolder, ...]:
    by_holder: dict[int, list[ProxyLine]] = defaultdict(list)
    for line in lines:
        by_holder[line.authorization.holder_person_id].append(line)
    holders = []
    for holder_id, held in by_holder.items():
        principals = tuple(
            RosterPrincipal(
                name=line.principal,
                group=line.principal_group,
                relationship=Relationship(line.authorization.relationship),
                verification_code=line.authorization.verification_code,
                published=line.authorization.published_on is not None,
                valid=check_proxy_vote(
                    policy, published=line.authorization.published_on is not None
                ).accepted,
                form_received=line.authorization.form_received_at is not None,
            )
            for line in held
        )
        holders.append(RosterHolder(holder_id, held[0].holder, held[0].holder_group, principals))
    holders.sort(key=lambda h: (h.group or "", h.name))
    return tuple(holders)


async def ballot_roster(session: AsyncSession, me: Me | None, election_id: int) -> BallotRoster:
    """The committee's ballot-issuing roster: each holder with the principals whose ballots they
    collect, and whether the principals' voter cards are to be taken back (HN 33)."""
    found = await _committee_election(session, me, election_id)
    if isinstance(found, ProxyResult):
        await session.rollback()
        return BallotRoster(refusal=found.refusal)
    policy = policy_of(found)
    lines = await _lines(session, await proxies_repo.approved(session, election_id))
    await session.commit()
    return BallotRoster(
        holders=_roster(lines, policy),
        take_back_voter_cards=policy.proxy_voter_card_taken_back.value,
        certificate=policy.proxy_certificate.value,
    )


HolderPrincipals = tuple[tuple[str, Relationship], ...]


async def _holders_to_tell(
    session: AsyncSession, election: Election
) -> list[tuple[RosterHolder, HolderPrincipals, int]]:
    """Each holder with an authorization that counts: the (name, relationship) of the principals they
    vote for, and the id of one of those authorizations (the message's reference)."""
    assert election.id is not None
    lines = await _lines(session, await proxies_repo.approved(session, election.id))
    policy = policy_of(election)
    out = []
    for holder in _roster(lines, policy):
        valid = tuple((p.name, p.relationship) for p in holder.principals if p.valid)
        if not valid:
            continue
        first = next(line for line in lines if line.authorization.holder_person_id == holder.holder_person_id)
        out.append((holder, valid, first.authorization.id or 0))
    return out


async def holders_with_principals(session: AsyncSession, election_id: int) -> dict[int, HolderPrincipals]:
    """Holder person id -> whom they vote for on election day (the election-day reminder wave)."""
    election = await elections_repo.get(session, election_id)
    if election is None:
        return {}
    return {h.holder_person_id: valid for h, valid, _ in await _holders_to_tell(session, election)}


@dataclass(frozen=True)
class HolderListsOutcome:
    refusal: FlowRefusal | None = None
    sent: int = 0
    unbound: tuple[str, ...] = ()  # holders not on Telegram: the committee tells them


async def send_holder_lists(
    session: AsyncSession,
    me: Me | None,
    election_id: int,
    *,
    now: datetime,
    zone: ZoneInfo,
    notify: ProxyNotifier,
    default_locale: str,
) -> HolderListsOutcome:
    """On election day, each holder is told whom they vote for (only authorizations that count)."""
    found = await _committee_election(session, me, election_id)
    if isinstance(found, ProxyResult):
        await session.rollback()
        return HolderListsOutcome(refusal=found.refusal)
    if _local_today(now, zone) != found.election_day:
        await session.rollback()
        return HolderListsOutcome(refusal=FlowRefusal.NOT_ELECTION_DAY)
    sent, unbound = 0, []
    for holder, valid, first in await _holders_to_tell(session, found):
        note = ProxyNote(
            NoteKind.ELECTION_DAY,
            first,
            found.title,
            valid[0][0],
            holder.name,
            valid[0][1],
            principals=valid,
        )
        reached = await _note_to(
            session,
            holder.holder_person_id,
            note,
            notify,
            default_locale,
            village_id=found.village_id,
            created_by=me.account.id if me else None,
        )
        if reached:
            sent += 1
        else:
            unbound.append(holder.name)
    await session.commit()
    return HolderListsOutcome(sent=sent, unbound=tuple(unbound))

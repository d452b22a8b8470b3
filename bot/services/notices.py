"""Notices and publicity lists: compose, publish through the outbox, read receipts, objections.

Rendering is the caller's: a notice reaches each recipient in their own language, and the words
around it (headers, buttons) are gettext's business on the Telegram side. Services take a
`Renderer` and store what it produced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.locale_choice import resolve_locale
from bot.services.identity import Me, RoleName
from bot.services.outbox import (
    BroadcastKind,
    MessagePayload,
    OutgoingMessage,
    broadcast_report,
    enqueue_broadcast,
)
from storage.models import Notice, Objection, Village, VillagerGroup
from storage.repositories import notices as notices_repo
from storage.repositories.notices import AudienceMember

TITLE_LIMIT = 200
BODY_LIMIT = 20_000
OBJECTION_LIMIT = 2_000
# What Telegram accepts when the bot sends a file it already has (by file_id there is no limit,
# but a file first uploaded from disk is bound by these): photos 10 MB, other files 50 MB.
PHOTO_LIMIT_BYTES = 10 * 1024 * 1024
DOCUMENT_LIMIT_BYTES = 50 * 1024 * 1024


class Audience(StrEnum):
    ALL = "all"
    PARTY = "party"
    MIGRANTS = "migrants"
    GROUP = "group"


class AttachmentKind(StrEnum):
    DOCUMENT = "document"
    PHOTO = "photo"


@dataclass(frozen=True)
class Attachment:
    kind: AttachmentKind
    name: str | None = None
    file_id: str | None = None  # sent to the bot in chat: Telegram keeps it
    path: str | None = None  # from the shell: uploaded once by the sender
    size: int | None = None


@dataclass(frozen=True)
class NoticeDraft:
    village_id: int
    title: str
    body: str
    audience: Audience
    group_id: int | None = None
    ask_receipt: bool = False
    attachment: Attachment | None = None
    # Unique per composed draft, so a second press of "Send" cannot send twice.
    draft_key: str = ""


@dataclass(frozen=True)
class Recipient:
    account_id: int
    chat_id: int
    locale: str
    name: str


class NoticeRefusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    EMPTY_TITLE = "empty_title"
    TITLE_TOO_LONG = "title_too_long"
    EMPTY_BODY = "empty_body"
    BODY_TOO_LONG = "body_too_long"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    UNKNOWN_GROUP = "unknown_group"
    EMPTY_AUDIENCE = "empty_audience"
    ALREADY_SENT = "already_sent"


def check_title(title: str) -> NoticeRefusal | None:
    if not title.strip():
        return NoticeRefusal.EMPTY_TITLE
    if len(title) > TITLE_LIMIT:
        return NoticeRefusal.TITLE_TOO_LONG
    return None


def check_body(body: str) -> NoticeRefusal | None:
    if not body.strip():
        return NoticeRefusal.EMPTY_BODY
    if len(body) > BODY_LIMIT:
        return NoticeRefusal.BODY_TOO_LONG
    return None


def check_attachment(attachment: Attachment | None) -> NoticeRefusal | None:
    if attachment is not None and attachment.size is not None:
        limit = PHOTO_LIMIT_BYTES if attachment.kind is AttachmentKind.PHOTO else DOCUMENT_LIMIT_BYTES
        if attachment.size > limit:
            return NoticeRefusal.ATTACHMENT_TOO_LARGE
    return None


def check_draft(draft: NoticeDraft) -> NoticeRefusal | None:
    """What is wrong with a draft on its face (before looking at the audience)."""
    return check_title(draft.title) or check_body(draft.body) or check_attachment(draft.attachment)


@dataclass(frozen=True)
class AudienceSummary:
    """Who a notice would reach now, and who it cannot reach because they are not linked yet."""

    recipients: list[Recipient]
    unbound: list[AudienceMember]


def _recipients(members: Sequence[AudienceMember], default_locale: str) -> AudienceSummary:
    recipients, unbound = [], []
    for member in members:
        if member.account_id is None or member.chat_id is None:
            unbound.append(member)
        else:
            locale = resolve_locale(member.locale, member.telegram_language_code, default_locale)
            recipients.append(Recipient(member.account_id, member.chat_id, locale, member.name))
    return AudienceSummary(recipients, unbound)


async def summarize_audience(
    session: AsyncSession, village_id: int, audience: Audience, group_id: int | None, default_locale: str
) -> AudienceSummary:
    members = await notices_repo.audience_members(session, village_id, audience, group_id)
    await session.commit()  # end the read (storage/db.py)
    return _recipients(members, default_locale)


Renderer = Callable[[Notice, Recipient], Sequence[MessagePayload]]


@dataclass(frozen=True)
class PublishOutcome:
    refusal: NoticeRefusal | None = None
    notice: Notice | None = None
    recipients: int = 0
    unbound: int = 0


async def publish_notice(
    session: AsyncSession,
    *,
    me: Me | None,
    draft: NoticeDraft,
    render: Renderer,
    default_locale: str,
    now: datetime,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
    publicity: PublicityFields | None = None,
    before_commit: Callable[[Notice], Awaitable[object]] | None = None,
) -> PublishOutcome:
    """Store the notice and one delivery row per recipient copy, in one commit.

    `me` is None only for the shell (`cunmin notice send`), whose operator has the database itself.
    The sender posts and edits a progress message in `progress_chat_id`, in `progress_locale`.
    `before_commit` writes what belongs to the same commit (e.g. the copy for the committee's group).
    """
    try:
        outcome = await _publish(
            session,
            me,
            draft,
            render,
            default_locale,
            now,
            progress_chat_id,
            progress_locale,
            publicity,
            before_commit,
        )
    except IntegrityError:
        # Two presses of "Send" raced past the draft-key check: the unique key stopped the second.
        await session.rollback()
        return PublishOutcome(refusal=NoticeRefusal.ALREADY_SENT)
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


@dataclass(frozen=True)
class PublicityFields:
    list_kind: str
    published_on: date
    objection_deadline: datetime | None
    fingerprint: str


async def _publish(
    session: AsyncSession,
    me: Me | None,
    draft: NoticeDraft,
    render: Renderer,
    default_locale: str,
    now: datetime,
    progress_chat_id: int | None,
    progress_locale: str | None,
    publicity: PublicityFields | None,
    before_commit: Callable[[Notice], Awaitable[object]] | None = None,
) -> PublishOutcome:
    if me is not None and not me.has_role(draft.village_id, RoleName.COMMITTEE):
        return PublishOutcome(refusal=NoticeRefusal.NOT_ALLOWED)
    if (problem := check_draft(draft)) is not None:
        return PublishOutcome(refusal=problem)
    existing = await notices_repo.by_draft_key(session, draft.draft_key)
    if existing is not None:
        return PublishOutcome(refusal=NoticeRefusal.ALREADY_SENT, notice=existing)
    if draft.audience is Audience.GROUP and (
        draft.group_id is None
        or await notices_repo.group_in_village(session, draft.village_id, draft.group_id) is None
    ):
        return PublishOutcome(refusal=NoticeRefusal.UNKNOWN_GROUP)
    members = await notices_repo.audience_members(session, draft.village_id, draft.audience, draft.group_id)
    summary = _recipients(members, default_locale)
    if not summary.recipients:
        return PublishOutcome(refusal=NoticeRefusal.EMPTY_AUDIENCE, unbound=len(summary.unbound))

    attachment = draft.attachment
    notice = Notice(
        village_id=draft.village_id,
        kind="publicity" if publicity else "notice",
        title=draft.title.strip(),
        body=draft.body.strip(),
        attachment_file_id=attachment.file_id if attachment else None,
        attachment_path=attachment.path if attachment else None,
        attachment_kind=attachment.kind.value if attachment else None,
        attachment_name=attachment.name if attachment else None,
        audience=draft.audience.value,
        audience_group_id=draft.group_id if draft.audience is Audience.GROUP else None,
        ask_receipt=draft.ask_receipt,
        created_by_account_id=me.account.id if me else None,
        created_at=now,
        draft_key=draft.draft_key,
        list_kind=publicity.list_kind if publicity else None,
        published_on=publicity.published_on if publicity else None,
        objection_deadline=publicity.objection_deadline if publicity else None,
        fingerprint=publicity.fingerprint if publicity else None,
    )
    session.add(notice)
    await session.flush()
    messages = [
        OutgoingMessage(account_id=r.account_id, chat_id=r.chat_id, payload=payload, locale=r.locale)
        for r in summary.recipients
        for payload in render(notice, r)
    ]
    broadcast = await enqueue_broadcast(
        session,
        kind=BroadcastKind.PUBLICITY if publicity else BroadcastKind.NOTICE,
        title=notice.title,
        village_id=draft.village_id,
        created_by_account_id=notice.created_by_account_id,
        messages=messages,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
        commit=False,
    )
    notice.broadcast_id = broadcast.id
    session.add(notice)
    if before_commit is not None:
        await before_commit(notice)
    await session.commit()
    return PublishOutcome(notice=notice, recipients=len(summary.recipients), unbound=len(summary.unbound))


@dataclass(frozen=True)
class ReceiptOutcome:
    """`first` is False when the person had already pressed "I have read this"."""

    read_at: datetime | None
    first: bool


@dataclass(frozen=True)
class ReceiptPress:
    """One press of "I have read this": who, on which notice, when."""

    account_id: int
    notice_id: int
    now: datetime


async def record_receipt(
    session: AsyncSession, *, account_id: int, notice_id: int, now: datetime
) -> ReceiptOutcome:
    """Record "I have read this" once; a second press changes nothing (read_at stays the first)."""
    (outcome,) = await record_receipts(
        session, [ReceiptPress(account_id=account_id, notice_id=notice_id, now=now)]
    )
    return outcome


async def record_receipts(session: AsyncSession, presses: Sequence[ReceiptPress]) -> list[ReceiptOutcome]:
    """Record many presses in one transaction (one commit), as if recorded one after another.

    Each press sets read_at, to its own `now`, on the account's copies of the notice that are still
    unread; the outcome of each press is what `record_receipt` would have returned for it had the
    presses been recorded singly in this order: a repeated press in the same batch is not `first`.
    """
    broadcasts: dict[int, int | None] = {}
    for notice_id in dict.fromkeys(p.notice_id for p in presses):
        notice = await notices_repo.get(session, notice_id)
        broadcasts[notice_id] = notice.broadcast_id if notice is not None else None
    # broadcast -> account -> the time of the account's first press in this batch
    pressed: dict[int, dict[int, datetime]] = {}
    for press in presses:
        broadcast_id = broadcasts[press.notice_id]
        if broadcast_id is not None:
            pressed.setdefault(broadcast_id, {}).setdefault(press.account_id, press.now)
    first: set[tuple[int, int]] = set()
    read: dict[tuple[int, int], datetime | None] = {}
    for broadcast_id, first_presses in pressed.items():
        # Locked until the commit (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE),
        # so the copies found unread here are the ones the update below changes.
        copies = await notices_repo.copies_for_update(session, broadcast_id, list(first_presses))
        unread = {account_id for account_id, read_at in copies if read_at is None}
        await notices_repo.mark_read_many(session, broadcast_id, {a: first_presses[a] for a in unread})
        for account_id, read_at in copies:
            stamp = first_presses[account_id] if read_at is None else read_at
            key = (broadcast_id, account_id)
            earliest = read.get(key)
            read[key] = stamp if earliest is None or stamp < earliest else earliest
        first.update((broadcast_id, account_id) for account_id in unread)
    await session.commit()  # also ends the read when nothing was written (storage/db.py)

    outcomes = []
    for press in presses:
        broadcast_id = broadcasts[press.notice_id]
        if broadcast_id is None:
            outcomes.append(ReceiptOutcome(read_at=None, first=False))
            continue
        key = (broadcast_id, press.account_id)
        outcomes.append(ReceiptOutcome(read_at=read.get(key), first=key in first))
        first.discard(key)  # a second press of the same person in this batch is not the first
    return outcomes


async def list_groups(session: AsyncSession, village_id: int) -> list[VillagerGroup]:
    groups = await notices_repo.groups_of_village(session, village_id)
    await session.commit()  # end the read (storage/db.py)
    return groups


async def recent_notices(session: AsyncSession, me: Me, limit: int = 10) -> list[Notice]:
    assert me.account.id is not None
    notices = await notices_repo.recent_for_account(session, me.account.id, limit)
    await session.commit()  # end the read (storage/db.py)
    return notices


# --------------------------------------------------------------------------------- objections


class ObjectionRefusal(StrEnum):
    NOT_BOUND = "not_bound"
    NO_OPEN_LIST = "no_open_list"
    WINDOW_CLOSED = "window_closed"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    ALREADY_ANSWERED = "already_answered"


@dataclass(frozen=True)
class ObjectionOutcome:
    refusal: ObjectionRefusal | None = None
    objection: Objection | None = None
    notice: Notice | None = None
    village: Village | None = None


async def open_lists_for(session: AsyncSession, me: Me, now: datetime) -> list[Notice]:
    """Publicity lists of the person's village whose objection window is still open."""
    if me.village is None or me.village.id is None:
        return []
    lists = await notices_repo.open_publicity(session, me.village.id, now)
    await session.commit()  # end the read (storage/db.py)
    return lists


ObjectionRenderer = Callable[[Objection, Notice, str], MessagePayload]


async def raise_objection(
    session: AsyncSession,
    me: Me,
    *,
    notice_id: int,
    text: str,
    now: datetime,
    render: ObjectionRenderer,
    default_locale: str,
) -> ObjectionOutcome:
    """Record an objection and send it to the village's election and supervision committees."""
    outcome = await _raise(session, me, notice_id, text, now, render, default_locale)
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


async def _raise(
    session: AsyncSession,
    me: Me,
    notice_id: int,
    text: str,
    now: datetime,
    render: ObjectionRenderer,
    default_locale: str,
) -> ObjectionOutcome:
    if me.person is None or me.village is None or me.person.id is None or me.account.id is None:
        return ObjectionOutcome(refusal=ObjectionRefusal.NOT_BOUND)
    notice = await notices_repo.get(session, notice_id)
    if notice is None or notice.village_id != me.village.id or notice.kind != "publicity":
        return ObjectionOutcome(refusal=ObjectionRefusal.NO_OPEN_LIST)
    if notice.objection_deadline is None or notice.objection_deadline <= now:
        return ObjectionOutcome(refusal=ObjectionRefusal.WINDOW_CLOSED, notice=notice)
    if not text.strip():
        return ObjectionOutcome(refusal=ObjectionRefusal.EMPTY)
    if len(text) > OBJECTION_LIMIT:
        return ObjectionOutcome(refusal=ObjectionRefusal.TOO_LONG)
    objection = Objection(
        notice_id=notice_id,
        village_id=notice.village_id,
        person_id=me.person.id,
        account_id=me.account.id,
        text=text.strip(),
        created_at=now,
    )
    session.add(objection)
    await session.flush()
    readers = await notices_repo.committee_accounts(
        session, notice.village_id, (RoleName.COMMITTEE.value, RoleName.SUPERVISOR.value)
    )
    messages = []
    for account in readers:
        assert account.id is not None and account.chat_id is not None
        locale = resolve_locale(account.locale, account.telegram_language_code, default_locale)
        messages.append(
            OutgoingMessage(
                account_id=account.id,
                chat_id=account.chat_id,
                payload=render(objection, notice, locale),
                locale=locale,
                requires_binding=False,
            )
        )
    await enqueue_broadcast(
        session,
        kind=BroadcastKind.OTHER,
        title=f"objection {objection.id}",
        village_id=notice.village_id,
        created_by_account_id=me.account.id,
        messages=messages,
        commit=False,
    )
    await session.commit()
    return ObjectionOutcome(objection=objection, notice=notice, village=me.village)


AnswerRenderer = Callable[[Objection, Notice, str], MessagePayload]


async def answer_objection(
    session: AsyncSession,
    me: Me,
    *,
    objection_id: int,
    text: str,
    now: datetime,
    render: AnswerRenderer,
    default_locale: str,
) -> ObjectionOutcome:
    """The election committee answers; the villager gets the answer through the outbox."""
    outcome = await _answer(session, me, objection_id, text, now, render, default_locale)
    if outcome.refusal is not None:
        await session.rollback()
    return outcome


async def _answer(
    session: AsyncSession,
    me: Me,
    objection_id: int,
    text: str,
    now: datetime,
    render: AnswerRenderer,
    default_locale: str,
) -> ObjectionOutcome:
    objection = await notices_repo.get_objection(session, objection_id)
    if objection is None:
        return ObjectionOutcome(refusal=ObjectionRefusal.NOT_FOUND)
    if not me.has_role(objection.village_id, RoleName.COMMITTEE):
        return ObjectionOutcome(refusal=ObjectionRefusal.NOT_ALLOWED)
    if objection.answer is not None:
        return ObjectionOutcome(refusal=ObjectionRefusal.ALREADY_ANSWERED, objection=objection)
    if not text.strip():
        return ObjectionOutcome(refusal=ObjectionRefusal.EMPTY)
    if len(text) > OBJECTION_LIMIT:
        return ObjectionOutcome(refusal=ObjectionRefusal.TOO_LONG)
    notice = await notices_repo.get(session, objection.notice_id)
    assert notice is not None
    objection.answer = text.strip()
    objection.answered_at = now
    objection.answered_by_account_id = me.account.id
    session.add(objection)
    villager = await session.get(type(me.account), objection.account_id)
    if villager is not None and villager.chat_id is not None and villager.id is not None:
        locale = resolve_locale(villager.locale, villager.telegram_language_code, default_locale)
        await enqueue_broadcast(
            session,
            kind=BroadcastKind.OTHER,
            title=f"answer to objection {objection.id}",
            village_id=objection.village_id,
            created_by_account_id=me.account.id,
            messages=[
                OutgoingMessage(
                    account_id=villager.id,
                    chat_id=villager.chat_id,
                    payload=render(objection, notice, locale),
                    locale=locale,
                    # The answer to their own objection is owed even if they unbound meanwhile.
                    requires_binding=False,
                )
            ],
            commit=False,
        )
    await session.commit()
    return ObjectionOutcome(objection=objection, notice=notice)


async def count_objections(session: AsyncSession, village_id: int) -> tuple[int, int]:
    counts = await notices_repo.objection_counts(session, village_id)
    await session.commit()  # end the read (storage/db.py)
    return counts


# ------------------------------------------------------------------------------------ reports


@dataclass(frozen=True)
class PersonLine:
    name: str
    group: str | None
    reason: str | None = None  # Telegram's words for an unreachable recipient


@dataclass(frozen=True)
class NoticeReport:
    notice: Notice
    total: int
    delivered: int
    pending: int
    read: int
    ask_receipt: bool
    unreachable: list[PersonLine]
    unbound: list[PersonLine]
    unread: list[PersonLine]

    @property
    def finished(self) -> bool:
        return self.pending == 0


async def notice_report(
    session: AsyncSession, *, notice_id: int | None = None, broadcast_id: int | None = None
) -> NoticeReport | None:
    """Delivered, read, unread, unreachable (blocked the bot…) and not linked: who needs a call or a visit."""
    if notice_id is not None:
        notice = await notices_repo.get(session, notice_id)
    elif broadcast_id is not None:
        notice = await notices_repo.by_broadcast(session, broadcast_id)
    else:
        raise ValueError("give notice_id or broadcast_id")
    if notice is None or notice.broadcast_id is None:
        await session.commit()
        return None
    report = await broadcast_report(session, notice.broadcast_id)
    assert report is not None
    members = await notices_repo.audience_members(
        session, notice.village_id, notice.audience, notice.audience_group_id
    )
    readers = await notices_repo.readers(session, notice.broadcast_id)
    await session.commit()  # end the read (storage/db.py)
    groups = {m.person_id: m.group for m in members}
    undelivered_accounts = {u.account_id for u in report.undelivered}
    unreachable = [
        PersonLine(name=u.person_name or "?", group=groups.get(u.person_id or -1), reason=u.error)
        for u in report.undelivered
    ]
    unbound = [PersonLine(name=m.name, group=m.group) for m in members if m.account_id is None]
    unread = [
        PersonLine(name=m.name, group=m.group)
        for m in members
        if m.account_id is not None
        and m.account_id not in readers
        and m.account_id not in undelivered_accounts
    ]
    return NoticeReport(
        notice=notice,
        total=len({m.account_id for m in members if m.account_id is not None}),
        delivered=len({m.account_id for m in members if m.account_id is not None} - undelivered_accounts),
        pending=report.pending,
        read=len(readers),
        ask_receipt=notice.ask_receipt,
        unreachable=unreachable,
        unbound=unbound,
        unread=unread if notice.ask_receipt else [],
    )

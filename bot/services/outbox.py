"""The outbox: a message to many people becomes one delivery row per recipient, in one transaction.

The caller renders each recipient's copy in their own language; this module stores the copies and
later reports what became of them. Sending is `bot.delivery.sender.OutboxSender`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.locale_choice import resolve_locale
from storage.models import Account, Broadcast, DeliveryStatus
from storage.repositories import outbox as outbox_repo
from storage.types import utcnow


class BroadcastKind(StrEnum):
    NOTICE = "notice"
    PUBLICITY = "publicity"
    REMINDER = "reminder"
    RESULTS = "results"
    OTHER = "other"


class SendMethod(StrEnum):
    """The Bot API methods a delivery row can use."""

    SEND_MESSAGE = "sendMessage"
    SEND_DOCUMENT = "sendDocument"
    SEND_PHOTO = "sendPhoto"


@dataclass(frozen=True)
class MessagePayload:
    """What to send, as stored in `delivery.payload` (JSON): everything but the recipient.

    `text` is the message text, or the caption of a document or photo. A file is either a path on
    this machine (uploaded once; the sender reuses Telegram's file_id for the other recipients) or a
    Telegram file_id. `reply_markup` is Bot API JSON, e.g. ``markup.model_dump(exclude_none=True)``.
    """

    method: SendMethod = SendMethod.SEND_MESSAGE
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: Mapping[str, Any] | None = None
    file_path: str | None = None
    file_id: str | None = None
    disable_link_preview: bool = False

    def __post_init__(self) -> None:
        has_file = self.file_path is not None or self.file_id is not None
        if self.method is SendMethod.SEND_MESSAGE:
            if not self.text:
                raise ValueError("sendMessage needs a non-empty text")
            if has_file:
                raise ValueError("sendMessage takes no file; use sendDocument or sendPhoto")
        elif (self.file_path is None) == (self.file_id is None):
            raise ValueError(f"{self.method} needs exactly one of file_path and file_id")

    def to_json(self) -> str:
        data: dict[str, Any] = {"method": str(self.method)}
        for name in ("text", "parse_mode", "reply_markup", "file_path", "file_id"):
            value = getattr(self, name)
            if value is not None:
                data[name] = dict(value) if name == "reply_markup" else value
        if self.disable_link_preview:
            data["disable_link_preview"] = True
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> MessagePayload:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a delivery payload must be a JSON object")
        return cls(
            method=SendMethod(data["method"]),
            text=data.get("text"),
            parse_mode=data.get("parse_mode"),
            reply_markup=data.get("reply_markup"),
            file_path=data.get("file_path"),
            file_id=data.get("file_id"),
            disable_link_preview=bool(data.get("disable_link_preview", False)),
        )


@dataclass(frozen=True)
class OutgoingMessage:
    """One recipient's copy, already rendered in their locale."""

    account_id: int
    chat_id: int
    payload: MessagePayload
    locale: str | None = None
    # False for people on no roll (township observers): they are never "unbound".
    requires_binding: bool = True


def messages_to_accounts(
    accounts: Sequence[Account],
    default_locale: str,
    payloads: Callable[[str], Sequence[MessagePayload]],
) -> list[OutgoingMessage]:
    """Each account's copies in its own language (``payloads`` renders them for a locale), owed to the
    person whatever happens to their roll binding meanwhile (committee members, candidates)."""
    out: list[OutgoingMessage] = []
    for account in accounts:
        assert account.id is not None and account.chat_id is not None
        locale = resolve_locale(account.locale, account.telegram_language_code, default_locale)
        out += [
            OutgoingMessage(
                account_id=account.id,
                chat_id=account.chat_id,
                payload=payload,
                locale=locale,
                requires_binding=False,
            )
            for payload in payloads(locale)
        ]
    return out


async def enqueue_broadcast(
    session: AsyncSession,
    *,
    kind: BroadcastKind | str,
    title: str,
    village_id: int | None,
    created_by_account_id: int | None,
    messages: Sequence[OutgoingMessage],
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
    progress_locale: str | None = None,
    not_before: datetime | None = None,
    commit: bool = True,
) -> Broadcast:
    """Write the broadcast and every delivery row in one transaction; the sender picks them up.

    Wake the sender afterwards (`OutboxSender.wake()`) or it finds the rows on its next poll.
    `progress_chat_id` (and, if the caller already sent one, `progress_message_id`) name the
    message that shows the committee member the progress. `commit=False` leaves the transaction
    to a larger use case (e.g. a notice and its broadcast committed together).
    """
    now = utcnow()
    broadcast = await outbox_repo.add_broadcast(
        session,
        Broadcast(
            village_id=village_id,
            kind=str(kind),
            title=title,
            created_by_account_id=created_by_account_id,
            created_at=now,
            total=len(messages),
            progress_chat_id=progress_chat_id,
            progress_message_id=progress_message_id,
            progress_locale=progress_locale,
            finished_at=None if messages else now,
        ),
    )
    assert broadcast.id is not None
    due = not_before or now
    await outbox_repo.insert_deliveries(
        session,
        [
            {
                "broadcast_id": broadcast.id,
                "account_id": message.account_id,
                "chat_id": message.chat_id,
                "locale": message.locale,
                "payload": message.payload.to_json(),
                "requires_binding": message.requires_binding,
                "status": str(DeliveryStatus.PENDING),
                "attempts": 0,
                "next_attempt_at": due,
            }
            for message in messages
        ],
    )
    if commit:
        await session.commit()
    return broadcast


@dataclass(frozen=True)
class UndeliveredRecipient:
    """Someone the broadcast did not reach: whom to phone or visit, and why."""

    account_id: int
    chat_id: int
    status: DeliveryStatus
    error: str | None
    attempts: int
    # The person the account is bound to now (None once unbound).
    person_id: int | None
    person_name: str | None
    person_phone: str | None


@dataclass(frozen=True)
class BroadcastReport:
    broadcast_id: int
    kind: str
    title: str
    total: int
    sent: int
    failed: int
    unreachable: int
    skipped: int
    # Still to do: waiting, being retried later, or in the sender's hands right now.
    pending: int
    created_at: datetime
    finished_at: datetime | None
    undelivered: tuple[UndeliveredRecipient, ...] = field(default=())

    @property
    def finished(self) -> bool:
        return self.pending == 0


REPORTED_STATUSES = (DeliveryStatus.UNREACHABLE, DeliveryStatus.FAILED)


async def broadcast_report(session: AsyncSession, broadcast_id: int) -> BroadcastReport | None:
    """Counts by outcome and the unreachable or failed recipients (None for an unknown broadcast)."""
    broadcast = await outbox_repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        return None
    counts = (await outbox_repo.status_counts(session, [broadcast_id]))[broadcast_id]
    rows = await outbox_repo.undelivered(session, broadcast_id, REPORTED_STATUSES)
    return BroadcastReport(
        broadcast_id=broadcast_id,
        kind=broadcast.kind,
        title=broadcast.title,
        total=broadcast.total,
        sent=counts[DeliveryStatus.SENT],
        failed=counts[DeliveryStatus.FAILED],
        unreachable=counts[DeliveryStatus.UNREACHABLE],
        skipped=counts[DeliveryStatus.SKIPPED],
        pending=counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.CLAIMED],
        created_at=broadcast.created_at,
        finished_at=broadcast.finished_at,
        undelivered=tuple(
            UndeliveredRecipient(
                account_id=row.account_id,
                chat_id=row.chat_id,
                status=DeliveryStatus(row.status),
                error=row.error,
                attempts=row.attempts,
                person_id=row.person_id,
                person_name=row.person_name,
                person_phone=row.person_phone,
            )
            for row in rows
        ),
    )

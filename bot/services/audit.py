"""The audit trail: every committee action appended to its village's hash-chained log.

`append_audit` adds the row in the caller's transaction and never commits: the action and its log
row are committed together, or neither is. Appends to one village are serialised (a PostgreSQL
advisory lock per village; SQLite's single writer), so two actions at once cannot fork the chain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.audit_chain import GENESIS_HASH, AuditLink, BrokenLink, entry_hash, first_broken_link
from bot.rules.fingerprint import JsonValue, canonical_json
from bot.services.identity import Me, RoleName
from storage.models import AuditEntry, Village
from storage.repositories import audit as audit_repo
from storage.repositories import villages as villages_repo
from storage.types import utcnow

SHELL_ACTOR = "shell"
UNKNOWN_ACTOR = "unknown"
PAGE_SIZE = 10


class AuditAction(StrEnum):
    ROLL_IMPORTED = "roll_imported"
    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    ELECTION_CREATED = "election_created"
    ELECTION_OPENED = "election_opened"
    ELECTION_CHANGED = "election_changed"
    LIST_PUBLISHED = "list_published"
    PROXY_DECIDED = "proxy_decided"
    PROXY_CONSENT_RECORDED = "proxy_consent_recorded"
    PROXY_FORM_RECEIVED = "proxy_form_received"
    PAPER_TALLY_IMPORTED = "paper_tally_imported"
    TRUST_PAPER_IMPORTED = "trust_paper_imported"
    RESULTS_ENTERED = "results_entered"
    RESULTS_CONFIRMED = "results_confirmed"
    RESULTS_PUBLISHED = "results_published"
    COMMITTEE_GROUP_LINKED = "committee_group_linked"
    COMMITTEE_GROUP_UNLINKED = "committee_group_unlinked"
    COMMITTEE_GROUP_UPGRADED = "committee_group_upgraded"


class Unknown(Enum):
    """Someone outside the bot acted and Telegram did not say who (e.g. it upgraded a group)."""

    ACTOR = UNKNOWN_ACTOR


#: The actor of a change the bot only learnt about afterwards, with nobody to name.
UNKNOWN = Unknown.ACTOR

# Who acted: a member in chat, an account id (an import that records who entered it), nobody known
# (UNKNOWN), or the shell (None).
Actor = Me | int | Unknown | None


def _actor(actor: Actor) -> tuple[int | None, str]:
    if isinstance(actor, Me):
        return actor.account.id, actor.account.phone or f"account {actor.account.id}"
    if isinstance(actor, Unknown):
        return None, UNKNOWN_ACTOR
    if isinstance(actor, int):
        return actor, f"account {actor}"
    return None, SHELL_ACTOR


def _link(entry: AuditEntry) -> AuditLink:
    details: dict[str, JsonValue] = json.loads(entry.details)
    return AuditLink(
        village_id=entry.village_id,
        seq=entry.seq,
        at=entry.at,
        actor_account_id=entry.actor_account_id,
        actor=entry.actor,
        action=entry.action,
        details=details,
        prev_hash=entry.prev_hash,
    )


async def append_audit(
    session: AsyncSession,
    village_id: int,
    actor: Actor,
    action: AuditAction,
    details: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> AuditEntry:
    """Add one entry to the village's chain in the caller's transaction (no commit)."""
    await audit_repo.lock_village_chain(session, village_id)
    previous = await audit_repo.last(session, village_id)
    account_id, label = _actor(actor)
    # Stored as canonical JSON and read back the same way, so verification hashes what was written.
    canonical = canonical_json(dict(details))
    link = AuditLink(
        village_id=village_id,
        seq=previous.seq + 1 if previous else 1,
        at=(now or utcnow()).replace(microsecond=0),
        actor_account_id=account_id,
        actor=label,
        action=action.value,
        details=json.loads(canonical),
        prev_hash=previous.hash if previous else GENESIS_HASH,
    )
    entry = AuditEntry(
        village_id=village_id,
        seq=link.seq,
        at=link.at,
        actor_account_id=account_id,
        actor=label,
        action=link.action,
        details=canonical,
        prev_hash=link.prev_hash,
        hash=entry_hash(link),
    )
    session.add(entry)
    await session.flush()
    return entry


class AuditRefusal(StrEnum):
    UNKNOWN_VILLAGE = "unknown_village"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True)
class AuditVerification:
    refusal: AuditRefusal | None = None
    village: Village | None = None
    entries: int = 0
    broken: BrokenLink | None = None

    @property
    def intact(self) -> bool:
        return self.refusal is None and self.broken is None


async def verify_audit(session: AsyncSession, village_id: int) -> AuditVerification:
    """Recompute the village's chain; name the first entry that does not fit."""
    village = await villages_repo.get(session, village_id)
    if village is None:
        await session.commit()  # end the read (storage/db.py)
        return AuditVerification(refusal=AuditRefusal.UNKNOWN_VILLAGE)
    entries = await audit_repo.all_of(session, village_id)
    await session.commit()  # end the read (storage/db.py)
    broken = first_broken_link((_link(e), e.hash) for e in entries)
    return AuditVerification(village=village, entries=len(entries), broken=broken)


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor: str
    action: str
    details: str  # canonical JSON
    prev_hash: str
    hash: str


def _row(entry: AuditEntry) -> AuditRow:
    return AuditRow(
        entry.seq, entry.at, entry.actor, entry.action, entry.details, entry.prev_hash, entry.hash
    )


async def audit_rows(session: AsyncSession, village_id: int) -> tuple[Village, list[AuditRow]] | None:
    """The whole log, oldest first, for the township (None for an unknown village)."""
    village = await villages_repo.get(session, village_id)
    if village is None:
        await session.commit()
        return None
    entries = await audit_repo.all_of(session, village_id)
    await session.commit()  # end the read (storage/db.py)
    return village, [_row(e) for e in entries]


@dataclass(frozen=True)
class AuditPage:
    refusal: AuditRefusal | None = None
    village: Village | None = None
    rows: Sequence[AuditRow] = ()
    page: int = 0
    pages: int = 0
    total: int = 0


AUDIT_READERS = (RoleName.SUPERVISOR, RoleName.OBSERVER, RoleName.COMMITTEE)


async def audit_page(session: AsyncSession, me: Me, village_id: int, page: int) -> AuditPage:
    """One page of the log, newest first, for the supervision committee, observers and the committee."""
    if not me.has_role(village_id, *AUDIT_READERS):
        return AuditPage(refusal=AuditRefusal.NOT_ALLOWED)
    village = await villages_repo.get(session, village_id)
    if village is None:
        await session.commit()
        return AuditPage(refusal=AuditRefusal.UNKNOWN_VILLAGE)
    total = await audit_repo.count(session, village_id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    entries = await audit_repo.page(session, village_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    await session.commit()  # end the read (storage/db.py)
    return AuditPage(village=village, rows=[_row(e) for e in entries], page=page, pages=pages, total=total)

"""The audit trail's hash chain: each entry's hash covers its content and the previous entry's hash.

RULES.md ("Publicity and supervision"): the supervision committee and the township must be able to
check what the election committee did. A row changed, removed or inserted afterwards breaks the
chain at that row, and `first_broken_link` names it. The hash is the SHA-256 of the canonical JSON
(bot.rules.fingerprint) of the entry's fields below; that form must never change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.rules.fingerprint import JsonValue, fingerprint

__all__ = ["GENESIS_HASH", "AuditLink", "BrokenLink", "BrokenReason", "entry_hash", "first_broken_link"]

# What the first entry of a village points back to.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditLink:
    village_id: int
    seq: int
    at: datetime
    actor_account_id: int | None
    actor: str
    action: str
    details: Mapping[str, JsonValue]
    prev_hash: str


def entry_hash(link: AuditLink) -> str:
    return fingerprint(
        {
            "v": 1,
            "village_id": link.village_id,
            "seq": link.seq,
            "at": link.at,
            "actor_account_id": link.actor_account_id,
            "actor": link.actor,
            "action": link.action,
            "details": link.details,
            "prev_hash": link.prev_hash,
        }
    )


class BrokenReason(StrEnum):
    SEQ_GAP = "seq_gap"  # a row is missing (or one was inserted) before this one
    PREV_HASH_MISMATCH = "prev_hash_mismatch"  # it does not point at the row before it
    HASH_MISMATCH = "hash_mismatch"  # its content is not what was hashed when it was written


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: BrokenReason
    expected: str
    found: str


def first_broken_link(entries: Iterable[tuple[AuditLink, str]]) -> BrokenLink | None:
    """The first entry (in order of `seq`) that does not fit the chain; None if all fit.

    `entries` are (content, stored hash) in ascending `seq`.
    """
    expected_seq, expected_prev = 1, GENESIS_HASH
    for link, stored in entries:
        if link.seq != expected_seq:
            return BrokenLink(link.seq, BrokenReason.SEQ_GAP, str(expected_seq), str(link.seq))
        if link.prev_hash != expected_prev:
            return BrokenLink(link.seq, BrokenReason.PREV_HASH_MISMATCH, expected_prev, link.prev_hash)
        recomputed = entry_hash(link)
        if recomputed != stored:
            return BrokenLink(link.seq, BrokenReason.HASH_MISMATCH, recomputed, stored)
        expected_seq, expected_prev = link.seq + 1, stored
    return None

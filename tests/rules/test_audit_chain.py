"""The audit trail's hash chain: what breaks it and where."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.rules.audit_chain import GENESIS_HASH, AuditLink, BrokenReason, entry_hash, first_broken_link

AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def chain(n: int) -> list[tuple[AuditLink, str]]:
    links: list[tuple[AuditLink, str]] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        link = AuditLink(1, seq, AT, 7, "+8613800138000", "roll_imported", {"rows": seq}, prev)
        digest = entry_hash(link)
        links.append((link, digest))
        prev = digest
    return links


def test_a_clean_chain_has_no_broken_link() -> None:
    assert first_broken_link(chain(5)) is None
    assert first_broken_link([]) is None


def test_the_hash_covers_every_field() -> None:
    link, digest = chain(1)[0]
    for changed in (
        replace(link, village_id=2),
        replace(link, seq=2),
        replace(link, at=AT.replace(minute=1)),
        replace(link, actor_account_id=None),
        replace(link, actor="shell"),
        replace(link, action="role_granted"),
        replace(link, details={"rows": 2}),
        replace(link, prev_hash="1" * 64),
    ):
        assert entry_hash(changed) != digest


def test_a_changed_detail_breaks_at_that_row() -> None:
    links = chain(4)
    link, digest = links[2]
    links[2] = (replace(link, details={"rows": 99}), digest)
    broken = first_broken_link(links)
    assert broken is not None
    assert (broken.seq, broken.reason) == (3, BrokenReason.HASH_MISMATCH)


def test_a_rehashed_row_breaks_the_next_link() -> None:
    links = chain(4)
    link, _ = links[1]
    forged = replace(link, details={"rows": 99})
    links[1] = (forged, entry_hash(forged))
    broken = first_broken_link(links)
    assert broken is not None
    assert (broken.seq, broken.reason) == (3, BrokenReason.PREV_HASH_MISMATCH)


def test_a_removed_row_is_a_gap() -> None:
    links = chain(4)
    del links[1]
    broken = first_broken_link(links)
    assert broken is not None
    assert (broken.seq, broken.reason, broken.expected) == (3, BrokenReason.SEQ_GAP, "2")


def test_the_first_row_points_at_the_genesis_hash() -> None:
    links = chain(2)
    link, _ = links[0]
    other = replace(link, prev_hash="f" * 64)
    links[0] = (other, entry_hash(other))
    broken = first_broken_link(links)
    assert broken is not None
    assert (broken.seq, broken.reason) == (1, BrokenReason.PREV_HASH_MISMATCH)

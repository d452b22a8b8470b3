"""The voter roll: imported whole from the committee's file, read back for export.

An import is all-or-nothing: every row is checked first (against the file and against the
other villages' rolls, OL art. 13), and only a roll without problems is written, in one
transaction. People already on the roll are updated in place, so their Telegram bindings stay;
people missing from the new file are marked removed, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.roll import (
    CHINESE_HEADERS,
    RollField,
    RollProblem,
    RollRow,
    RowProblem,
    cross_row_problems,
    group_key,
    phone_as_written,
)
from bot.services.audit import Actor, AuditAction, append_audit
from storage.models import Person, Village, VillagerGroup
from storage.repositories import roll as roll_repo
from storage.repositories import villages as villages_repo
from storage.repositories.roll import PersonState, RollEntry

# Person columns an import sets, and the roll field each one shows as in a report.
_COLUMNS: Mapping[str, RollField] = {
    "name": RollField.NAME,
    "phone": RollField.PHONE,
    "group_id": RollField.GROUP,
    "household": RollField.HOUSEHOLD,
    "gender": RollField.GENDER,
    "birth_year": RollField.BIRTH_YEAR,
    "party_member": RollField.PARTY_MEMBER,
    "party_status": RollField.PARTY_STATUS,
    "migrant": RollField.MIGRANT,
    "works_in": RollField.WORKS_IN,
    "eligible_voter": RollField.ELIGIBLE_VOTER,
    "notes": RollField.NOTES,
}


class RollImportRefusal(StrEnum):
    VILLAGE_NOT_FOUND = "village_not_found"
    # An empty file would remove everybody: never what a committee means.
    EMPTY_ROLL = "empty_roll"
    ROW_PROBLEMS = "row_problems"
    # Another import or a binding changed the same people at the same moment; run it again.
    CONCURRENT_CHANGE = "concurrent_change"


@dataclass(frozen=True)
class PersonChange:
    row_number: int
    person_id: int
    name: str
    fields: tuple[RollField, ...]


@dataclass(frozen=True)
class RemovedPerson:
    person_id: int
    name: str


@dataclass(frozen=True)
class RollImportOutcome:
    refusal: RollImportRefusal | None = None
    village: Village | None = None
    problems: tuple[RowProblem, ...] = ()
    added: int = 0
    changed: tuple[PersonChange, ...] = ()
    # People who had been removed and are on the roll again (their fields may have changed too).
    returned: tuple[PersonChange, ...] = ()
    removed: tuple[RemovedPerson, ...] = ()
    unchanged: int = 0
    groups_added: tuple[str, ...] = ()


def village_label(village: Village) -> str:
    """How a village is named to a clerk: township then village, as on an address (城关镇东山村)."""
    return f"{village.township}{village.name}"


def _preferred(candidate: PersonState, current: PersonState | None) -> bool:
    """Of several people who had one phone or one name, the one on the roll now, else the latest."""
    if current is None:
        return True
    if (candidate.removed_at is None) != (current.removed_at is None):
        return candidate.removed_at is None
    if candidate.removed_at is not None and current.removed_at is not None:
        return candidate.removed_at > current.removed_at
    return candidate.id > current.id


def _match(rows: list[RollRow], people: list[PersonState]) -> dict[int, PersonState]:
    """Row number -> the person that row is: by phone first, then by name and household."""
    by_phone: dict[str, PersonState] = {}
    for person in people:
        if person.phone is not None and _preferred(person, by_phone.get(person.phone)):
            by_phone[person.phone] = person
    matched: dict[int, PersonState] = {}
    taken: set[int] = set()
    for row in rows:
        holder = by_phone.get(row.phone) if row.phone is not None else None
        if holder is not None and holder.id not in taken:
            matched[row.row_number] = holder
            taken.add(holder.id)

    # A new phone, a phone dropped, or no phone at all: the same name in the same household.
    waiting: dict[tuple[str, str | None], list[RollRow]] = {}
    for row in rows:
        if row.row_number not in matched:
            waiting.setdefault((row.name, row.household), []).append(row)
    candidates: dict[tuple[str, str | None], PersonState] = {}
    for person in people:
        key = (person.name, person.household)
        if person.id not in taken and key in waiting and _preferred(person, candidates.get(key)):
            candidates[key] = person
    for key, person in candidates.items():
        if len(waiting[key]) == 1:  # two unmatched rows of one name and household: both are new
            matched[waiting[key][0].row_number] = person
    return matched


def _values(row: RollRow, group_id: int | None) -> dict[str, Any]:
    return {
        "name": row.name,
        "phone": row.phone,
        "group_id": group_id,
        "household": row.household,
        "gender": row.gender.value if row.gender is not None else None,
        "birth_year": row.birth_year,
        "party_member": row.party_member,
        "party_status": row.party_status.value if row.party_status is not None else None,
        "migrant": row.migrant,
        "works_in": row.works_in,
        "eligible_voter": row.eligible_voter,
        "notes": row.notes,
    }


async def _resolve_groups(
    session: AsyncSession, village_id: int, rows: list[RollRow]
) -> tuple[dict[str, int], list[str]]:
    """Group spelling -> id, creating the groups the roll names for the first time.

    A group written another way than before ("1组" for "一组") is renamed: the file is the
    committee's current word.
    """
    existing = await roll_repo.groups_of_village(session, village_id)
    by_name = {group.name: group for group in existing}
    by_key: dict[str, VillagerGroup] = {}
    for group in existing:
        by_key.setdefault(group_key(group.name), group)
    spellings = list(dict.fromkeys(row.group for row in rows if row.group is not None))
    added: list[str] = []
    resolved: dict[str, VillagerGroup] = {}
    for spelling in spellings:
        known = by_name.get(spelling) or by_key.get(group_key(spelling))
        if known is None:
            known = VillagerGroup(village_id=village_id, name=spelling)
            by_key[group_key(spelling)] = known
            added.append(spelling)
        elif known.name != spelling:
            known.name = spelling
        session.add(known)
        resolved[spelling] = known
    await session.flush()
    ids = {spelling: group.id for spelling, group in resolved.items() if group.id is not None}
    return ids, added


async def import_roll(
    session: AsyncSession,
    village_id: int,
    rows: Iterable[RollRow],
    *,
    now: datetime,
    headers: Mapping[RollField, str] | None = None,
    actor: Actor = None,
) -> RollImportOutcome:
    """Make the village's roll what `rows` say, in one commit, or write nothing at all.

    `rows` come from bot.files.roll.read_roll (whose own problems must be settled first);
    `headers` are the file's column headers, so that problems name the columns as written.
    """
    rows = list(rows)
    headers = headers or CHINESE_HEADERS
    village = await villages_repo.get(session, village_id)
    if village is None or not rows:
        await session.commit()  # ends the read transaction (storage/db.py)
        if village is None:
            return RollImportOutcome(refusal=RollImportRefusal.VILLAGE_NOT_FOUND)
        return RollImportOutcome(refusal=RollImportRefusal.EMPTY_ROLL, village=village)
    problems = cross_row_problems(rows, headers)
    phones = {row.phone for row in rows if row.phone is not None}
    elsewhere = await roll_repo.active_phones_elsewhere(session, village_id, phones)
    problems.extend(
        RowProblem(
            row.row_number,
            headers.get(RollField.PHONE) or CHINESE_HEADERS[RollField.PHONE],
            RollProblem.PHONE_ON_ANOTHER_VILLAGE,
            phone_as_written(row.phone),
            village=village_label(village),
            other_village=village_label(elsewhere[row.phone]),
        )
        for row in rows
        if row.phone in elsewhere
    )
    if problems:
        await session.commit()  # ends the read transaction (storage/db.py); nothing was written
        problems.sort(key=lambda problem: problem.row_number)
        return RollImportOutcome(
            refusal=RollImportRefusal.ROW_PROBLEMS, village=village, problems=tuple(problems)
        )

    people = await roll_repo.roll_states(session, village_id)
    matched = _match(rows, people)
    group_ids, groups_added = await _resolve_groups(session, village_id, rows)

    matched_ids = {person.id for person in matched.values()}
    gone = [person for person in people if person.removed_at is None and person.id not in matched_ids]
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    phones_to_clear: list[dict[str, Any]] = []
    changed: list[PersonChange] = []
    returned: list[PersonChange] = []
    unchanged = 0
    for row in rows:
        values = _values(row, group_ids.get(row.group) if row.group is not None else None)
        person = matched.get(row.row_number)
        if person is None:
            inserts.append(
                {**values, "village_id": village_id, "removed_at": None, "created_at": now, "updated_at": now}
            )
            continue
        fields = tuple(
            _COLUMNS[column] for column, value in values.items() if getattr(person, column) != value
        )
        if not fields and person.removed_at is None:
            unchanged += 1
            continue
        change = PersonChange(row.row_number, person.id, row.name, fields)
        (returned if person.removed_at is not None else changed).append(change)
        updates.append({**values, "id": person.id, "removed_at": None, "updated_at": now})
        if person.phone is not None and person.phone != row.phone:
            phones_to_clear.append({"id": person.id, "phone": None})

    try:
        # Order matters for the one-active-phone index: free phones before they are given again
        # (people removed, phones changed or swapped between two people), then write.
        if gone:
            removals = [{"id": person.id, "removed_at": now, "updated_at": now} for person in gone]
            await session.exec(update(Person), params=removals)
        if phones_to_clear:
            await session.exec(update(Person), params=phones_to_clear)
        if updates:
            await session.exec(update(Person), params=updates)
        if inserts:
            await session.exec(insert(Person), params=inserts)
        await append_audit(
            session,
            village_id,
            actor,
            AuditAction.ROLL_IMPORTED,
            {
                "rows": len(rows),
                "added": len(inserts),
                "changed": len(changed),
                "returned": len(returned),
                "removed": len(gone),
            },
            now=now,
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        await session.refresh(village)  # the rollback expired it; the caller renders its name
        await session.commit()
        return RollImportOutcome(refusal=RollImportRefusal.CONCURRENT_CHANGE, village=village)
    return RollImportOutcome(
        village=village,
        added=len(inserts),
        changed=tuple(changed),
        returned=tuple(returned),
        removed=tuple(RemovedPerson(person.id, person.name) for person in gone),
        unchanged=unchanged,
        groups_added=tuple(groups_added),
    )


async def list_roll(session: AsyncSession, village_id: int, *, unbound_only: bool = False) -> list[RollEntry]:
    """The people now on the roll, with their group and whether they have bound an account."""
    entries = await roll_repo.list_roll(session, village_id, unbound_only=unbound_only)
    await session.commit()  # ends the read transaction (storage/db.py)
    return entries

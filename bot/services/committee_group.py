"""The election committee's Telegram group (DESIGN.md: the committee works in "private chat + committee
group"): a committee member adds the bot to the group and sends /committeegroup there; results are then
posted to that group too. One group per village; linking another group moves it, in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audit import AuditAction, append_audit
from bot.services.identity import Me, RoleName
from storage.models import Village
from storage.repositories import villages as villages_repo


class GroupRefusal(StrEnum):
    NOT_COMMITTEE = "not_committee"  # not on the election committee of that village
    UNKNOWN_VILLAGE = "unknown_village"


@dataclass(frozen=True)
class GroupLinked:
    refusal: GroupRefusal | None = None
    village: Village | None = None
    moved_from: int | None = None  # the group it was linked to before (None: the first one)
    unchanged: bool = False  # this very group was linked already: nothing written


async def link_committee_group(
    session: AsyncSession, me: Me, *, village_id: int, chat_id: int, chat_title: str | None, now: datetime
) -> GroupLinked:
    """Make ``chat_id`` the committee group of the village (the sender must be on its committee)."""
    if not me.has_role(village_id, RoleName.COMMITTEE):
        await session.commit()  # nothing written: end the read
        return GroupLinked(refusal=GroupRefusal.NOT_COMMITTEE)
    village = await villages_repo.lock(session, village_id)
    if village is None:
        await session.commit()
        return GroupLinked(refusal=GroupRefusal.UNKNOWN_VILLAGE)
    previous = village.committee_group_chat_id
    if previous == chat_id:
        await session.commit()
        return GroupLinked(village=village, unchanged=True)
    village.committee_group_chat_id = chat_id
    session.add(village)
    await append_audit(
        session,
        village_id,
        me,
        AuditAction.COMMITTEE_GROUP_LINKED,
        {"chat_id": chat_id, "title": chat_title, "previous_chat_id": previous},
        now=now,
    )
    await session.commit()
    return GroupLinked(village=village, moved_from=previous)


@dataclass(frozen=True)
class GroupStatus:
    village: Village
    linked: bool


async def committee_group_status(session: AsyncSession, me: Me) -> list[GroupStatus]:
    """For each village where ``me`` is on the committee: is a group linked?"""
    found = []
    for known in me.villages_with(RoleName.COMMITTEE):
        village = await villages_repo.get(session, known.id or 0)
        if village is not None:
            found.append(GroupStatus(village, village.committee_group_chat_id is not None))
    await session.commit()  # end the read (storage/db.py)
    return found

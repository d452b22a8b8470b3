"""The election committee's Telegram group (DESIGN.md: the committee works in "private chat + committee
group"): a committee member adds the bot to the group and sends /committeegroup there; results are then
posted to that group too. One group per village; linking another group moves it, in the audit trail.

The group can also change under the bot's feet: a member removes the bot (the link is cleared and the
committee told), or Telegram upgrades the group to a supergroup with a new chat id (the link follows).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audit import Actor, AuditAction, append_audit
from bot.services.identity import Me, RoleName
from bot.services.outbox import BroadcastKind, MessagePayload, enqueue_broadcast, messages_to_accounts
from storage.models import Village
from storage.repositories import notices as notices_repo
from storage.repositories import villages as villages_repo

# The committee members' message that the bot was removed from their group: (village, locale) -> copies.
RemovalRenderer = Callable[[Village, str], Sequence[MessagePayload]]


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


# --- the group changes on Telegram's side ---------------------------------------------------------


@dataclass(frozen=True)
class GroupUnlinked:
    villages: tuple[Village, ...] = ()  # whose link was cleared (none: not a committee group)
    told: int = 0  # committee members messaged in private


async def unlink_committee_group(
    session: AsyncSession,
    actor: Actor,
    *,
    chat_id: int,
    status: str,
    render: RemovalRenderer,
    default_locale: str,
    now: datetime,
) -> GroupUnlinked:
    """The bot is no longer in group ``chat_id`` (``status``: Telegram's "left" or "kicked").

    Results can no longer be posted there: every village linked to it forgets the link, in the audit
    trail, and its committee members on Telegram are told in private, through the outbox.
    ``actor`` is who removed the bot, as far as Telegram says.
    """
    villages = await villages_repo.lock_with_committee_group(session, chat_id)
    told = 0
    for village in villages:
        assert village.id is not None
        village.committee_group_chat_id = None
        session.add(village)
        await append_audit(
            session,
            village.id,
            actor,
            AuditAction.COMMITTEE_GROUP_UNLINKED,
            {"chat_id": chat_id, "status": status},
            now=now,
        )
        members = await notices_repo.committee_accounts(session, village.id, (RoleName.COMMITTEE.value,))
        # A committee role is held by phone, not by a roll binding: owed whatever the binding.
        messages = messages_to_accounts(members, default_locale, functools.partial(render, village))
        if messages:
            await enqueue_broadcast(
                session,
                kind=BroadcastKind.OTHER,
                title=f"committee group {chat_id} removed",
                village_id=village.id,
                created_by_account_id=actor.account.id if isinstance(actor, Me) else None,
                messages=messages,
                commit=False,
            )
        told += len(members)
    await session.commit()
    return GroupUnlinked(villages=tuple(villages), told=told)


@dataclass(frozen=True)
class GroupUpgraded:
    villages: tuple[Village, ...] = ()  # whose link now names the supergroup (none: nothing to move)


async def follow_group_upgrade(
    session: AsyncSession, actor: Actor, *, from_chat_id: int, to_chat_id: int, now: datetime
) -> GroupUpgraded:
    """Telegram upgraded group ``from_chat_id`` to supergroup ``to_chat_id`` (a new chat id): the
    villages linked to the old id are linked to the new one, in the audit trail.

    Idempotent: the bot learns of an upgrade up to three times (a service message in each chat, and a
    send refused with ``migrate_to_chat_id``); only the first finds the old id still linked.
    """
    villages = await villages_repo.lock_with_committee_group(session, from_chat_id)
    for village in villages:
        assert village.id is not None
        village.committee_group_chat_id = to_chat_id
        session.add(village)
        await append_audit(
            session,
            village.id,
            actor,
            AuditAction.COMMITTEE_GROUP_UPGRADED,
            {"chat_id": to_chat_id, "previous_chat_id": from_chat_id},
            now=now,
        )
    await session.commit()
    return GroupUpgraded(villages=tuple(villages))

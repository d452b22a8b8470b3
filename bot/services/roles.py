"""Roles in a village: who is on the election committee, the supervision committee, or observes.

A role belongs to a phone number, not to a person on the roll: a township observer is on no
village's roll. Whoever proves that phone in chat (by sharing their own contact) holds the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.phones import normalize_phone
from bot.services.audit import Actor, AuditAction, append_audit
from bot.services.identity import RoleName
from storage.models import Role, Village
from storage.repositories import roles as roles_repo
from storage.repositories import villages as villages_repo
from storage.types import utcnow


class RoleRefusal(StrEnum):
    VILLAGE_NOT_FOUND = "village_not_found"
    BAD_PHONE = "bad_phone"
    UNKNOWN_ROLE = "unknown_role"
    ALREADY_GRANTED = "already_granted"
    NOT_GRANTED = "not_granted"


@dataclass(frozen=True)
class RoleOutcome:
    refusal: RoleRefusal | None = None
    village: Village | None = None
    # E.164, once the phone could be read.
    phone: str | None = None
    role: RoleName | None = None


def _parse_role(role: RoleName | str) -> RoleName | None:
    try:
        return RoleName(role.strip().lower() if isinstance(role, str) else role)
    except ValueError:
        return None


async def _checked(
    session: AsyncSession, village_id: int, phone: str, role: RoleName | str
) -> RoleOutcome | tuple[Village, str, RoleName]:
    village = await villages_repo.get(session, village_id)
    if village is None:
        return RoleOutcome(refusal=RoleRefusal.VILLAGE_NOT_FOUND)
    normalized = normalize_phone(phone)
    if normalized is None:
        return RoleOutcome(refusal=RoleRefusal.BAD_PHONE, village=village)
    name = _parse_role(role)
    if name is None:
        return RoleOutcome(refusal=RoleRefusal.UNKNOWN_ROLE, village=village, phone=normalized)
    return village, normalized, name


async def grant_role(
    session: AsyncSession,
    village_id: int,
    phone: str,
    role: RoleName | str,
    *,
    now: datetime | None = None,
    actor: Actor = None,
) -> RoleOutcome:
    """Give the phone a role in the village. Granting it again changes nothing (ALREADY_GRANTED)."""
    checked = await _checked(session, village_id, phone, role)
    if isinstance(checked, RoleOutcome):
        await session.commit()  # ends the read transaction (storage/db.py)
        return checked
    village, normalized, name = checked
    already = RoleOutcome(refusal=RoleRefusal.ALREADY_GRANTED, village=village, phone=normalized, role=name)
    if await roles_repo.get(session, village_id, normalized, name.value) is not None:
        await session.commit()  # ends the read transaction (storage/db.py)
        return already
    session.add(Role(village_id=village_id, phone=normalized, role=name.value, granted_at=now or utcnow()))
    await append_audit(
        session,
        village_id,
        actor,
        AuditAction.ROLE_GRANTED,
        {"phone": normalized, "role": name.value},
        now=now,
    )
    try:
        await session.commit()
    except IntegrityError:  # granted by someone else at the same moment: the same end state
        await session.rollback()
        await session.refresh(village)  # the rollback expired it; the caller renders its name
        await session.commit()
        return already
    return RoleOutcome(village=village, phone=normalized, role=name)


async def revoke_role(
    session: AsyncSession, village_id: int, phone: str, role: RoleName | str, *, actor: Actor = None
) -> RoleOutcome:
    """Take the role away from the phone. Revoking one it does not hold is NOT_GRANTED."""
    checked = await _checked(session, village_id, phone, role)
    if isinstance(checked, RoleOutcome):
        await session.commit()  # ends the read transaction (storage/db.py)
        return checked
    village, normalized, name = checked
    held = await roles_repo.get(session, village_id, normalized, name.value)
    if held is None:
        await session.commit()  # ends the read transaction (storage/db.py)
        return RoleOutcome(refusal=RoleRefusal.NOT_GRANTED, village=village, phone=normalized, role=name)
    await session.delete(held)
    await append_audit(
        session, village_id, actor, AuditAction.ROLE_REVOKED, {"phone": normalized, "role": name.value}
    )
    await session.commit()
    return RoleOutcome(village=village, phone=normalized, role=name)


async def list_roles(session: AsyncSession, village_id: int) -> list[Role]:
    roles = await roles_repo.of_village(session, village_id)
    await session.commit()  # ends the read transaction (storage/db.py)
    return roles

"""Binding a Telegram account to a person on a roll, and who an account is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.phones import normalize_contact_phone
from storage.models import Account, Binding, Person, Role, Village
from storage.repositories import identity as identity_repo


class RoleName(StrEnum):
    COMMITTEE = "committee"
    SUPERVISOR = "supervisor"
    OBSERVER = "observer"


@dataclass(frozen=True)
class Me:
    """The sender of an update as the application sees it."""

    account: Account
    person: Person | None = None
    village: Village | None = None
    # village id -> the roles this account's verified phone holds there
    roles: dict[int, frozenset[RoleName]] = field(default_factory=dict)
    role_villages: dict[int, Village] = field(default_factory=dict)

    def has_role(self, village_id: int, *roles: RoleName) -> bool:
        return bool(self.roles.get(village_id, frozenset()) & set(roles))

    def role_list(self) -> list[tuple[Village, RoleName]]:
        return [
            (self.role_villages[village_id], role)
            for village_id, held in self.roles.items()
            for role in sorted(held)
        ]

    def villages_with(self, *roles: RoleName) -> list[Village]:
        return [self.role_villages[v] for v, held in self.roles.items() if held & set(roles)]


async def identify(session: AsyncSession, account: Account) -> Me:
    """Load the binding and the roles of an account (two reads, no writes)."""
    assert account.id is not None
    bound = await identity_repo.bound_person(session, account.id)
    roles = await identity_repo.roles_of_phone(session, account.phone) if account.phone else []
    return me_of(account, bound[1] if bound else None, bound[2] if bound else None, roles)


def me_of(
    account: Account, person: Person | None, village: Village | None, roles: Sequence[tuple[Role, Village]]
) -> Me:
    """`Me` from what was loaded: the bound person and their village, the phone's roles in order."""
    held: dict[int, set[RoleName]] = {}
    role_villages: dict[int, Village] = {}
    for role, role_village in roles:
        assert role_village.id is not None
        held.setdefault(role_village.id, set()).add(RoleName(role.role))
        role_villages[role_village.id] = role_village
    return Me(
        account=account,
        person=person,
        village=village,
        roles={village_id: frozenset(names) for village_id, names in held.items()},
        role_villages=role_villages,
    )


class BindRefusal(StrEnum):
    FORWARDED = "forwarded"
    NOT_OWN_CONTACT = "not_own_contact"
    NO_PHONE = "no_phone"
    UNKNOWN_PHONE = "unknown_phone"
    PHONE_BOUND_TO_OTHER_ACCOUNT = "phone_bound_to_other_account"
    ACCOUNT_BOUND_TO_OTHER_PERSON = "account_bound_to_other_person"


@dataclass(frozen=True)
class BindOutcome:
    refusal: BindRefusal | None = None
    person: Person | None = None
    village: Village | None = None
    already_bound: bool = False
    # The roles the proven phone holds (committee, supervisor, observer), on a roll or not.
    roles: tuple[tuple[Village, RoleName], ...] = ()


async def bind_by_contact(
    session: AsyncSession,
    account: Account,
    *,
    contact_phone: str | None,
    contact_user_id: int | None,
    sender_user_id: int,
    forwarded: bool,
    now: datetime,
) -> BindOutcome:
    """Bind the sender to the roll by the phone number of their own Telegram contact.

    Only the sender's own, unforwarded contact proves a phone: anyone can send or forward
    someone else's contact card (see ../shared/telegram/LIMITS.md §9).
    """
    if forwarded:
        return BindOutcome(refusal=BindRefusal.FORWARDED)
    if contact_user_id != sender_user_id:
        return BindOutcome(refusal=BindRefusal.NOT_OWN_CONTACT)
    phone = normalize_contact_phone(contact_phone)
    if phone is None:
        return BindOutcome(refusal=BindRefusal.NO_PHONE)
    assert account.id is not None

    if account.phone != phone:
        account.phone = phone  # proven just now; roles are matched on it
        account.updated_at = now
        session.add(account)
    roles = tuple(
        (village, RoleName(role.role)) for role, village in await identity_repo.roles_of_phone(session, phone)
    )
    found = await identity_repo.active_person_by_phone(session, phone)
    outcome: BindOutcome
    if found is None:
        outcome = BindOutcome(refusal=None if roles else BindRefusal.UNKNOWN_PHONE, roles=roles)
    else:
        person, village = found
        assert person.id is not None
        of_person = await identity_repo.binding_of_person(session, person.id)
        of_account = await identity_repo.binding_of_account(session, account.id)
        if of_person is not None and of_person.account_id == account.id:
            outcome = BindOutcome(person=person, village=village, already_bound=True, roles=roles)
        elif of_person is not None:
            outcome = BindOutcome(refusal=BindRefusal.PHONE_BOUND_TO_OTHER_ACCOUNT, village=village)
        elif of_account is not None:
            outcome = BindOutcome(refusal=BindRefusal.ACCOUNT_BOUND_TO_OTHER_PERSON, village=village)
        else:
            session.add(Binding(account_id=account.id, person_id=person.id, method="contact", bound_at=now))
            outcome = BindOutcome(person=person, village=village, roles=roles)
    await session.commit()
    return outcome


class ForgetRefusal(StrEnum):
    NOT_BOUND = "not_bound"


@dataclass(frozen=True)
class ForgetOutcome:
    refusal: ForgetRefusal | None = None


async def forget_binding(session: AsyncSession, account: Account, *, now: datetime) -> ForgetOutcome:
    """Unbind: the person stays on the roll, the account forgets its phone (and so its roles)."""
    assert account.id is not None
    binding = await identity_repo.binding_of_account(session, account.id)
    if binding is None and account.phone is None:
        await session.commit()  # ends the read transaction (storage/db.py)
        return ForgetOutcome(refusal=ForgetRefusal.NOT_BOUND)
    if binding is not None:
        await session.delete(binding)
    account.phone = None
    account.updated_at = now
    session.add(account)
    await session.commit()
    return ForgetOutcome()

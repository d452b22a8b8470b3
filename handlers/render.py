"""Outcome and record renderers shared by several features (translated, HTML-free text)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.phones import mask_phone
from bot.services.identity import RoleName
from storage.models import Person, Village


def role_name(role: RoleName) -> str:
    match role:
        case RoleName.COMMITTEE:
            return _("election committee member")
        case RoleName.SUPERVISOR:
            return _("supervision committee member")
        case RoleName.OBSERVER:
            return _("township observer")


def role_lines(roles: list[tuple[Village, RoleName]] | tuple[tuple[Village, RoleName], ...]) -> list[str]:
    return [
        _("• {role} of {village}").format(role=role_name(role), village=village.name)
        for village, role in roles
    ]


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def describe_person(person: Person, village: Village, *, show_phone: bool) -> str:
    """A person's record. Phones are shown whole only to the person and their village's committee."""
    lines = [
        _("Name: {name}").format(name=person.name),
        _("Village: {village}").format(village=village.name),
    ]
    if person.phone:
        phone = person.phone if show_phone else mask_phone(person.phone)
        lines.append(_("Phone: {phone}").format(phone=phone))
    if person.birth_year:
        lines.append(_("Born: {year}").format(year=person.birth_year))
    lines.append(_("Registered voter: {answer}").format(answer=yes_no(person.eligible_voter)))
    lines.append(_("Party member: {answer}").format(answer=yes_no(person.party_member)))
    lines.append(_("Works away from the village: {answer}").format(answer=yes_no(person.migrant)))
    if person.migrant and person.works_in:
        lines.append(_("Works in: {place}").format(place=person.works_in))
    return "\n".join(lines)

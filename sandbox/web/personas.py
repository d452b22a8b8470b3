"""The sandbox's personas: people on the demo roll, each with a simulated Telegram account.

A persona is who the web page is "holding the phone" of. The featured ones are created at start;
anyone else on the roll gets an account the first time they are picked. A persona can go offline:
their phone is off, so Telegram still accepts the bot's messages (the bot cannot tell), but the
person does not see them, and does not press "I have read this", until they are back online.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.phones import mask_phone
from sandbox.demo import DemoPerson, DemoVillage, PersonaKind
from sandbox.emulator import Emulator
from sandbox.world import ChatEvent, SimUser

__all__ = ["FEATURED_ORDER", "LANGUAGE_CODES", "Persona", "PersonaDirectory"]

# The order of the personas on the page: the committee member first, since they start things.
FEATURED_ORDER: tuple[PersonaKind, ...] = (
    PersonaKind.COMMITTEE,
    PersonaKind.VILLAGER,
    PersonaKind.MIGRANT,
    PersonaKind.PROXY_HOLDER,
    PersonaKind.SUPERVISOR,
)
# The Telegram app languages a persona can have (what Telegram sends as `language_code`).
LANGUAGE_CODES: tuple[str, ...] = ("zh-hans", "zh-hant", "en")


@dataclass(eq=False)
class Persona:
    user: SimUser
    person: DemoPerson | None
    kind: PersonaKind | None
    # The phone number of the Telegram account, E.164: what "share my phone number" sends.
    telegram_phone: str
    relative_of: DemoPerson | None = None
    offline: bool = False
    # While offline: the last message of the chat the person had seen.
    seen_up_to: int = 0

    @property
    def user_id(self) -> int:
        return self.user.id

    def sees(self, event: ChatEvent) -> bool:
        """Whether the person's phone shows this message (one that arrived while offline does not)."""
        return not self.offline or event.message_id <= self.seen_up_to

    def to_json(self, *, bound: bool) -> dict[str, Any]:
        person = self.person
        return {
            "user_id": self.user.id,
            "kind": self.kind.value if self.kind is not None else None,
            "name": self.user.full_name,
            "phone": mask_phone(self.telegram_phone),
            "person_id": person.person_id if person else None,
            "group": person.group if person else None,
            "household": person.household if person else None,
            "party_member": bool(person and person.party_member),
            "migrant": bool(person and person.migrant),
            "works_in": person.works_in if person else None,
            "on_roll_phone": bool(person and person.phone),
            "relative_of": self.relative_of.name if self.relative_of else None,
            "language_code": self.user.language_code,
            "started": self.user.started,
            "blocked": self.user.blocked,
            "offline": self.offline,
            "bound": bound,
        }


class PersonaDirectory:
    """Every persona of the sandbox, by Telegram user id and by person on the roll."""

    def __init__(self, emulator: Emulator, village: DemoVillage) -> None:
        self.emulator = emulator
        self.village = village
        self.by_user: dict[int, Persona] = {}
        self.by_person: dict[int, Persona] = {}
        self.featured: list[Persona] = []
        # Bumped on every change a page should redraw (blocked, offline, language, new persona).
        self.version = 0
        self._roll_phones = {p.phone for p in village.people if p.phone}

    def create(
        self, person: DemoPerson, kind: PersonaKind | None = None, language_code: str = "zh-hans"
    ) -> Persona:
        if person.person_id is not None and person.person_id in self.by_person:
            raise ValueError(f"{person.name} already has a Telegram account here")
        # Chinese users mostly write their whole name in Telegram's first-name field.
        user = self.emulator.create_user(person.name, language_code=language_code)
        persona = Persona(
            user=user,
            person=person,
            kind=kind,
            telegram_phone=person.phone or self._phone_off_the_roll(user.id),
            relative_of=self.village.proxy_principal if kind is PersonaKind.PROXY_HOLDER else None,
        )
        self.by_user[user.id] = persona
        if person.person_id is not None:
            self.by_person[person.person_id] = persona
        if kind is not None:
            self.featured.append(persona)
            self.featured.sort(key=lambda p: FEATURED_ORDER.index(p.kind) if p.kind else len(FEATURED_ORDER))
        self.changed()
        return persona

    def _phone_off_the_roll(self, seed: int) -> str:
        """Someone with no phone on the roll still has one on Telegram: a number the roll does not know."""
        n = seed % 10_000_000
        while True:
            phone = f"+86170{n:08d}"
            if phone not in self._roll_phones:
                return phone
            n += 1

    def for_person(self, person_id: int) -> Persona:
        """The persona of someone on the roll, giving them a Telegram account the first time."""
        found = self.by_person.get(person_id)
        if found is not None:
            return found
        return self.create(self.village.person(person_id))

    def get(self, user_id: int) -> Persona:
        persona = self.by_user.get(user_id)
        if persona is None:
            raise KeyError(f"no persona with Telegram id {user_id}")
        return persona

    def go_offline(self, persona: Persona) -> None:
        if persona.offline:
            return
        log = self.emulator.state.log(persona.user.id)
        persona.seen_up_to = log.next_message_id - 1
        persona.offline = True
        self.changed()

    def go_online(self, persona: Persona) -> None:
        if not persona.offline:
            return
        persona.offline = False
        self.changed()

    def set_language(self, persona: Persona, language_code: str) -> None:
        if language_code not in LANGUAGE_CODES:
            raise ValueError(f"language_code must be one of {', '.join(LANGUAGE_CODES)}")
        persona.user.language_code = language_code
        self.changed()

    def changed(self) -> None:
        self.version += 1
        self.emulator.notifier.notify()

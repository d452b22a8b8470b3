"""/election: the committee sets up an election from the legal preset; /elections lists and opens them.

Steps: village (if several) → kind → title → election day → first and last day of recommendations →
seats → the preset's numbers with their sources → create (a draft) → open for recommendations.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.cli_text import province_name
from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.rules.policy import ElectionKind, Policy, Position
from bot.rules.schedule import Schedule, Window
from bot.scheduling import ReminderScheduler
from bot.services.elections import (
    ElectionDescription,
    ElectionOutcome,
    ElectionRefusal,
    PolicyLine,
    SeatLine,
    check_new_election,
    committee_election,
    create_election,
    default_seats,
    describe_draft,
    describe_election,
    list_elections,
    open_election,
    province_of_village,
)
from bot.services.identity import Me, RoleName
from handlers.access import HasRole, not_allowed_text
from handlers.callbacks import VillageCallback
from handlers.election_callbacks import (
    ElectionAction,
    ElectionCallback,
    KindCallback,
    WizardCallback,
    WizardStep,
)
from storage.models import Election, ElectionStatus, Village

# The numbers the wizard shows for each kind (the shell's `cunmin election show` shows them all).
SUMMARY_FIELDS = (
    "recommendation_quota_per_seat",
    "self_nomination_allowed",
    "candidate_list_lead_days",
    "voter_list_lead_days",
    "objection_window_days",
)
PARTY_FIELDS = ("party_round_weight", "public_round_weight", "preliminary_ratio", "full_party_members_only")
TWO_BALLOT_FIELDS = ("trust_threshold", "trust_denominator")
_DAY_WITH_YEAR = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DAY_WITHOUT_YEAR = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class ElectionForm(StatesGroup):
    village = State()
    kind = State()
    title = State()
    day = State()
    first = State()
    last = State()
    seats = State()
    confirm = State()


def tr(msgid: str, /, **values: object) -> str:
    """The translator bot.election_text takes, for the current chat's language."""
    text = _(msgid)
    return text.format(**values) if values else text


def parse_day(text: str, today: date) -> date | None:
    """2026-12-20, 2026/12/20, 2026年12月20日, or 12月20日 (the next such day)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    try:
        if (match := _DAY_WITH_YEAR.match(cleaned)) is not None:
            return date(int(match[1]), int(match[2]), int(match[3]))
        if (match := _DAY_WITHOUT_YEAR.match(cleaned)) is not None:
            day = date(today.year, int(match[1]), int(match[2]))
            return day if day >= today else date(today.year + 1, day.month, day.day)
    except ValueError:
        return None
    return None


def day_text(day: date) -> str:
    return words.local_day(day, tr)


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def source_line(line: PolicyLine) -> str:
    return _("• {label}: {value} — {source}").format(
        label=words.field_label(line.field, tr),
        value=words.value_text(line.value, tr),
        source=words.source_text(line.source, tr),
    )


def seat_text(line: SeatLine) -> str:
    return _("• {position}: seats {seats}, {candidates} — {source}").format(
        position=words.position_name(line.position, tr),
        seats=line.seats,
        candidates=words.margin_text(line.margin.value, line.seats, tr),
        source=words.source_text(line.margin.source, tr),
    )


def shown_fields(kind: ElectionKind) -> tuple[str, ...]:
    fields: tuple[str, ...] = SUMMARY_FIELDS
    if kind.is_party:
        fields += PARTY_FIELDS
    if kind is ElectionKind.PARTY_TWO_BALLOTS:
        fields += TWO_BALLOT_FIELDS
    return fields


def policy_lines(kind: ElectionKind, lines: tuple[PolicyLine, ...]) -> list[str]:
    wanted = shown_fields(kind)
    shown = sorted(
        (line for line in lines if line.field in wanted), key=lambda line: wanted.index(line.field)
    )
    return [source_line(line) for line in shown]


# ------------------------------------------------------------------------------------ wizard


async def start_wizard(message: Message, state: FSMContext, me: Me) -> None:
    villages = me.villages_with(RoleName.COMMITTEE)
    await state.clear()
    if len(villages) == 1:
        await _ask_kind(message, state, villages[0])
        return
    await state.set_state(ElectionForm.village)
    rows = [[(v.name, VillageCallback(purpose="election", village_id=v.id or 0).pack())] for v in villages]
    await message.answer(_("Which village is this election for?"), reply_markup=_keyboard(rows))


async def choose_village(
    query: CallbackQuery, callback_data: VillageCallback, state: FSMContext, me: Me
) -> None:
    await query.answer()
    village = me.role_villages.get(callback_data.village_id)
    if not isinstance(query.message, Message):
        return
    if village is None or not me.has_role(callback_data.village_id, RoleName.COMMITTEE):
        await state.clear()
        await query.message.answer(not_allowed_text())
        return
    await _ask_kind(query.message, state, village)


async def _ask_kind(message: Message, state: FSMContext, village: Village) -> None:
    await state.update_data(village_id=village.id, village_name=village.name)
    await state.set_state(ElectionForm.kind)
    rows = [[(words.kind_name(kind, tr), KindCallback(kind=kind).pack())] for kind in ElectionKind]
    await message.answer(
        _(
            "New election for {village} ({province} rules apply). Which kind of election is it? "
            "Send /cancel at any time to stop."
        ).format(village=village.name, province=province_name(province_of_village(village), tr)),
        reply_markup=_keyboard(rows),
    )


async def got_kind(query: CallbackQuery, callback_data: KindCallback, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(kind=callback_data.kind.value)
    await state.set_state(ElectionForm.title)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("{kind}. Send the title of the election, for example: 青山村第十二届村民委员会选举").format(
                kind=words.kind_name(callback_data.kind, tr)
            )
        )


async def got_title(message: Message, state: FSMContext) -> None:
    title = (message.text or "").strip()
    if not title or len(title) > 200:
        await message.answer(_("Please send a title of 1 to 200 characters."))
        return
    await state.update_data(title=title)
    await _ask_day(message, state)


async def _ask_day(message: Message, state: FSMContext) -> None:
    await state.set_state(ElectionForm.day)
    await message.answer(_("On which day is the election? Send the date, for example 2026-12-20."))


async def got_day(message: Message, state: FSMContext, settings: Settings) -> None:
    day = parse_day(message.text or "", datetime.now(settings.zone).date())
    if day is None:
        await message.answer(_("That is not a date I understand. Please write it like 2026-12-20."))
        return
    await state.update_data(day=day.isoformat())
    await state.set_state(ElectionForm.first)
    await message.answer(
        _("Election day: {day}. On which day do recommendations start? For example {example}.").format(
            day=day_text(day), example=datetime.now(settings.zone).date().isoformat()
        )
    )


async def got_first(message: Message, state: FSMContext, settings: Settings) -> None:
    first = parse_day(message.text or "", datetime.now(settings.zone).date())
    if first is None:
        await message.answer(_("That is not a date I understand. Please write it like 2026-12-20."))
        return
    await state.update_data(first=first.isoformat())
    await state.set_state(ElectionForm.last)
    await message.answer(_("And the last day of recommendations (included)?"))


async def got_last(message: Message, state: FSMContext, me: Me, settings: Settings) -> None:
    last = parse_day(message.text or "", datetime.now(settings.zone).date())
    if last is None:
        await message.answer(_("That is not a date I understand. Please write it like 2026-12-20."))
        return
    await state.update_data(last=last.isoformat())
    await _ask_seats(message, state, me)


def _policy(data: dict[str, Any], village: Village) -> Policy:
    return describe_draft(village, ElectionKind(data["kind"]), {})[0]


def _village_of(data: dict[str, Any], me: Me) -> Village | None:
    return me.role_villages.get(int(data["village_id"]))


async def _ask_seats(message: Message, state: FSMContext, me: Me) -> None:
    data = await state.get_data()
    village = _village_of(data, me)
    if village is None:
        await state.clear()
        await message.answer(not_allowed_text())
        return
    policy = _policy(data, village)
    usual = default_seats(policy)
    await state.set_state(ElectionForm.seats)
    ranges = _(", ").join(
        _("{position} {low} to {high}").format(
            position=words.position_name(spec.position, tr),
            low=spec.seats.value.min,
            high=spec.seats.value.max,
        )
        for spec in policy.positions
    )
    example = " ".join(str(usual[spec.position]) for spec in policy.positions)
    await message.answer(
        _(
            "How many seats has each position? Allowed: {ranges}; {low} to {high} in all ({source}). "
            "Send the numbers in this order, separated by spaces, for example: {example}"
        ).format(
            ranges=ranges,
            low=policy.committee_size.value.min,
            high=policy.committee_size.value.max,
            source=words.source_text(policy.committee_size.source, tr),
            example=example,
        ),
        reply_markup=_keyboard(
            [
                [
                    (
                        _("Usual: {seats}").format(seats=example),
                        WizardCallback(step=WizardStep.USUAL_SEATS).pack(),
                    )
                ]
            ]
        ),
    )


async def got_seats(message: Message, state: FSMContext, me: Me, settings: Settings) -> None:
    data = await state.get_data()
    village = _village_of(data, me)
    if village is None:
        await state.clear()
        await message.answer(not_allowed_text())
        return
    policy = _policy(data, village)
    numbers = re.findall(r"\d+", unicodedata.normalize("NFKC", message.text or ""))
    if len(numbers) != len(policy.positions):
        await message.answer(
            _("Please send {count} numbers, one for each position, separated by spaces.").format(
                count=len(policy.positions)
            )
        )
        return
    seats = {spec.position.value: int(n) for spec, n in zip(policy.positions, numbers, strict=True)}
    await state.update_data(seats=seats)
    await _summary(message, state, me, settings)


async def usual_seats(query: CallbackQuery, state: FSMContext, me: Me, settings: Settings) -> None:
    await query.answer()
    data = await state.get_data()
    village = _village_of(data, me)
    if village is None or not isinstance(query.message, Message):
        return
    seats = {p.value: n for p, n in default_seats(_policy(data, village)).items()}
    await state.update_data(seats=seats)
    await _summary(query.message, state, me, settings)


def planned_schedule(data: dict[str, Any], zone: ZoneInfo, now: datetime) -> Schedule:
    """The window runs from the first day (or now, if that is today) to the end of the last day;
    the candidate list is planned for the day after, when the committee publishes it."""
    first, last = date.fromisoformat(data["first"]), date.fromisoformat(data["last"])
    opens = datetime.combine(first, time(0), tzinfo=zone)
    if first == now.astimezone(zone).date():
        opens = now.astimezone(zone)
    closes = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return Schedule(
        election_day=date.fromisoformat(data["day"]),
        candidate_list_published=last + timedelta(days=1),
        recommendation=Window(opens, closes),
    )


def _seats_of(data: dict[str, Any]) -> dict[Position, int]:
    return {Position(k): int(v) for k, v in dict(data.get("seats", {})).items()}


async def _summary(message: Message, state: FSMContext, me: Me, settings: Settings) -> None:
    data = await state.get_data()
    village = _village_of(data, me)
    if village is None:
        await state.clear()
        await message.answer(not_allowed_text())
        return
    kind, now = ElectionKind(data["kind"]), datetime.now(UTC)
    seats = _seats_of(data)
    checked = check_new_election(
        village,
        kind,
        str(data["title"]),
        planned_schedule(data, settings.zone, now),
        seats,
        {},
        now=now,
        zone=settings.zone,
    )
    if checked.refusal is not None:
        await message.answer("\n".join(words.election_refusal_lines(checked, tr)))
        if checked.refusal is ElectionRefusal.SEATS_BREAK_LAW:
            await _ask_seats(message, state, me)
        else:
            await _ask_day(message, state)
        return
    policy, seat_lines, lines = describe_draft(village, kind, seats)
    text = [
        _("Please check the new election:"),
        "",
        str(data["title"]),
        _("Kind: {kind}").format(kind=words.kind_name(kind, tr)),
        _("Village: {village} ({province} rules)").format(
            village=village.name, province=province_name(policy.province, tr)
        ),
        _("Election day: {day}").format(day=day_text(date.fromisoformat(data["day"]))),
        _("Recommendations: from {first} to {last} (included)").format(
            first=day_text(date.fromisoformat(data["first"])), last=day_text(date.fromisoformat(data["last"]))
        ),
        "",
        _("Seats and candidates (the numbers come from the law):"),
        *(seat_text(line) for line in seat_lines),
        "",
        _("Rules that apply, with their source:"),
        *policy_lines(kind, lines),
    ]
    await state.set_state(ElectionForm.confirm)
    rows = [
        [
            (_("Create"), WizardCallback(step=WizardStep.CREATE).pack()),
            (_("Cancel"), WizardCallback(step=WizardStep.CANCEL).pack()),
        ]
    ]
    await message.answer("\n".join(text), reply_markup=_keyboard(rows))


async def create_pressed(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, me: Me, settings: Settings
) -> None:
    data = await state.get_data()
    if "seats" not in data:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    now = datetime.now(UTC)
    outcome = await create_election(
        session,
        me,
        village_id=int(data["village_id"]),
        kind=ElectionKind(data["kind"]),
        title=str(data["title"]),
        schedule=planned_schedule(data, settings.zone, now),
        seats=_seats_of(data),
        overrides={},
        now=now,
        zone=settings.zone,
    )
    await query.answer()
    await state.clear()
    if not isinstance(query.message, Message):
        return
    if outcome.refusal is not None or outcome.election is None:
        await query.message.answer("\n".join(words.election_refusal_lines(outcome, tr)))
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(
        _("Created “{title}”. It is being prepared: villagers can recommend only after you open it.").format(
            title=outcome.election.title
        ),
        reply_markup=_open_keyboard(outcome.election),
    )


def _open_keyboard(election: Election) -> InlineKeyboardMarkup:
    data = ElectionCallback(action=ElectionAction.OPEN, election_id=election.id or 0).pack()
    return _keyboard([[(_("Open for recommendations"), data)]])


async def cancel_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Cancelled. No election was created."))


# ------------------------------------------------------------------------------ list and open


def election_line(election: Election, zone: ZoneInfo) -> str:
    line = _("{title} — {kind} — {status}; election day {day}").format(
        title=election.title,
        kind=words.kind_name(ElectionKind(election.kind), tr),
        status=words.status_name(election.status, tr),
        day=day_text(election.election_day),
    )
    if election.recommendation_opens and election.recommendation_closes:
        last = (election.recommendation_closes - timedelta(microseconds=1)).astimezone(zone).date()
        line += "\n" + _("Recommendations: from {first} to {last} (included)").format(
            first=day_text(election.recommendation_opens.astimezone(zone).date()), last=day_text(last)
        )
    return line


async def list_all(message: Message, session: AsyncSession, me: Me, settings: Settings) -> None:
    for found in await list_elections(session, me):
        if not found.elections:
            await message.answer(
                _("{village} has no election yet. Send /election to set one up.").format(
                    village=found.village.name
                )
            )
            continue
        for election in found.elections:
            assert election.id is not None
            rows = [
                [
                    (
                        _("Rules and sources"),
                        ElectionCallback(action=ElectionAction.SHOW, election_id=election.id).pack(),
                    )
                ]
            ]
            if election.status == ElectionStatus.DRAFT:
                rows.append(
                    [
                        (
                            _("Open for recommendations"),
                            ElectionCallback(action=ElectionAction.OPEN, election_id=election.id).pack(),
                        )
                    ]
                )
            await message.answer(
                f"{found.village.name}: " + election_line(election, settings.zone),
                reply_markup=_keyboard(rows),
            )


async def open_pressed(
    query: CallbackQuery,
    callback_data: ElectionCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    reminders: ReminderScheduler,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    outcome: ElectionOutcome = await open_election(
        session, me, callback_data.election_id, now=datetime.now(UTC)
    )
    if outcome.refusal is ElectionRefusal.NOT_ALLOWED:
        await query.answer(not_allowed_text(), show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if outcome.refusal is not None or outcome.election is None:
        await query.message.answer("\n".join(words.election_refusal_lines(outcome, tr)))
        return
    await reminders.rebuild(election_ids=[callback_data.election_id])  # its reminders, planned now
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(
        _("“{title}” is open. Villagers recommend with /recommend; follow the counts with /tally.").format(
            title=outcome.election.title
        )
        + "\n"
        + election_line(outcome.election, settings.zone)
    )
    if outcome.policy is not None and outcome.policy.proxy_allowed.value:
        # Migrant workers are asked at once how they will take part (come home, a proxy, help, not).
        from handlers.proxy_committee import ask_and_report  # here: proxy_render imports this module

        await ask_and_report(query.message, session, me, callback_data.election_id, settings, i18n, outbox)


def describe_text(described: ElectionDescription, zone: ZoneInfo) -> str:
    lines = [
        election_line(described.election, zone),
        _("Village: {village} ({province} rules)").format(
            village=described.village.name, province=province_name(described.province, tr)
        ),
        "",
        _("Seats and candidates (the numbers come from the law):"),
        *(seat_text(line) for line in described.seats),
        "",
        _("Rules that apply, with their source:"),
        *policy_lines(described.kind, described.lines),
    ]
    return "\n".join(lines)


async def show_pressed(
    query: CallbackQuery, callback_data: ElectionCallback, session: AsyncSession, me: Me, settings: Settings
) -> None:
    election = await committee_election(session, me, callback_data.election_id)
    if election is None or election.id is None:
        await query.answer(not_allowed_text(), show_alert=True)
        return
    described = await describe_election(session, election.id, zone=settings.zone)
    await query.answer()
    if described is not None and isinstance(query.message, Message):
        await query.message.answer(describe_text(described, settings.zone))


async def refuse(message: Message) -> None:
    await message.answer(not_allowed_text())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    committee = HasRole(RoleName.COMMITTEE)
    router.message.register(start_wizard, Command("election"), committee)
    router.message.register(list_all, Command("elections"), committee)
    router.message.register(refuse, Command("election", "elections"))
    router.callback_query.register(
        choose_village, VillageCallback.filter(F.purpose == "election"), StateFilter(ElectionForm.village)
    )
    router.callback_query.register(got_kind, KindCallback.filter(), StateFilter(ElectionForm.kind))
    router.message.register(got_title, StateFilter(ElectionForm.title), F.text)
    router.message.register(got_day, StateFilter(ElectionForm.day), F.text)
    router.message.register(got_first, StateFilter(ElectionForm.first), F.text)
    router.message.register(got_last, StateFilter(ElectionForm.last), F.text)
    router.message.register(got_seats, StateFilter(ElectionForm.seats), F.text)
    router.callback_query.register(
        usual_seats, WizardCallback.filter(F.step == WizardStep.USUAL_SEATS), StateFilter(ElectionForm.seats)
    )
    router.callback_query.register(
        create_pressed,
        WizardCallback.filter(F.step == WizardStep.CREATE),
        StateFilter(ElectionForm.confirm),
        committee,
    )
    router.callback_query.register(cancel_pressed, WizardCallback.filter(F.step == WizardStep.CANCEL))
    router.callback_query.register(open_pressed, ElectionCallback.filter(F.action == ElectionAction.OPEN))
    router.callback_query.register(show_pressed, ElectionCallback.filter(F.action == ElectionAction.SHOW))
    return router

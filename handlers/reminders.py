"""/reminders: the committee sees the next reminder waves, cancels one or adds "send this at <time>";
a villager turns non-essential reminders off or on again."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.scheduling import ReminderScheduler
from bot.services.identity import Me, RoleName
from bot.services.reminders import (
    CancelRefusal,
    ScheduleRefusal,
    WaveLine,
    cancel_wave,
    check_custom_text,
    committee_zone,
    reminder_mute_state,
    schedule_custom_notice,
    set_reminders_muted,
    upcoming_waves,
)
from handlers.access import not_allowed_text
from handlers.notice_render import local_datetime


class ReminderAction(StrEnum):
    CANCEL = "cancel"
    ADD = "add"
    MUTE = "mute"
    UNMUTE = "unmute"


class ReminderCallback(CallbackData, prefix="rem"):
    action: ReminderAction
    wave_id: int = 0
    village_id: int = 0


class ReminderForm(StatesGroup):
    text = State()
    when = State()


def kind_label(kind: str) -> str:
    match kind:
        case "recommendation_opens":
            return _("Recommending starts")
        case "recommendation_close_48h":
            return _("2 days before recommending closes (to those who have not recommended)")
        case "recommendation_close_24h":
            return _("1 day before recommending closes (to those who have not recommended)")
        case "trust_vote_opens":
            return _("Trust vote starts")
        case "trust_vote_close_48h":
            return _("2 days before the trust vote closes (to those who have not voted)")
        case "trust_vote_close_24h":
            return _("1 day before the trust vote closes (to those who have not voted)")
        case "election_day_morning":
            return _("Election day morning: time, place, what to bring")
        case "objection_deadline":
            return _("1 day before the objection deadline of a public list")
        case "custom_notice":
            return _("Your scheduled notice")
        case "proxy_intent_close_48h":
            return _("2 days before the proxy deadline (to migrant workers who have not answered)")
        case "proxy_intent_close_24h":
            return _("1 day before the proxy deadline (to migrant workers who have not answered)")
        case "proxy_holder_close_48h":
            return _("2 days before the proxy deadline (to relatives who have not answered a request)")
        case "proxy_holder_close_24h":
            return _("1 day before the proxy deadline (to relatives who have not answered a request)")
        case "proxy_form_close_48h":
            return _("2 days before election day (to approved proxies without the signed form)")
        case "proxy_form_close_24h":
            return _("1 day before election day (to approved proxies without the signed form)")
        case "election_day_holders":
            return _("Election day morning: each proxy holder is told whom they vote for")
        case "results_final":
            return _("The day after the objection window of the results: they are now final")
    return kind


def _line(number: int, line: WaveLine, locale: str) -> str:
    reach = ngettext("would reach {count} person now", "would reach {count} people now", line.reach).format(
        count=line.reach
    )
    return _("{number}. {when} — {what}\n   “{title}”, {reach}").format(
        number=number,
        when=local_datetime(line.wave.due_at, line.zone, locale),
        what=kind_label(line.wave.kind),
        title=line.title or "",
        reach=reach,
    )


def committee_view(lines: list[WaveLine], me: Me, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    if lines:
        text = "\n\n".join(
            [_("Reminders that will be sent (nothing goes out between 21:00 and 08:00):")]
            + [_line(i, line, locale) for i, line in enumerate(lines, start=1)]
        )
    else:
        text = _("No reminders are planned at the moment.")
    rows = [
        [
            InlineKeyboardButton(
                text=_("✖ Cancel reminder {number}").format(number=i),
                callback_data=ReminderCallback(
                    action=ReminderAction.CANCEL, wave_id=line.wave.id or 0
                ).pack(),
            )
        ]
        for i, line in enumerate(lines, start=1)
    ]
    for village in me.villages_with(RoleName.COMMITTEE):
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("➕ Send a notice at a set time ({village})").format(village=village.name),
                    callback_data=ReminderCallback(
                        action=ReminderAction.ADD, village_id=village.id or 0
                    ).pack(),
                )
            ]
        )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def mute_view(muted: bool) -> tuple[str, InlineKeyboardMarkup]:
    if muted:
        text = _(
            "Reminders are off. You still get the notices the law requires (public lists that concern you)."
        )
        button = InlineKeyboardButton(
            text=_("🔔 Turn reminders on"),
            callback_data=ReminderCallback(action=ReminderAction.UNMUTE).pack(),
        )
    else:
        text = _(
            "Reminders are on: the bot tells you when voting starts, "
            "and before it ends if you have not voted yet."
        )
        button = InlineKeyboardButton(
            text=_("🔕 Turn reminders off"), callback_data=ReminderCallback(action=ReminderAction.MUTE).pack()
        )
    return text, InlineKeyboardMarkup(inline_keyboard=[[button]])


async def show_reminders(
    message: Message, session: AsyncSession, me: Me | None, settings: Settings, i18n: I18n
) -> None:
    if me is None:
        return
    locale = i18n.current_locale
    shown = False
    if me.villages_with(RoleName.COMMITTEE):
        lines = await upcoming_waves(session, me, default_locale=settings.default_locale)
        text, markup = committee_view(lines, me, locale)
        await message.answer(text, reply_markup=markup)
        shown = True
    state = await reminder_mute_state(session, me)
    if state.refusal is None:
        text, markup = mute_view(state.muted)
        await message.answer(text, reply_markup=markup)
    elif not shown:
        await message.answer(
            _("Please link your Telegram to the voter roll first: send /start and share your phone number.")
        )


async def on_mute(
    query: CallbackQuery, callback_data: ReminderCallback, session: AsyncSession, me: Me | None
) -> None:
    if me is None:
        await query.answer()
        return
    state = await set_reminders_muted(
        session, me, muted=callback_data.action is ReminderAction.MUTE, now=datetime.now(UTC)
    )
    if state.refusal is not None:
        await query.answer(_("Please link your Telegram to the voter roll first."), show_alert=True)
        return
    await query.answer(_("Reminders turned off.") if state.muted else _("Reminders turned on."))
    text, markup = mute_view(state.muted)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def cancel_refusal_text(refusal: CancelRefusal) -> str:
    match refusal:
        case CancelRefusal.NOT_ALLOWED:
            return not_allowed_text()
        case CancelRefusal.UNKNOWN_WAVE:
            return _("This reminder does not exist any more.")
        case CancelRefusal.ALREADY_SETTLED:
            return _("This reminder was already sent or cancelled.")


async def on_cancel(
    query: CallbackQuery,
    callback_data: ReminderCallback,
    session: AsyncSession,
    me: Me | None,
    reminders: ReminderScheduler,
) -> None:
    if me is None:
        await query.answer()
        return
    outcome = await cancel_wave(session, me, callback_data.wave_id, now=datetime.now(UTC))
    if isinstance(outcome, CancelRefusal):
        await query.answer(cancel_refusal_text(outcome), show_alert=True)
        return
    await reminders.refresh()
    await query.answer(_("Cancelled."))
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Cancelled: {what}. Send /reminders to see the list again.").format(
                what=kind_label(outcome.kind)
            )
        )


async def on_add(
    query: CallbackQuery, callback_data: ReminderCallback, state: FSMContext, me: Me | None
) -> None:
    if me is None or not me.has_role(callback_data.village_id, RoleName.COMMITTEE):
        await query.answer(not_allowed_text(), show_alert=True)
        return
    await state.set_state(ReminderForm.text)
    await state.update_data(village_id=callback_data.village_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Send the text of the notice. It goes to everyone in the village who has linked Telegram. "
                "(/cancel to stop.)"
            )
        )


def schedule_refusal_text(refusal: ScheduleRefusal) -> str:
    match refusal:
        case ScheduleRefusal.NOT_ALLOWED:
            return not_allowed_text()
        case ScheduleRefusal.EMPTY_TEXT:
            return _("The text is empty. Please send the text of the notice.")
        case ScheduleRefusal.TEXT_TOO_LONG:
            return _("The text is too long (at most 3,500 characters). Please shorten it.")
        case ScheduleRefusal.IN_THE_PAST:
            return _("That time has already passed. Please send a time in the future.")
        case ScheduleRefusal.TOO_FAR:
            return _("That is more than a year ahead. Please send a nearer time.")


async def on_text(message: Message, state: FSMContext) -> None:
    text = message.text or ""
    if (problem := check_custom_text(text)) is not None:
        await message.answer(schedule_refusal_text(problem))
        return
    await state.update_data(text=text)
    await state.set_state(ReminderForm.when)
    await message.answer(
        _("When should it be sent? Send the date and time, for example 2026-12-05 08:00 or 12-05 08:00.")
    )


_TIME = re.compile(r"^\s*(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?\s+(\d{1,2})[:：点](\d{2})?分?\s*$")


def parse_local_time(text: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """ "2026-12-05 08:00", "12-05 8:00" or "12月5日 8点": a wall time in the village's zone.
    Without a year: this year, or next year if that date has passed."""
    match = _TIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute = match.groups()
    local_now = now.astimezone(zone)
    try:
        moment = datetime(
            int(year) if year else local_now.year,
            int(month),
            int(day),
            int(hour),
            int(minute or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None
    if year is None and moment < local_now:
        moment = moment.replace(year=moment.year + 1)
    return moment


async def on_when(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    me: Me | None,
    i18n: I18n,
    reminders: ReminderScheduler,
) -> None:
    if me is None:
        return
    data = await state.get_data()
    village_id = int(data.get("village_id", 0))
    zone = await committee_zone(session, village_id)
    now = datetime.now(UTC)
    send_at = parse_local_time(message.text or "", zone, now)
    if send_at is None:
        await message.answer(_("I did not understand that time. Please write it like 2026-12-05 08:00."))
        return
    outcome = await schedule_custom_notice(
        session, me, village_id=village_id, text=str(data.get("text", "")), send_at=send_at, now=now
    )
    if outcome.refusal is not None or outcome.wave is None:
        await message.answer(schedule_refusal_text(outcome.refusal or ScheduleRefusal.EMPTY_TEXT))
        if outcome.refusal is ScheduleRefusal.NOT_ALLOWED:
            await state.clear()
        return
    await state.clear()
    await reminders.refresh()
    when = local_datetime(outcome.wave.due_at, zone, i18n.current_locale)
    if outcome.deferred:
        await message.answer(
            _("That time is during the night quiet hours, so the notice will be sent at {when}.").format(
                when=when
            )
        )
    else:
        await message.answer(_("Done. The notice will be sent at {when}.").format(when=when))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_reminders, Command("reminders"))
    router.callback_query.register(
        on_mute, ReminderCallback.filter(F.action.in_({ReminderAction.MUTE, ReminderAction.UNMUTE}))
    )
    router.callback_query.register(on_cancel, ReminderCallback.filter(F.action == ReminderAction.CANCEL))
    router.callback_query.register(on_add, ReminderCallback.filter(F.action == ReminderAction.ADD))
    router.message.register(on_text, StateFilter(ReminderForm.text), F.text)
    router.message.register(on_when, StateFilter(ReminderForm.when), F.text)
    return router

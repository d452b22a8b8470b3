"""Results: the committee's count wizard (/count), the second member's confirmation, publication,
and /results for anyone bound in the village."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.results_text import announcement_text, results_document, tally_problem_sentence
from bot.rules.fingerprint import format_fingerprint, short_fingerprint
from bot.rules.policy import Position
from bot.scheduling import ReminderScheduler
from bot.services.identity import Me, RoleName
from bot.services.notices import Recipient
from bot.services.outbox import MessagePayload, SendMethod
from bot.services.results import (
    Announcement,
    ConfirmRequest,
    CountForm,
    Evaluation,
    Finality,
    PositionCount,
    ResultsOutcome,
    ResultsRefusal,
    TallyInput,
    VoteLine,
    confirm_results,
    count_form,
    count_overview,
    enter_results,
    latest_results,
    publish_results,
    results_files,
)
from handlers.access import not_allowed_text
from handlers.callbacks import ObjectCallback, ResultsAction, ResultsCallback
from handlers.elections import tr
from storage.models import Election, Notice, ResultEntry

TEXT_LIMIT = 4000  # Telegram takes 4096 characters in a message


class CountWizard(StatesGroup):
    present = State()
    ballots = State()
    votes = State()


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refusal_lines(outcome: ResultsOutcome | ResultsRefusal) -> list[str]:
    refusal = outcome if isinstance(outcome, ResultsRefusal) else outcome.refusal
    position = outcome.position if isinstance(outcome, ResultsOutcome) else None
    where = words.position_name(position, tr) if position else ""
    names = "、".join(outcome.names) if isinstance(outcome, ResultsOutcome) else ""
    match refusal:
        case ResultsRefusal.NOT_ALLOWED:
            return [not_allowed_text()]
        case ResultsRefusal.UNKNOWN_ELECTION | ResultsRefusal.UNKNOWN_ENTRY:
            return [_("That count or election no longer exists.")]
        case ResultsRefusal.NO_CANDIDATES:
            return [_("The formal candidate list of this election has not been published yet.")]
        case ResultsRefusal.NO_POSITIONS | ResultsRefusal.MISSING_POSITION:
            return [_("The count of {position} is missing.").format(position=where)]
        case ResultsRefusal.UNKNOWN_POSITION | ResultsRefusal.DUPLICATE_POSITION:
            return [_("This election fills {position} once only.").format(position=where)]
        case ResultsRefusal.DUPLICATE_NAME:
            return [
                _("{position}: {names} is written twice. Write each name once.").format(
                    position=where, names=names
                )
            ]
        case ResultsRefusal.NOT_A_CANDIDATE:
            return [
                _(
                    "{position}: {names} is not on the formal candidate list. Check the spelling; a name "
                    "written on the ballots by voters starts with +, e.g. +赵六 2."
                ).format(position=where, names=names)
            ]
        case ResultsRefusal.BAD_NAME:
            return [_("{position}: a name is empty or too long.").format(position=where)]
        case ResultsRefusal.PRESENT_REQUIRED:
            return [_("The number of members present is missing.")]
        case ResultsRefusal.TALLY_INCONSISTENT:
            assert isinstance(outcome, ResultsOutcome)
            return [_("{position}: the numbers do not add up:").format(position=where)] + [
                "• " + tally_problem_sentence(p, tr) for p in outcome.problems
            ]
        case ResultsRefusal.NOT_DRAFT:
            return [_("This count has already been confirmed, published or replaced.")]
        case ResultsRefusal.OWN_ENTRY:
            return [_("You entered this count yourself. Another committee member must check and confirm it.")]
        case ResultsRefusal.NOT_CONFIRMED:
            return [_("This count must first be confirmed by a second committee member.")]
        case ResultsRefusal.ALREADY_PUBLISHED:
            return [_("These results have already been published; they are not sent twice.")]
        case ResultsRefusal.SUPERSEDED:
            return [_("This count was replaced by a newer one.")]
        case ResultsRefusal.FONT_MISSING:
            return [_("The server has no Chinese font for the PDF. Ask the administrator to install one.")]
        case ResultsRefusal.EMPTY_AUDIENCE:
            return [
                _("Nobody in the village has linked Telegram yet: there is nobody to send the results to.")
            ]
        case ResultsRefusal.NOT_BOUND:
            return [
                _(
                    "Send /start and share your phone number first: results are shown to villagers on "
                    "the roll."
                )
            ]
        case ResultsRefusal.NO_RESULTS:
            return [_("No results have been published in your village yet.")]
        case ResultsRefusal.NO_SECOND_ROUND:
            return [_("No published first round left a seat open: there is no second round to count.")]
        case None:
            return []


# --- numbers as people type them ------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,，、;；/]+")


def parse_numbers(text: str) -> list[int] | None:
    """ "18 16 15 1", "１８，１６，１５，１" -> [18, 16, 15, 1]; None if anything is not a whole number."""
    parts = [p for p in _SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


_VOTE_LINE = re.compile(r"^(\+?)\s*(.*?[^\d\s:：])\s*[:：]?\s*(\d+)\s*票?$")


def parse_votes(text: str) -> list[VoteLine] | None:
    """One name per line with its votes ("王伟 11"); a leading + marks a name written in by voters."""
    votes = []
    for raw in unicodedata.normalize("NFKC", text).splitlines():
        line = raw.strip()
        if not line:
            continue
        match = _VOTE_LINE.match(line)
        if match is None:
            return None
        votes.append(VoteLine(match[2], int(match[3]), write_in=bool(match[1])))
    return votes or None


# --- the wizard -----------------------------------------------------------------------------------


def entry_text(evaluation: Evaluation) -> str:
    entry = evaluation.entry
    announcement = Announcement(
        evaluation=evaluation,
        published_on=entry.entered_at.date(),
        objections_until=None,
        finality=Finality.FINAL,
    )
    status = {
        "draft": _("entered, waiting for a second member to confirm"),
        "confirmed": _("confirmed, ready to publish"),
    }.get(entry.status, entry.status)
    head = _("🧮 Count of “{title}”, version {version}: {status}").format(
        title=evaluation.election.title, version=entry.version, status=status
    )
    body = announcement_text(announcement, tr, preview=True).split("\n", 1)[1]
    return _clip(head + "\n" + body)


async def count_command(
    message: Message, state: FSMContext, session: AsyncSession, me: Me | None, settings: Settings
) -> None:
    if me is None or not me.villages_with(RoleName.COMMITTEE):
        await message.answer(not_allowed_text())
        return
    await state.clear()
    overview = await count_overview(session, me)
    for evaluation in overview.waiting:
        entry = evaluation.entry
        assert entry.id is not None
        if entry.status == "draft":
            button = InlineKeyboardButton(
                text=_("✅ I checked it against the paper sheet: confirm"),
                callback_data=ResultsCallback(action=ResultsAction.CONFIRM, id=entry.id).pack(),
            )
        else:
            button = InlineKeyboardButton(
                text=_("📢 Publish the results to the village"),
                callback_data=ResultsCallback(action=ResultsAction.PUBLISH, id=entry.id).pack(),
            )
        await message.answer(
            entry_text(evaluation),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
        )
    elections = overview.elections
    waiting = overview.waiting
    if not elections:
        if not waiting:
            await message.answer(
                _("No election has a published formal candidate list yet: there is nothing to count.")
            )
        return
    rows = [
        [
            InlineKeyboardButton(
                text=_("📝 Enter the count: {title}").format(title=e.title),
                callback_data=ResultsCallback(action=ResultsAction.START, id=e.id or 0).pack(),
            )
        ]
        for e in elections
    ]
    await message.answer(
        _(
            "Enter the paper count of the election, position by position. A second committee member "
            "then confirms it."
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


def _ask_ballots(form: dict[str, Any]) -> str:
    position, seats, names = form["positions"][form["index"]]
    return _(
        "{position} ({seats} seat(s)); candidates: {names}.\n"
        "Send four numbers: ballots issued, returned, valid, invalid. For example: 18 16 15 1"
    ).format(position=words.position_name(Position(position), tr), seats=seats, names="、".join(names))


def _ask_votes(form: dict[str, Any]) -> str:
    position, _seats, names = form["positions"][form["index"]]
    example = "\n".join(f"{name} 0" for name in names[:2])
    return _(
        "Now the votes for {position}: one name per line with its votes, for example:\n{example}\n"
        "A name that voters wrote on the ballot themselves starts with +, e.g. +赵六 2."
    ).format(position=words.position_name(Position(position), tr), example=example)


async def start_pressed(
    query: CallbackQuery,
    callback_data: ResultsCallback,
    state: FSMContext,
    session: AsyncSession,
    me: Me | None,
) -> None:
    if me is None or not isinstance(query.message, Message):
        await query.answer(not_allowed_text(), show_alert=True)
        return
    form = await count_form(session, me, callback_data.id)
    if not isinstance(form, CountForm):
        await query.answer(refusal_lines(form)[0], show_alert=True)
        return
    await query.answer()
    data: dict[str, Any] = {
        "election_id": callback_data.id,
        "positions": [[p.value, seats, list(names)] for p, seats, names in form.positions],
        "index": 0,
        "counts": {},
        "present": None,
    }
    await state.set_data(data)
    if form.party:
        await state.set_state(CountWizard.present)
        await query.message.answer(
            _("How many party members entitled to vote were present? Send one number.")
        )
        return
    await state.set_state(CountWizard.ballots)
    await query.message.answer(_ask_ballots(data))


async def present_sent(message: Message, state: FSMContext) -> None:
    numbers = parse_numbers(message.text or "")
    if numbers is None or len(numbers) != 1:
        await message.answer(_("Please send one whole number, e.g. 45."))
        return
    data = await state.get_data()
    data["present"] = numbers[0]
    await state.set_data(data)
    await state.set_state(CountWizard.ballots)
    await message.answer(_ask_ballots(data))


async def ballots_sent(message: Message, state: FSMContext) -> None:
    numbers = parse_numbers(message.text or "")
    if numbers is None or len(numbers) != 4:
        await message.answer(
            _("Please send exactly four whole numbers: issued, returned, valid, invalid. E.g. 18 16 15 1")
        )
        return
    data = await state.get_data()
    position = data["positions"][data["index"]][0]
    data["counts"][position] = {"ballots": numbers, "votes": []}
    await state.set_data(data)
    await state.set_state(CountWizard.votes)
    await message.answer(_ask_votes(data))


def _tally(data: dict[str, Any]) -> TallyInput:
    counts = []
    for position, _seats, _names in data["positions"]:
        entered = data["counts"][position]
        issued, returned, valid, invalid = entered["ballots"]
        votes = [VoteLine(name, n, bool(w)) for name, n, w in entered["votes"]]
        counts.append(PositionCount(Position(position), issued, returned, valid, invalid, votes))
    return TallyInput(positions=counts, present=data["present"])


async def votes_sent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    votes = parse_votes(message.text or "")
    if votes is None:
        await message.answer(_("Please write one name per line followed by its votes, e.g. 王伟 11."))
        return
    data = await state.get_data()
    position = data["positions"][data["index"]][0]
    data["counts"][position]["votes"] = [[v.name, v.votes, v.write_in] for v in votes]
    if data["index"] + 1 < len(data["positions"]):
        data["index"] += 1
        await state.set_data(data)
        await state.set_state(CountWizard.ballots)
        await message.answer(_ask_ballots(data))
        return
    outcome = await enter_results(
        session,
        me,
        data["election_id"],
        _tally(data),
        now=datetime.now(UTC),
        ask_to_confirm=confirm_request(i18n),
        default_locale=settings.default_locale,
    )
    if outcome.refusal is not None:
        lines = refusal_lines(outcome)
        wrong = [
            i for i, p in enumerate(data["positions"]) if outcome.position and p[0] == outcome.position.value
        ]
        if wrong:
            # Back to the position that does not add up; the others stay as typed.
            data["index"] = wrong[0]
            await state.set_data(data)
            await state.set_state(CountWizard.ballots)
            await message.answer("\n".join([*lines, "", _ask_ballots(data)]))
            return
        await state.clear()
        await message.answer("\n".join(lines))
        return
    await state.clear()
    assert outcome.entry is not None
    outbox.wake()
    await message.answer(
        _(
            "Saved as version {version}. Fingerprint: {fingerprint}.\nAnother member of the election "
            "committee must now check it against the paper tally sheet and confirm it: they send /count."
        ).format(version=outcome.entry.version, fingerprint=short_fingerprint(outcome.entry.fingerprint))
    )


async def confirm_pressed(
    query: CallbackQuery, callback_data: ResultsCallback, session: AsyncSession, me: Me | None
) -> None:
    if me is None or not isinstance(query.message, Message):
        await query.answer(not_allowed_text(), show_alert=True)
        return
    outcome = await confirm_results(session, me, callback_data.id, now=datetime.now(UTC))
    if outcome.refusal is not None:
        await query.answer(refusal_lines(outcome)[0], show_alert=True)
        return
    await query.answer()
    button = InlineKeyboardButton(
        text=_("📢 Publish the results to the village"),
        callback_data=ResultsCallback(action=ResultsAction.PUBLISH, id=callback_data.id).pack(),
    )
    await query.message.answer(
        _("Confirmed. The count can now be published to the whole village."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )


def confirm_request(i18n: I18n) -> ConfirmRequest:
    """What the other committee members get when a count is entered: a word and the confirm button."""

    def render(entry: ResultEntry, election: Election, locale: str) -> MessagePayload:
        assert entry.id is not None
        with i18n.context(), i18n.use_locale(locale):
            text = _(
                "🧮 A count of “{title}” was entered (version {version}, fingerprint {fingerprint}). Check "
                "it against the paper tally sheet: send /count to see it and confirm it."
            ).format(
                title=election.title, version=entry.version, fingerprint=short_fingerprint(entry.fingerprint)
            )
        return MessagePayload(text=text)

    return render


def results_renderer(i18n: I18n) -> Any:
    """Each villager's copies in their own language: the text, the chart, the PDF."""

    def render(
        notice: Notice, recipient: Recipient, announcement: Announcement, chart: Path, pdf: Path
    ) -> Sequence[MessagePayload]:
        assert notice.id is not None
        with i18n.context(), i18n.use_locale(recipient.locale):
            text = _clip(announcement_text(announcement, tr))
            caption = _clip(
                _("{title} · fingerprint {fingerprint}").format(
                    title=results_document(announcement, tr).title,
                    fingerprint=short_fingerprint(announcement.evaluation.entry.fingerprint),
                ),
                1000,
            )
            objection = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("✋ Raise an objection"),
                            callback_data=ObjectCallback(notice_id=notice.id).pack(),
                        )
                    ]
                ]
            )
        markup = (
            objection.model_dump(mode="json", exclude_none=True)
            if announcement.finality is Finality.PROVISIONAL
            else None
        )
        return [
            MessagePayload(text=text),
            MessagePayload(method=SendMethod.SEND_PHOTO, file_path=str(chart), text=caption),
            MessagePayload(
                method=SendMethod.SEND_DOCUMENT, file_path=str(pdf), text=caption, reply_markup=markup
            ),
        ]

    return render


async def publish_pressed(
    query: CallbackQuery,
    callback_data: ResultsCallback,
    session: AsyncSession,
    me: Me | None,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
    reminders: ReminderScheduler,
) -> None:
    if me is None or not isinstance(query.message, Message):
        await query.answer(not_allowed_text(), show_alert=True)
        return
    await query.answer(_("Preparing the chart and the PDF…"))
    outcome = await publish_results(
        session,
        me,
        callback_data.id,
        words=lambda a: results_document(a, tr),
        render=results_renderer(i18n),
        out_dir=settings.data_dir / "results",
        zone=settings.zone,
        default_locale=settings.default_locale,
        now=datetime.now(UTC),
        progress_chat_id=query.message.chat.id,
        progress_locale=i18n.current_locale,
    )
    if outcome.refusal is not None or outcome.announcement is None:
        await query.message.answer("\n".join(refusal_lines(outcome.refusal or ResultsRefusal.NOT_ALLOWED)))
        return
    outbox.wake()
    text = _(
        "Published to {count} villagers ({unbound} on the roll have not linked Telegram yet: tell them "
        "in person). Fingerprint of the count, to print on the paper copy:\n{fingerprint}"
    ).format(
        count=outcome.recipients,
        unbound=outcome.unbound,
        fingerprint=format_fingerprint(outcome.announcement.evaluation.entry.fingerprint),
    )
    if outcome.committee_group:
        text += "\n" + _("They are posted to the committee group too.")
    else:
        text += "\n" + _(
            "To post results to the committee's Telegram group too, send /committeegroup in that group."
        )
    await query.message.answer(text)
    # The "now final" wave of these results (and the end of the one a correction replaced), at once.
    await reminders.rebuild()


# --- /results -------------------------------------------------------------------------------------


async def results_command(message: Message, session: AsyncSession, me: Me | None, settings: Settings) -> None:
    if me is None:
        await message.answer(refusal_lines(ResultsRefusal.NOT_BOUND)[0])
        return
    latest = await latest_results(session, me, today=datetime.now(settings.zone).date())
    if latest.announcement is None:
        await message.answer("\n".join(refusal_lines(latest.refusal or ResultsRefusal.NO_RESULTS)))
        return
    await message.answer(_clip(announcement_text(latest.announcement, tr)))
    _chart, pdf = results_files(settings.data_dir / "results", latest.announcement.evaluation.entry)
    if pdf.exists():
        await message.answer_document(FSInputFile(pdf))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(results_command, Command("results"))
    router.message.register(count_command, Command("count"))
    router.message.register(present_sent, StateFilter(CountWizard.present), F.text)
    router.message.register(ballots_sent, StateFilter(CountWizard.ballots), F.text)
    router.message.register(votes_sent, StateFilter(CountWizard.votes), F.text)
    router.callback_query.register(start_pressed, ResultsCallback.filter(F.action == ResultsAction.START))
    router.callback_query.register(confirm_pressed, ResultsCallback.filter(F.action == ResultsAction.CONFIRM))
    router.callback_query.register(publish_pressed, ResultsCallback.filter(F.action == ResultsAction.PUBLISH))
    return router

"""Questions to the candidates: /ask for villagers, /questions for the election committee, and the
candidates' "Answer" button.

/ask: what became of one's questions → the election (if several) → a candidate or all → the question
→ a preview → send. /questions: what waits for the committee, with buttons to pass on, reject and
publish. The candidate never learns who asked.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.rules.questions import DEFAULT_LIMITS, QuestionProblem, QuestionRefusalReason, check_text
from bot.services.identity import Me, RoleName
from bot.services.questions import (
    AskableElection,
    Moderation,
    QuestionDraft,
    QuestionOutcome,
    QuestionRefusal,
    QuestionView,
    answer_question,
    ask_question,
    askable_elections,
    committee_questions,
    moderate_question,
    my_questions,
    pending_question,
    publish_answers,
    published_questions,
    question_to_answer,
)
from handlers.access import HasRole, not_allowed_text
from handlers.elections import tr
from handlers.question_callbacks import AskAction, AskCallback, QuestionAction, QuestionCallback
from handlers.question_render import (
    addressed_text,
    answered_renderer,
    candidate_renderer,
    chat_pieces,
    committee_renderer,
    committee_text,
    moderation_buttons,
    publish_buttons,
    published_text,
    rejection_renderer,
    status_text,
    village_renderer,
)
from storage.models import QuestionStatus


class AskForm(StatesGroup):
    text = State()  # data: election_id, person_id (0: all), to
    confirm = State()  # data: the above and text


class QuestionForm(StatesGroup):
    reason = State()  # data: question_id (committee: why it is rejected)
    answer = State()  # data: question_id (candidate)


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def not_linked_text() -> str:
    return _(
        "To ask the candidates a question, your Telegram must first be linked to the voter roll. Send "
        "/start and share your phone number."
    )


def problem_text(problem: QuestionProblem) -> str:
    source = words.source_text(problem.source, tr)
    match problem.reason:
        case QuestionRefusalReason.NO_CANDIDATE_LIST:
            return _("The candidate list is not published yet, so there is nobody to ask.")
        case QuestionRefusalReason.ELECTION_DAY_REACHED:
            return _("Questions to the candidates end on the day before the election ({source}).").format(
                source=source
            )
        case QuestionRefusalReason.EMPTY:
            return _("The message is empty. Please write it in one message.")
        case QuestionRefusalReason.TOO_LONG:
            return _("That is too long (at most {limit} characters). Please shorten it.").format(
                limit=problem.limit
            )
        case QuestionRefusalReason.TOO_MANY_OPEN:
            return _(
                "You already have {limit} questions waiting for an answer. Please wait until the election "
                "committee has dealt with one of them."
            ).format(limit=problem.limit)


def refusal_text(outcome: QuestionOutcome) -> str:
    match outcome.refusal:
        case QuestionRefusal.RULE:
            assert outcome.problem is not None
            return problem_text(outcome.problem)
        case QuestionRefusal.NOT_BOUND:
            return not_linked_text()
        case QuestionRefusal.NOT_A_VOTER:
            return _("Only registered voters of the village can ask the candidates questions.")
        case QuestionRefusal.UNKNOWN_ELECTION:
            return _("This election is not taking questions now.")
        case QuestionRefusal.UNKNOWN_CANDIDATE:
            return _("That person is not on the candidate list.")
        case QuestionRefusal.NOT_ALLOWED:
            return not_allowed_text()
        case QuestionRefusal.NOT_FOUND:
            return _("That question was not found.")
        case QuestionRefusal.ALREADY_MODERATED:
            return _("This question has already been dealt with.")
        case QuestionRefusal.NOT_FORWARDED:
            return _("This question has not been passed on to the candidates.")
        case QuestionRefusal.NOT_ADDRESSED:
            return _("This question is not addressed to you.")
        case QuestionRefusal.ALREADY_ANSWERED:
            return _("You have already answered this question.")
        case QuestionRefusal.NO_ANSWERS:
            return _("No candidate has answered this question yet: there is nothing to publish.")
        case QuestionRefusal.ALREADY_PUBLISHED:
            return _("The answers to this question have already been published.")
        case QuestionRefusal.ALREADY_SENT:
            return _("This question was already sent. Send /ask to see what became of it.")
        case None:
            return ""


# ------------------------------------------------------------------------------------ villagers


def my_questions_text(views: list[QuestionView]) -> str:
    lines = [_("Your questions to the candidates:")]
    for view in views:
        lines.append(
            _("No. {number} to {to}: {status}").format(
                number=view.number, to=addressed_text(view), status=status_text(view)
            )
        )
    return "\n".join(lines)


async def start(
    message: Message, state: FSMContext, session: AsyncSession, me: Me, settings: Settings
) -> None:
    await state.clear()
    if me.person is None or me.village is None:
        await message.answer(not_linked_text())
        return
    mine = await my_questions(session, me)
    if mine:
        await message.answer(my_questions_text(mine))
    elections = await askable_elections(session, me, now=datetime.now(UTC), zone=settings.zone)
    if not elections:
        await message.answer(
            _(
                "No election of {village} takes questions to the candidates now. Questions can be asked "
                "from the day the candidate list is published until the day before the election."
            ).format(village=me.village.name)
        )
        return
    if len(elections) == 1:
        await _ask_candidate(message, elections[0])
        return
    rows = [
        [(e.election.title, AskCallback(action=AskAction.ELECTION, election_id=e.election.id or 0).pack())]
        for e in elections
    ]
    await message.answer(_("Which election is your question about?"), reply_markup=_keyboard(rows))


async def _ask_candidate(message: Message, askable: AskableElection) -> None:
    if askable.cap_reached is not None:
        await message.answer(problem_text(askable.cap_reached))
        return
    election_id = askable.election.id or 0
    rows = [
        [
            (
                _("{name} ({positions})").format(
                    name=c.name,
                    positions=_(", ").join(words.position_name(p, tr) for p in c.positions),
                ),
                AskCallback(
                    action=AskAction.CANDIDATE, election_id=election_id, person_id=c.person_id
                ).pack(),
            )
        ]
        for c in askable.candidates
    ]
    rows.append(
        [(_("All candidates"), AskCallback(action=AskAction.CANDIDATE, election_id=election_id).pack())]
    )
    await message.answer(
        _("{title}\nWhom do you want to ask?").format(title=askable.election.title),
        reply_markup=_keyboard(rows),
    )


async def election_chosen(
    query: CallbackQuery, callback_data: AskCallback, session: AsyncSession, me: Me, settings: Settings
) -> None:
    elections = await askable_elections(session, me, now=datetime.now(UTC), zone=settings.zone)
    chosen = next((e for e in elections if e.election.id == callback_data.election_id), None)
    if chosen is None:
        await query.answer(_("This election is not taking questions now."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_candidate(query.message, chosen)


async def candidate_chosen(
    query: CallbackQuery,
    callback_data: AskCallback,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
) -> None:
    elections = await askable_elections(session, me, now=datetime.now(UTC), zone=settings.zone)
    chosen = next((e for e in elections if e.election.id == callback_data.election_id), None)
    if chosen is None:
        await query.answer(_("This election is not taking questions now."), show_alert=True)
        return
    if chosen.cap_reached is not None:
        await query.answer(problem_text(chosen.cap_reached), show_alert=True)
        return
    if callback_data.person_id:
        person = next((c for c in chosen.candidates if c.person_id == callback_data.person_id), None)
        if person is None:
            await query.answer(_("That person is not on the candidate list."), show_alert=True)
            return
        to = person.name
    else:
        to = _("all candidates")
    await query.answer()
    await state.set_state(AskForm.text)
    await state.update_data(election_id=callback_data.election_id, person_id=callback_data.person_id, to=to)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Write your question to {to} in one message (at most {limit} characters). The election "
                "committee reads it first and passes it on; the candidates are not told who asked. Send "
                "/cancel to stop."
            ).format(to=to, limit=DEFAULT_LIMITS.max_length.value)
        )


async def question_typed(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if (problem := check_text(text)) is not None:
        await message.answer(problem_text(problem))
        return
    data = await state.get_data()
    await state.set_state(AskForm.confirm)
    await state.update_data(text=text, draft_key=secrets.token_hex(16))
    rows = [
        [
            (_("✅ Send"), AskCallback(action=AskAction.SEND).pack()),
            (_("✖️ Do not send"), AskCallback(action=AskAction.CANCEL).pack()),
        ]
    ]
    await message.answer(
        _("Your question to {to}:").format(to=data["to"]) + f"\n\n{text}\n\n" + _("Send it?"),
        reply_markup=_keyboard(rows),
    )


async def send_pressed(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    data = await state.get_data()
    if await state.get_state() != AskForm.confirm.state or "draft_key" not in data:
        await query.answer(_("This question was already sent or stopped. Send /ask to ask another."))
        return
    draft = QuestionDraft(
        election_id=int(data["election_id"]),
        candidate_person_id=int(data["person_id"]) or None,
        text=str(data["text"]),
        draft_key=str(data["draft_key"]),
    )
    outcome = await ask_question(
        session,
        me,
        draft,
        now=datetime.now(UTC),
        zone=settings.zone,
        render=committee_renderer(i18n, asker=me.person.name if me.person else "?"),
        default_locale=settings.default_locale,
    )
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if outcome.refusal is not None or outcome.view is None:
        await query.message.answer(refusal_text(outcome))
        return
    outbox.wake()
    await query.message.answer(
        _(
            "✅ Sent to the election committee as question no. {number}. They pass it on to {to}; the "
            "answer will be published to the whole village. Send /ask to see what became of it."
        ).format(number=outcome.view.number, to=data["to"])
    )


async def cancel_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("Not sent."))


# ------------------------------------------------------------------------------------ committee


async def committee_list(message: Message, session: AsyncSession, me: Me) -> None:
    villages = await committee_questions(session, me)
    for village in villages:
        c = village.counts
        await message.answer(
            _(
                "{village}: {pending} questions wait for you, {forwarded} are with the candidates, "
                "{answered} answered and not yet published, {published} published, {rejected} rejected."
            ).format(
                village=village.village_name,
                pending=c[QuestionStatus.PENDING],
                forwarded=c[QuestionStatus.FORWARDED],
                answered=c[QuestionStatus.ANSWERED],
                published=c[QuestionStatus.PUBLISHED],
                rejected=c[QuestionStatus.REJECTED],
            )
        )
        for view in village.pending:
            await _send(message, committee_text(view, village.askers[view.number]), moderation_buttons(view))
        for view in village.answered:
            await _send(message, committee_text(view, village.askers[view.number]), publish_buttons(view))
        if not village.pending and not village.answered:
            await message.answer(_("Nothing waits for you now."))


async def _send(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    pieces = chat_pieces(text)
    for index, piece in enumerate(pieces):
        await message.answer(piece, reply_markup=markup if index == len(pieces) - 1 else None)


async def forward_pressed(
    query: CallbackQuery,
    callback_data: QuestionCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    outcome = await moderate_question(
        session,
        me,
        question_id=callback_data.question_id,
        decision=Moderation.FORWARD,
        now=datetime.now(UTC),
        zone=settings.zone,
        render_for_candidate=candidate_renderer(i18n),
        render_rejection=rejection_renderer(i18n),
        default_locale=settings.default_locale,
    )
    if outcome.refusal is not None:
        await query.answer(refusal_text(outcome), show_alert=True)
        return
    await query.answer()
    outbox.wake()
    if isinstance(query.message, Message):
        text = _("Question no. {number} was passed on privately to {reached} candidates.").format(
            number=callback_data.question_id, reached=outcome.reached
        )
        if outcome.missed:
            text += "\n" + _(
                "{missed} of the candidates have not linked Telegram: please pass it on to them in person."
            ).format(missed=outcome.missed)
        await query.message.answer(text)


async def reject_pressed(
    query: CallbackQuery, callback_data: QuestionCallback, state: FSMContext, session: AsyncSession, me: Me
) -> None:
    outcome = await pending_question(session, me, callback_data.question_id)
    if outcome.refusal is not None:
        await query.answer(refusal_text(outcome), show_alert=True)
        return
    await query.answer()
    await state.set_state(QuestionForm.reason)
    await state.update_data(question_id=callback_data.question_id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Why is question no. {number} not passed on? Write the reason in one message; the villager "
                "who asked will be told it. Send /cancel to stop."
            ).format(number=callback_data.question_id)
        )


async def reason_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    data = await state.get_data()
    outcome = await moderate_question(
        session,
        me,
        question_id=int(data["question_id"]),
        decision=Moderation.REJECT,
        reason=message.text or "",
        now=datetime.now(UTC),
        zone=settings.zone,
        render_for_candidate=candidate_renderer(i18n),
        render_rejection=rejection_renderer(i18n),
        default_locale=settings.default_locale,
    )
    if outcome.refusal is not QuestionRefusal.RULE:
        await state.clear()
    if outcome.refusal is not None:
        await message.answer(refusal_text(outcome))
        return
    outbox.wake()
    await message.answer(_("Rejected. The villager who asked was told the reason."))


async def publish_pressed(
    query: CallbackQuery,
    callback_data: QuestionCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    outcome = await publish_answers(
        session,
        me,
        question_id=callback_data.question_id,
        now=datetime.now(UTC),
        render=village_renderer(i18n),
        default_locale=settings.default_locale,
        title=_("Question no. {number} and its answers").format(number=callback_data.question_id),
        progress_chat_id=query.message.chat.id if query.message else None,
        progress_locale=i18n.current_locale,
    )
    if outcome.refusal is not None:
        await query.answer(refusal_text(outcome), show_alert=True)
        return
    await query.answer()
    outbox.wake()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Published: question no. {number} and its answers go to {reached} villagers. {missed} are "
                "not linked to Telegram."
            ).format(number=callback_data.question_id, reached=outcome.reached, missed=outcome.missed)
        )


async def refuse_press(query: CallbackQuery) -> None:
    await query.answer(not_allowed_text(), show_alert=True)


async def village_list(message: Message, session: AsyncSession, me: Me) -> None:
    """/questions for a villager: what the committee published, for whoever missed the message."""
    views = await published_questions(session, me)
    if views is None:
        await message.answer(not_linked_text())
        return
    if not views:
        await message.answer(
            _("No questions to the candidates have been published yet. To ask one, send /ask.")
        )
        return
    for view in reversed(views):  # oldest first, the newest last: nearest to the reply box
        for piece in chat_pieces(published_text(view)):
            await message.answer(piece)


# ------------------------------------------------------------------------------------ candidates


async def answer_pressed(
    query: CallbackQuery, callback_data: QuestionCallback, state: FSMContext, session: AsyncSession, me: Me
) -> None:
    outcome = await question_to_answer(session, me, callback_data.question_id)
    if outcome.refusal is not None:
        await query.answer(refusal_text(outcome), show_alert=True)
        return
    await query.answer()
    await state.set_state(QuestionForm.answer)
    await state.update_data(question_id=callback_data.question_id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Write your answer to question no. {number} in one message (at most {limit} characters). "
                "Send /cancel to stop."
            ).format(number=callback_data.question_id, limit=DEFAULT_LIMITS.max_length.value)
        )


async def answer_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    data = await state.get_data()
    outcome = await answer_question(
        session,
        me,
        question_id=int(data["question_id"]),
        text=message.text or "",
        now=datetime.now(UTC),
        zone=settings.zone,
        render_for_committee=answered_renderer(i18n, candidate=me.person.name if me.person else "?"),
        default_locale=settings.default_locale,
    )
    if outcome.refusal is not QuestionRefusal.RULE or (
        outcome.problem is not None and outcome.problem.reason is QuestionRefusalReason.ELECTION_DAY_REACHED
    ):
        await state.clear()
    if outcome.refusal is not None:
        await message.answer(refusal_text(outcome))
        return
    outbox.wake()
    await message.answer(
        _(
            "✅ Thank you. Your answer was sent to the election committee, who publish it with the "
            "question to the whole village."
        )
    )


async def not_text(message: Message) -> None:
    await message.answer(_("Please write it as a text message. Send /cancel to stop."))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("ask"))
    router.callback_query.register(election_chosen, AskCallback.filter(F.action == AskAction.ELECTION))
    router.callback_query.register(candidate_chosen, AskCallback.filter(F.action == AskAction.CANDIDATE))
    router.callback_query.register(send_pressed, AskCallback.filter(F.action == AskAction.SEND))
    router.callback_query.register(cancel_pressed, AskCallback.filter(F.action == AskAction.CANCEL))

    committee = HasRole(RoleName.COMMITTEE)
    router.message.register(committee_list, Command("questions"), committee)
    router.message.register(village_list, Command("questions"))
    router.callback_query.register(
        forward_pressed, QuestionCallback.filter(F.action == QuestionAction.FORWARD), committee
    )
    router.callback_query.register(
        reject_pressed, QuestionCallback.filter(F.action == QuestionAction.REJECT), committee
    )
    router.callback_query.register(
        publish_pressed, QuestionCallback.filter(F.action == QuestionAction.PUBLISH), committee
    )
    router.callback_query.register(answer_pressed, QuestionCallback.filter(F.action == QuestionAction.ANSWER))
    router.callback_query.register(refuse_press, QuestionCallback.filter())
    # A command sent in the middle of a conversation never gets here: it ends the conversation
    # first (bot.middlewares.CommandEndsConversationMiddleware).
    router.message.register(question_typed, StateFilter(AskForm.text), F.text)
    router.message.register(reason_typed, StateFilter(QuestionForm.reason), F.text)
    router.message.register(answer_typed, StateFilter(QuestionForm.answer), F.text)
    router.message.register(
        not_text, StateFilter(AskForm.text, QuestionForm.reason, QuestionForm.answer), ~F.text
    )
    return router

"""/proxy: a villager who cannot come home asks a near relative to vote for them (委托投票), follows
the request, and can take it back before the deadline; the relative accepts or declines; migrant
workers answer how they will take part.

Steps of a request: the election (if several) → part of the relative's name → the person → the
relationship → confirm. The rules are checked at once and a refusal names the rule.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import proxy_text
from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.rules.policy import Relationship
from bot.services.identity import Me
from bot.services.proxies import (
    FlowRefusal,
    MyProxies,
    ProxyResult,
    answer_proxy_request,
    my_proxies,
    record_intent,
    request_proxy,
    revoke_proxy,
)
from bot.services.recommendations import SearchRefusal, open_elections_for, search_candidates
from handlers.elections import day_text, tr
from handlers.proxy_callbacks import HolderCallback, IntentCallback, ProxyAction, ProxyCallback
from handlers.proxy_render import holder_keyboard, proxy_notifier
from handlers.recommend import match_label
from storage.models import ACTIVE_PROXY_STATUSES, IntentChoice, ProxyStatus


class ProxyForm(StatesGroup):
    name = State()  # data: election_id


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def refusal_text(result: ProxyResult) -> str:
    return proxy_text.refusal_sentence(result, tr)


def status_text(mine: MyProxies) -> tuple[str, InlineKeyboardMarkup | None]:
    assert mine.election is not None
    lines = [mine.election.title]
    rows: list[list[tuple[str, str]]] = []
    for line in mine.given:
        row = line.authorization
        lines.append(
            _("You asked {holder} ({relation}) to vote for you: {status}.").format(
                holder=line.holder,
                relation=proxy_text.relation_label(Relationship(row.relationship), tr),
                status=proxy_text.status_name(row.status, tr),
            )
        )
        if row.status in ACTIVE_PROXY_STATUSES:
            rows.append(
                [(_("Take it back"), ProxyCallback(action=ProxyAction.REVOKE, proxy_id=row.id or 0).pack())]
            )
    for line in mine.held:
        row = line.authorization
        lines.append(
            _("{principal} asked you to vote for them: {status}.").format(
                principal=line.principal, status=proxy_text.status_name(row.status, tr)
            )
        )
    if mine.deadline is not None:
        lines += ["", _("Requests and changes until {day}.").format(day=day_text(mine.deadline))]
    return "\n".join(lines), _keyboard(rows) if rows else None


async def start(message: Message, state: FSMContext, session: AsyncSession, me: Me) -> None:
    await state.clear()
    if me.person is None or me.village is None:
        await message.answer(refusal_text(ProxyResult(refusal=FlowRefusal.NOT_BOUND)))
        return
    elections = await open_elections_for(session, me)
    if not elections:
        await message.answer(_("There is no open election in {village} now.").format(village=me.village.name))
        return
    if len(elections) == 1:
        await _show(message, state, session, me, elections[0].id or 0)
        return
    rows = [
        [(e.title, ProxyCallback(action=ProxyAction.ELECTION, election_id=e.id or 0).pack())]
        for e in elections
    ]
    await message.answer(_("Which election?"), reply_markup=_keyboard(rows))


async def _show(message: Message, state: FSMContext, session: AsyncSession, me: Me, election_id: int) -> None:
    mine = await my_proxies(session, me, election_id)
    if mine.refusal is not None:
        await message.answer(refusal_text(ProxyResult(refusal=mine.refusal)))
        return
    if mine.given or mine.held:
        text, markup = status_text(mine)
        await message.answer(text, reply_markup=markup)
        pending = [line for line in mine.held if line.authorization.status == ProxyStatus.REQUESTED]
        for line in pending:
            await message.answer(
                _("{principal} asks you to vote for them. Will you do it?").format(principal=line.principal),
                reply_markup=holder_keyboard(line.authorization.id or 0),
            )
        if any(line.authorization.status in ACTIVE_PROXY_STATUSES for line in mine.given) or pending:
            return
    await state.set_state(ProxyForm.name)
    await state.update_data(election_id=election_id)
    await message.answer(
        _(
            "If you cannot come home to vote, a near relative who votes in this village can vote for you. "
            "Type part of their name, for example the family name. Send /cancel to stop."
        )
    )


async def election_chosen(
    query: CallbackQuery, callback_data: ProxyCallback, state: FSMContext, session: AsyncSession, me: Me
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _show(query.message, state, session, me, callback_data.election_id)


async def name_typed(message: Message, state: FSMContext, session: AsyncSession, me: Me) -> None:
    election_id = int((await state.get_data())["election_id"])
    query = (message.text or "").strip()
    found = await search_candidates(session, me, election_id, query)
    if found.refusal is SearchRefusal.EMPTY_QUERY:
        await message.answer(_("Please type part of a name."))
        return
    if found.refusal is not None:
        await state.clear()
        await message.answer(refusal_text(ProxyResult(refusal=FlowRefusal.NOT_BOUND)))
        return
    if not found.matches:
        await message.answer(
            _(
                "Nobody on the roll matches “{query}”. Type fewer "
                "characters, for example only the family name."
            ).format(query=query)
        )
        return
    rows = [
        [
            (
                match_label(m),
                ProxyCallback(action=ProxyAction.PICK, election_id=election_id, person_id=m.person_id).pack(),
            )
        ]
        for m in found.matches
    ]
    text = _("Press the relative who will vote for you:")
    if found.more:
        text += "\n" + _("More people match: type more of the name to see them.")
    await message.answer(text, reply_markup=_keyboard(rows))


async def pick_pressed(query: CallbackQuery, callback_data: ProxyCallback) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    rows = [
        [
            (
                proxy_text.relation_label(relationship, tr),
                ProxyCallback(
                    action=ProxyAction.RELATION,
                    election_id=callback_data.election_id,
                    person_id=callback_data.person_id,
                    relationship=relationship,
                ).pack(),
            )
        ]
        for relationship in proxy_text.NEAR_RELATIVES
    ]
    await query.message.answer(_("What is this person to you?"), reply_markup=_keyboard(rows))


async def relation_pressed(query: CallbackQuery, callback_data: ProxyCallback) -> None:
    await query.answer()
    if not isinstance(query.message, Message) or callback_data.relationship is None:
        return
    confirm = callback_data.model_copy(update={"action": ProxyAction.CONFIRM}).pack()
    cancel = ProxyCallback(action=ProxyAction.CANCEL).pack()
    await query.message.answer(
        _("Ask your {relation} to vote for you? They will get a message and can say yes or no.").format(
            relation=proxy_text.relation_label(callback_data.relationship, tr)
        ),
        reply_markup=_keyboard([[(_("✅ Yes, ask them"), confirm), (_("✖ No"), cancel)]]),
    )


async def confirm_pressed(
    query: CallbackQuery,
    callback_data: ProxyCallback,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    await query.answer()
    if callback_data.relationship is None:
        return
    result = await request_proxy(
        session,
        me,
        callback_data.election_id,
        callback_data.person_id,
        callback_data.relationship,
        now=datetime.now(UTC),
        zone=settings.zone,
        notify=proxy_notifier(i18n),
        default_locale=settings.default_locale,
    )
    if not isinstance(query.message, Message):
        return
    if result.refusal is not None:
        await query.message.answer(refusal_text(result))
        return
    await state.clear()
    outbox.wake()
    assert result.holder is not None
    if result.holder_reached:
        text = _("Sent. {holder} is asked to vote for you; you will hear their answer here.")
    else:
        text = _(
            "Recorded. {holder} is not on Telegram: the election committee will ask them on paper or by "
            "phone, and you will hear the answer here."
        )
    text = text.format(holder=result.holder.name)
    if result.deadline is not None:
        text += "\n" + _("You can take it back until {day} with /proxy.").format(
            day=day_text(result.deadline)
        )
    await query.message.answer(text)


async def cancel_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("Stopped. Nothing was sent."))


async def revoke_pressed(
    query: CallbackQuery,
    callback_data: ProxyCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    result = await revoke_proxy(
        session,
        me,
        callback_data.proxy_id,
        now=datetime.now(UTC),
        zone=settings.zone,
        notify=proxy_notifier(i18n),
        default_locale=settings.default_locale,
    )
    if result.refusal is not None:
        await query.answer(refusal_text(result), show_alert=True)
        return
    await query.answer()
    outbox.wake()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Taken back. Nobody votes for you now. Send /proxy to ask someone else.")
        )


async def holder_pressed(
    query: CallbackQuery,
    callback_data: HolderCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    result = await answer_proxy_request(
        session,
        me,
        callback_data.proxy_id,
        accept=callback_data.accept,
        now=datetime.now(UTC),
        notify=proxy_notifier(i18n),
        default_locale=settings.default_locale,
    )
    if result.refusal is not None:
        await query.answer(refusal_text(result), show_alert=True)
        return
    await query.answer()
    outbox.wake()
    if isinstance(query.message, Message) and result.principal is not None:
        text = (
            _("Thank you. You agreed to vote for {principal}. The election committee will check it.")
            if callback_data.accept
            else _("You said no. {principal} will be told.")
        )
        await query.message.answer(text.format(principal=result.principal.name))


async def intent_pressed(
    query: CallbackQuery, callback_data: IntentCallback, state: FSMContext, session: AsyncSession, me: Me
) -> None:
    outcome = await record_intent(
        session, me, callback_data.election_id, callback_data.choice, datetime.now(UTC)
    )
    if outcome.refusal is not None:
        await query.answer(refusal_text(ProxyResult(refusal=outcome.refusal)), show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    answer = proxy_text.intent_label(callback_data.choice, tr)
    await query.message.answer(_("Recorded: {answer}. Thank you.").format(answer=answer))
    if callback_data.choice is IntentChoice.PROXY:
        await _show(query.message, state, session, me, callback_data.election_id)
    elif callback_data.choice is IntentChoice.NEED_HELP:
        await query.message.answer(_("The election committee will contact you to arrange it."))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("proxy"))
    router.callback_query.register(election_chosen, ProxyCallback.filter(F.action == ProxyAction.ELECTION))
    router.callback_query.register(pick_pressed, ProxyCallback.filter(F.action == ProxyAction.PICK))
    router.callback_query.register(relation_pressed, ProxyCallback.filter(F.action == ProxyAction.RELATION))
    router.callback_query.register(confirm_pressed, ProxyCallback.filter(F.action == ProxyAction.CONFIRM))
    router.callback_query.register(cancel_pressed, ProxyCallback.filter(F.action == ProxyAction.CANCEL))
    router.callback_query.register(revoke_pressed, ProxyCallback.filter(F.action == ProxyAction.REVOKE))
    router.callback_query.register(holder_pressed, HolderCallback.filter())
    router.callback_query.register(intent_pressed, IntentCallback.filter())
    router.message.register(name_typed, StateFilter(ProxyForm.name), F.text)
    return router

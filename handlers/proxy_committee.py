"""/proxies: the election committee reviews proxy requests (records a holder's consent taken on paper
or by phone, approves, rejects with a reason), asks migrant workers how they will take part, sees
their answers, publishes the proxy list and prints the ballot-issuing roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from bot.files.proxy_form import ProxyForm
from bot.rules.policy import Relationship
from bot.services.elections import committee_election, list_elections
from bot.services.identity import Me, RoleName
from bot.services.proxies import (
    ConsentSource,
    FlowRefusal,
    FormWords,
    ProxyLine,
    ProxyResult,
    ask_migrants,
    ballot_roster,
    decide_proxy,
    intent_summary,
    pending_proxies,
    publish_proxy_list,
    record_holder_consent,
    record_written_form,
)
from handlers.access import HasRole, not_allowed_text
from handlers.elections import tr
from handlers.notice_render import notice_renderer
from handlers.proxy_callbacks import CommitteeProxyAction, CommitteeProxyCallback
from handlers.proxy_render import intent_asker, proxy_notifier
from storage.models import Election, IntentChoice, Person, ProxyAuthorization, ProxyStatus, Village

Action = CommitteeProxyAction


class RejectForm(StatesGroup):
    reason = State()  # data: proxy_id, election_id


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def _button(text: str, action: CommitteeProxyAction, election_id: int, proxy_id: int = 0) -> tuple[str, str]:
    return text, CommitteeProxyCallback(action=action, election_id=election_id, proxy_id=proxy_id).pack()


def form_maker(i18n: I18n) -> FormWords:
    """The form in the principal's language (the service says which)."""

    def make(
        row: ProxyAuthorization,
        principal: Person,
        holder: Person,
        election: Election,
        village: Village,
        locale: str,
    ) -> ProxyForm:
        with i18n.context(), i18n.use_locale(locale):
            return proxy_text.form_words(tr)(row, principal, holder, election, village, locale)

    return make


def line_text(line: ProxyLine) -> str:
    row = line.authorization
    text = _("No. {number}: {principal} ({pgroup}) → {holder} ({hgroup}), {relation}: {status}.").format(
        number=row.id,
        principal=line.principal,
        pgroup=line.principal_group or "—",
        holder=line.holder,
        hgroup=line.holder_group or "—",
        relation=proxy_text.relation_label(Relationship(row.relationship), tr),
        status=proxy_text.status_name(row.status, tr),
    )
    if line.same_household:
        text += " " + _("Same household.")
    if row.status == ProxyStatus.APPROVED and row.form_received_at is None:
        text += " " + _("Signed form not received yet.")
    return text


def line_buttons(line: ProxyLine, election_id: int) -> list[list[tuple[str, str]]]:
    row = line.authorization
    pid = row.id or 0
    if row.status == ProxyStatus.REQUESTED:
        return [
            [
                _button(_("📝 Agreed on paper"), Action.PAPER, election_id, pid),
                _button(_("📞 Agreed by phone"), Action.PHONE, election_id, pid),
            ]
        ]
    if row.status == ProxyStatus.ACCEPTED:
        return [
            [
                _button(_("✅ Approve"), Action.APPROVE, election_id, pid),
                _button(_("✖ Reject"), Action.REJECT, election_id, pid),
            ]
        ]
    if row.status == ProxyStatus.APPROVED and row.form_received_at is None:
        return [[_button(_("Signed form received"), Action.FORM_RECEIVED, election_id, pid)]]
    return []


def election_buttons(election_id: int) -> InlineKeyboardMarkup:
    return _keyboard(
        [
            [
                _button(_("Ask migrant workers"), Action.ASK, election_id),
                _button(_("Their answers"), Action.INTENTS, election_id),
            ],
            [
                _button(_("Publish the proxy list"), Action.PUBLISH, election_id),
                _button(_("Ballot roster"), Action.ROSTER, election_id),
            ],
        ]
    )


async def _show_pending(message: Message, session: AsyncSession, me: Me, election_id: int) -> None:
    pending = await pending_proxies(session, me, election_id)
    if pending.refusal is not None or pending.election is None:
        await message.answer(proxy_text.refusal_sentence(ProxyResult(refusal=pending.refusal), tr))
        return
    await message.answer(
        _("{title}: {count} proxy requests under way.").format(
            title=pending.election.title, count=len(pending.lines)
        ),
        reply_markup=election_buttons(election_id),
    )
    for line in pending.lines:
        rows = line_buttons(line, election_id)
        await message.answer(line_text(line), reply_markup=_keyboard(rows) if rows else None)


async def show(message: Message, state: FSMContext, session: AsyncSession, me: Me) -> None:
    await state.clear()
    found = [e for v in await list_elections(session, me) for e in v.elections if e.status == "open"]
    if not found:
        await message.answer(_("There is no open election. Open one with /elections first."))
        return
    for election in found:
        await _show_pending(message, session, me, election.id or 0)


async def list_pressed(
    query: CallbackQuery, callback_data: CommitteeProxyCallback, session: AsyncSession, me: Me
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _show_pending(query.message, session, me, callback_data.election_id)


async def consent_pressed(
    query: CallbackQuery,
    callback_data: CommitteeProxyCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    source = ConsentSource.PAPER if callback_data.action is Action.PAPER else ConsentSource.PHONE
    result = await record_holder_consent(
        session,
        me,
        callback_data.proxy_id,
        source,
        now=datetime.now(UTC),
        notify=proxy_notifier(i18n),
        default_locale=settings.default_locale,
    )
    await _answered(query, result, outbox, _("Recorded: the relative agreed. You can now approve it."))


async def approve_pressed(
    query: CallbackQuery,
    callback_data: CommitteeProxyCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    result = await decide_proxy(
        session,
        me,
        callback_data.proxy_id,
        approve=True,
        reason="",
        now=datetime.now(UTC),
        notify=proxy_notifier(i18n),
        form_words=form_maker(i18n),
        out_dir=settings.data_dir / "proxies",
        default_locale=settings.default_locale,
    )
    await _answered(
        query,
        result,
        outbox,
        _("Approved. The villager gets the authorization form to sign; the relative is told."),
    )


async def _answered(query: CallbackQuery, result: ProxyResult, outbox: OutboxSender, done: str) -> None:
    if result.refusal is not None:
        await query.answer(proxy_text.refusal_sentence(result, tr), show_alert=True)
        return
    await query.answer()
    outbox.wake()
    if isinstance(query.message, Message):
        await query.message.answer(done)


async def reject_pressed(
    query: CallbackQuery, callback_data: CommitteeProxyCallback, state: FSMContext
) -> None:
    await query.answer()
    await state.set_state(RejectForm.reason)
    await state.update_data(proxy_id=callback_data.proxy_id, election_id=callback_data.election_id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Why is request no. {number} not approved? Write the "
                "reason in one message; the villager sees it."
            ).format(number=callback_data.proxy_id)
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
    result = await decide_proxy(
        session,
        me,
        int(data["proxy_id"]),
        approve=False,
        reason=message.text or "",
        now=datetime.now(UTC),
        notify=proxy_notifier(i18n),
        form_words=form_maker(i18n),
        out_dir=settings.data_dir / "proxies",
        default_locale=settings.default_locale,
    )
    if result.refusal is not None:
        if result.refusal not in (FlowRefusal.EMPTY_REASON, FlowRefusal.REASON_TOO_LONG):
            await state.clear()
        await message.answer(proxy_text.refusal_sentence(result, tr))
        return
    await state.clear()
    outbox.wake()
    await message.answer(_("Not approved. The villager is told the reason."))


async def form_pressed(
    query: CallbackQuery, callback_data: CommitteeProxyCallback, session: AsyncSession, me: Me
) -> None:
    result = await record_written_form(session, me, callback_data.proxy_id, now=datetime.now(UTC))
    if result.refusal is not None:
        await query.answer(proxy_text.refusal_sentence(result, tr), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Recorded: the signed form of no. {number} is with the committee.").format(
                number=callback_data.proxy_id
            )
        )


async def ask_pressed(
    query: CallbackQuery,
    callback_data: CommitteeProxyCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await ask_and_report(query.message, session, me, callback_data.election_id, settings, i18n, outbox)


async def ask_and_report(
    message: Message,
    session: AsyncSession,
    me: Me,
    election_id: int,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    """Ask the migrant workers who have not answered yet, and tell the committee member how many."""
    outcome = await ask_migrants(
        session,
        me,
        election_id,
        ask=intent_asker(i18n),
        default_locale=settings.default_locale,
        title=_("Migrant workers asked how they will take part"),
        progress_chat_id=message.chat.id,
        progress_locale=i18n.current_locale,
    )
    if outcome.refusal is not None:
        await message.answer(proxy_text.refusal_sentence(ProxyResult(refusal=outcome.refusal), tr))
        return
    outbox.wake()
    text = _("Asked {count} migrant workers how they will take part.").format(count=outcome.asked)
    if outcome.unbound:
        text += "\n" + _("Not on Telegram yet, please phone them: {names}").format(
            names=_(", ").join(outcome.unbound)
        )
    await message.answer(text)


async def intents_pressed(
    query: CallbackQuery, callback_data: CommitteeProxyCallback, session: AsyncSession, me: Me
) -> None:
    await query.answer()
    summary = await intent_summary(session, me, callback_data.election_id)
    if not isinstance(query.message, Message):
        return
    if summary.refusal is not None:
        await query.message.answer(proxy_text.refusal_sentence(ProxyResult(refusal=summary.refusal), tr))
        return
    lines = [_("Migrant workers' answers:")]
    for group in summary.groups:
        counts = _(", ").join(
            f"{proxy_text.intent_label(choice, tr)} {group.counts.get(choice, 0)}" for choice in IntentChoice
        )
        lines.append(f"{group.group or '—'}: {counts}")
        if group.not_answered:
            lines.append(_("  Not answered: {names}").format(names=_(", ").join(group.not_answered)))
    if not summary.groups:
        lines.append(_("No migrant workers are marked on the roll."))
    await query.message.answer("\n".join(lines))


async def publish_pressed(
    query: CallbackQuery,
    callback_data: CommitteeProxyCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    election = await committee_election(session, me, callback_data.election_id)
    village = me.role_villages.get(election.village_id) if election is not None else None
    name = village.name if village is not None else ""
    outcome = await publish_proxy_list(
        session,
        me,
        callback_data.election_id,
        words=proxy_text.list_words(name, tr),
        render=notice_renderer(i18n, village_name=name, zone=settings.zone),
        out_dir=settings.data_dir / "publicity",
        now=datetime.now(UTC),
        zone=settings.zone,
        default_locale=settings.default_locale,
        progress_chat_id=message.chat.id,
        progress_locale=i18n.current_locale,
    )
    if outcome.refusal is not None:
        await message.answer(proxy_text.refusal_sentence(ProxyResult(refusal=outcome.refusal), tr))
        return
    assert outcome.plist is not None
    outbox.wake()
    await message.answer(
        _("Published. Fingerprint of the proxy list: {fingerprint}. Print it on the paper copy too.").format(
            fingerprint=outcome.plist.fingerprint()
        )
    )


async def roster_pressed(
    query: CallbackQuery, callback_data: CommitteeProxyCallback, session: AsyncSession, me: Me
) -> None:
    await query.answer()
    roster = await ballot_roster(session, me, callback_data.election_id)
    if not isinstance(query.message, Message):
        return
    if roster.refusal is not None:
        await query.message.answer(proxy_text.refusal_sentence(ProxyResult(refusal=roster.refusal), tr))
        return
    lines = [_("Ballot roster of proxy votes:")]
    for holder in roster.holders:
        names = _(", ").join(
            p.name + ("" if p.valid else " " + _("(not on the published list: does not count)"))
            for p in holder.principals
        )
        lines.append(
            _("{holder} ({group}) collects the ballots of: {names}").format(
                holder=holder.name, group=holder.group or "—", names=names
            )
        )
    if not roster.holders:
        lines.append(_("No approved proxies yet."))
    if roster.take_back_voter_cards:
        lines.append(_("Take back the principals' voter cards when their ballots are handed out."))
    await query.message.answer("\n".join(lines))


async def refuse(message: Message) -> None:
    await message.answer(not_allowed_text())


async def refuse_button(query: CallbackQuery) -> None:
    await query.answer(not_allowed_text(), show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    committee = HasRole(RoleName.COMMITTEE)
    router.message.register(show, Command("proxies"), committee)
    router.message.register(refuse, Command("proxies"))
    handlers: dict[CommitteeProxyAction, Callable[..., Awaitable[None]]] = {
        Action.LIST: list_pressed,
        Action.PAPER: consent_pressed,
        Action.PHONE: consent_pressed,
        Action.APPROVE: approve_pressed,
        Action.REJECT: reject_pressed,
        Action.FORM_RECEIVED: form_pressed,
        Action.ASK: ask_pressed,
        Action.INTENTS: intents_pressed,
        Action.PUBLISH: publish_pressed,
        Action.ROSTER: roster_pressed,
    }
    for action, handler in handlers.items():
        router.callback_query.register(handler, CommitteeProxyCallback.filter(F.action == action), committee)
    router.callback_query.register(refuse_button, CommitteeProxyCallback.filter())
    router.message.register(reason_typed, StateFilter(RejectForm.reason), F.text, committee)
    return router

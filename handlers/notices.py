"""/notice: a committee member composes a notice in chat; villagers read it and press "I have read this".

Steps: village (if several) → title → text → attachment (or skip) → audience → read receipt? →
preview exactly as villagers see it → send or cancel. The outbox does the sending.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.delivery.receipts import ReceiptRecorder
from bot.delivery.sender import OutboxSender
from bot.services.identity import Me, RoleName
from bot.services.notices import (
    Attachment,
    AttachmentKind,
    Audience,
    NoticeDraft,
    NoticeRefusal,
    check_attachment,
    check_body,
    check_title,
    list_groups,
    publish_notice,
    recent_notices,
    summarize_audience,
)
from bot.services.outbox import MessagePayload
from handlers.access import HasRole, not_allowed_text
from handlers.callbacks import (
    AudienceCallback,
    AudienceChoice,
    NoticeCallback,
    NoticeStep,
    PreviewCallback,
    ReceiptCallback,
    ShowNoticeCallback,
    VillageCallback,
)
from handlers.notice_render import local_date, notice_messages, notice_renderer
from storage.models import Notice, Village


class NoticeForm(StatesGroup):
    village = State()
    title = State()
    body = State()
    attachment = State()
    audience = State()
    receipt = State()
    confirm = State()


def refusal_text(refusal: NoticeRefusal) -> str:
    match refusal:
        case NoticeRefusal.NOT_ALLOWED:
            return not_allowed_text()
        case NoticeRefusal.EMPTY_TITLE:
            return _("The title is empty. Please send a short title.")
        case NoticeRefusal.TITLE_TOO_LONG:
            return _("The title is too long (at most 200 characters). Please send a shorter one.")
        case NoticeRefusal.EMPTY_BODY:
            return _("The text is empty. Please send the text of the notice.")
        case NoticeRefusal.BODY_TOO_LONG:
            return _("The text is too long (at most 20,000 characters). Please shorten it.")
        case NoticeRefusal.ATTACHMENT_TOO_LARGE:
            return _("That file is too large for Telegram (photos up to 10 MB, other files up to 50 MB).")
        case NoticeRefusal.UNKNOWN_GROUP:
            return _("That villagers' group does not exist in this village.")
        case NoticeRefusal.EMPTY_AUDIENCE:
            return _("Nobody in this audience has linked Telegram yet, so nobody would receive it.")
        case NoticeRefusal.ALREADY_SENT:
            return _("This notice was already sent; it will not be sent twice.")


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row] for row in rows
        ]
    )


def _payload_markup(payload: MessagePayload) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup.model_validate(payload.reply_markup) if payload.reply_markup else None


async def start_notice(message: Message, state: FSMContext, me: Me) -> None:
    villages = me.villages_with(RoleName.COMMITTEE)
    await state.clear()
    await state.update_data(draft_key=uuid.uuid4().hex)
    if len(villages) == 1:
        await _ask_title(message, state, villages[0])
        return
    await state.set_state(NoticeForm.village)
    rows = [[(v.name, VillageCallback(purpose="notice", village_id=v.id or 0).pack())] for v in villages]
    await message.answer(_("Which village is this notice for?"), reply_markup=_keyboard(rows))


async def _ask_title(message: Message, state: FSMContext, village: Village) -> None:
    await state.update_data(village_id=village.id, village_name=village.name)
    await state.set_state(NoticeForm.title)
    await message.answer(
        _("New notice for {village}. Send the title (one line). Send /cancel at any time to stop.").format(
            village=village.name
        )
    )


async def choose_village(
    query: CallbackQuery, callback_data: VillageCallback, state: FSMContext, me: Me
) -> None:
    await query.answer()
    village = me.role_villages.get(callback_data.village_id)
    if village is None or not me.has_role(callback_data.village_id, RoleName.COMMITTEE):
        await state.clear()
        if isinstance(query.message, Message):
            await query.message.answer(not_allowed_text())
        return
    if isinstance(query.message, Message):
        await _ask_title(query.message, state, village)


async def got_title(message: Message, state: FSMContext) -> None:
    title = (message.text or "").strip()
    problem = check_title(title)
    if problem is not None:
        await message.answer(refusal_text(problem))
        return
    await state.update_data(title=title)
    await state.set_state(NoticeForm.body)
    await message.answer(
        _("Now send the text of the notice. Long texts are fine; empty lines separate paragraphs.")
    )


async def got_body(message: Message, state: FSMContext) -> None:
    body = (message.text or "").strip()
    problem = check_body(body)
    if problem is not None:
        await message.answer(refusal_text(problem))
        return
    await state.update_data(body=body)
    await state.set_state(NoticeForm.attachment)
    skip = [[(_("No attachment"), NoticeCallback(step=NoticeStep.SKIP_ATTACHMENT).pack())]]
    await message.answer(
        _("To attach a file (PDF, spreadsheet) or a photo, send it now. Otherwise press “No attachment”."),
        reply_markup=_keyboard(skip),
    )


async def got_attachment(message: Message, state: FSMContext, session: AsyncSession) -> None:
    if message.document is not None:
        attachment = Attachment(
            kind=AttachmentKind.DOCUMENT,
            name=message.document.file_name,
            file_id=message.document.file_id,
            size=message.document.file_size,
        )
    elif message.photo:
        largest = message.photo[-1]
        attachment = Attachment(kind=AttachmentKind.PHOTO, file_id=largest.file_id, size=largest.file_size)
    else:
        await message.answer(_("Please send a file or a photo, or press “No attachment”."))
        return
    problem = check_attachment(attachment)
    if problem is not None:
        await message.answer(refusal_text(problem))
        return
    await state.update_data(
        attachment={"kind": attachment.kind.value, "name": attachment.name, "file_id": attachment.file_id}
    )
    await _ask_audience(message, state, session)


async def skip_attachment(query: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    await query.answer()
    await state.update_data(attachment=None)
    if isinstance(query.message, Message):
        await _ask_audience(query.message, state, session)


async def _ask_audience(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    groups = await list_groups(session, int(data["village_id"]))
    await state.set_state(NoticeForm.audience)
    rows = [
        [(_("Everyone"), AudienceCallback(audience=AudienceChoice.ALL).pack())],
        [(_("Party members"), AudienceCallback(audience=AudienceChoice.PARTY).pack())],
        [(_("Villagers working away"), AudienceCallback(audience=AudienceChoice.MIGRANTS).pack())],
    ]
    for group in groups:
        assert group.id is not None
        rows.append([(group.name, AudienceCallback(audience=AudienceChoice.GROUP, group_id=group.id).pack())])
    await message.answer(_("Who should receive it?"), reply_markup=_keyboard(rows))


async def got_audience(query: CallbackQuery, callback_data: AudienceCallback, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(audience=callback_data.audience.value, group_id=callback_data.group_id or None)
    await state.set_state(NoticeForm.receipt)
    rows = [
        [
            (_("Yes, ask for “I have read this”"), NoticeCallback(step=NoticeStep.RECEIPT_YES).pack()),
            (_("No"), NoticeCallback(step=NoticeStep.RECEIPT_NO).pack()),
        ]
    ]
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Should villagers confirm that they have read it? You will see who has and who has not."),
            reply_markup=_keyboard(rows),
        )


def _draft(data: dict[str, Any]) -> NoticeDraft:
    attachment = data.get("attachment")
    return NoticeDraft(
        village_id=int(data["village_id"]),
        title=str(data["title"]),
        body=str(data["body"]),
        audience=Audience(data["audience"]),
        group_id=data.get("group_id"),
        ask_receipt=bool(data.get("ask_receipt")),
        attachment=Attachment(
            kind=AttachmentKind(attachment["kind"]),
            name=attachment.get("name"),
            file_id=attachment["file_id"],
        )
        if attachment
        else None,
        draft_key=str(data["draft_key"]),
    )


async def got_receipt_choice(
    query: CallbackQuery,
    callback_data: NoticeCallback,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    await query.answer()
    await state.update_data(ask_receipt=callback_data.step is NoticeStep.RECEIPT_YES)
    await state.set_state(NoticeForm.confirm)
    data = await state.get_data()
    draft = _draft(data)
    summary = await summarize_audience(
        session, draft.village_id, draft.audience, draft.group_id, settings.default_locale
    )
    if not isinstance(query.message, Message):
        return
    # The preview: exactly the villagers' copy, in this member's language, with inert buttons.
    preview = Notice(
        id=0,
        village_id=draft.village_id,
        kind="notice",
        title=draft.title,
        body=draft.body,
        attachment_file_id=draft.attachment.file_id if draft.attachment else None,
        attachment_kind=draft.attachment.kind.value if draft.attachment else None,
        audience=draft.audience.value,
        ask_receipt=draft.ask_receipt,
        draft_key=draft.draft_key,
        created_at=datetime.now(UTC),
    )
    locale = i18n.current_locale
    await query.message.answer(_("Preview — this is what villagers will see:"))
    for payload in notice_messages(
        preview, village_name=str(data["village_name"]), zone=settings.zone, locale=locale, preview=True
    ):
        await _send_payload(query.message, payload)
    reach = ngettext(
        "It will go to {count} person.", "It will go to {count} people.", len(summary.recipients)
    ).format(count=len(summary.recipients))
    if summary.unbound:
        reach += " " + ngettext(
            "{count} person in this audience has not linked Telegram yet and will not get it.",
            "{count} people in this audience have not linked Telegram yet and will not get it.",
            len(summary.unbound),
        ).format(count=len(summary.unbound))
    rows = [
        [
            (_("Send now"), NoticeCallback(step=NoticeStep.SEND).pack()),
            (_("Cancel"), NoticeCallback(step=NoticeStep.CANCEL).pack()),
        ]
    ]
    await query.message.answer(reach + "\n\n" + _("Send it now?"), reply_markup=_keyboard(rows))


async def _send_payload(message: Message, payload: MessagePayload) -> None:
    markup = _payload_markup(payload)
    if payload.method.value == "sendMessage":
        await message.answer(payload.text or "", parse_mode=payload.parse_mode, reply_markup=markup)
    elif payload.method.value == "sendPhoto":
        await message.answer_photo(
            payload.file_id or "", caption=payload.text, parse_mode=payload.parse_mode, reply_markup=markup
        )
    else:
        await message.answer_document(
            payload.file_id or "", caption=payload.text, parse_mode=payload.parse_mode, reply_markup=markup
        )


async def confirm_send(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    data = await state.get_data()
    if "draft_key" not in data or "audience" not in data:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    draft = _draft(data)
    outcome = await publish_notice(
        session,
        me=me,
        draft=draft,
        render=notice_renderer(i18n, village_name=str(data["village_name"]), zone=settings.zone),
        default_locale=settings.default_locale,
        now=datetime.now(UTC),
        progress_chat_id=query.message.chat.id if query.message else None,
        progress_locale=i18n.current_locale,
    )
    await query.answer()
    if outcome.refusal is not None:
        if outcome.refusal is not NoticeRefusal.ALREADY_SENT:
            await state.clear()
        if isinstance(query.message, Message):
            await query.message.answer(refusal_text(outcome.refusal))
        return
    await state.clear()
    outbox.wake()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Sending to {count} people. You will see the progress below, then a report.").format(
                count=outcome.recipients
            )
        )


async def cancel_send(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Cancelled. Nothing was sent."))


async def preview_pressed(query: CallbackQuery) -> None:
    await query.answer(_("This is only a preview."), show_alert=True)


async def refuse_notice(message: Message) -> None:
    await message.answer(not_allowed_text())


# ----------------------------------------------------------------------------------- villagers


async def read_pressed(
    query: CallbackQuery,
    callback_data: ReceiptCallback,
    me: Me,
    settings: Settings,
    receipts: ReceiptRecorder,
) -> None:
    # Recorded together with the other presses of the moment; awaited until committed.
    outcome = await receipts.record(
        account_id=me.account.id or 0, notice_id=callback_data.notice_id, now=datetime.now(UTC)
    )
    if outcome.read_at is None:
        await query.answer(_("This notice was not sent to you."), show_alert=True)
        return
    when = outcome.read_at.astimezone(settings.zone).strftime("%m-%d %H:%M")
    label = _("✅ Read ({when})").format(when=when)
    await query.answer(_("Thank you, recorded.") if outcome.first else _("Already recorded."))
    if outcome.first and isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=_keyboard([[(label, ReceiptCallback(notice_id=callback_data.notice_id).pack())]])
        )


async def list_notices(
    message: Message, session: AsyncSession, me: Me, settings: Settings, i18n: I18n
) -> None:
    notices = await recent_notices(session, me)
    if not notices:
        await message.answer(_("You have not received any notice yet."))
        return
    rows = []
    for notice in notices:
        assert notice.id is not None
        day = local_date(notice.created_at.astimezone(settings.zone).date(), i18n.current_locale)
        rows.append([(f"{day} · {notice.title}"[:60], ShowNoticeCallback(notice_id=notice.id).pack())])
    await message.answer(_("Your recent notices (press one to read it again):"), reply_markup=_keyboard(rows))


async def show_notice(
    query: CallbackQuery,
    callback_data: ShowNoticeCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
) -> None:
    notices = {n.id: n for n in await recent_notices(session, me, limit=50)}
    notice = notices.get(callback_data.notice_id)
    await query.answer()
    if notice is None or not isinstance(query.message, Message) or me.village is None:
        return
    for payload in notice_messages(
        notice, village_name=me.village.name, zone=settings.zone, locale=i18n.current_locale
    ):
        await _send_payload(query.message, payload)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    committee = HasRole(RoleName.COMMITTEE)
    router.message.register(start_notice, Command("notice"), committee)
    router.message.register(refuse_notice, Command("notice"))
    router.callback_query.register(
        choose_village, VillageCallback.filter(F.purpose == "notice"), StateFilter(NoticeForm.village)
    )
    router.message.register(got_title, StateFilter(NoticeForm.title), F.text)
    router.message.register(got_body, StateFilter(NoticeForm.body), F.text)
    router.message.register(got_attachment, StateFilter(NoticeForm.attachment))
    router.callback_query.register(
        skip_attachment,
        NoticeCallback.filter(F.step == NoticeStep.SKIP_ATTACHMENT),
        StateFilter(NoticeForm.attachment),
    )
    router.callback_query.register(got_audience, AudienceCallback.filter(), StateFilter(NoticeForm.audience))
    router.callback_query.register(
        got_receipt_choice,
        NoticeCallback.filter(F.step.in_({NoticeStep.RECEIPT_YES, NoticeStep.RECEIPT_NO})),
        StateFilter(NoticeForm.receipt),
    )
    router.callback_query.register(confirm_send, NoticeCallback.filter(F.step == NoticeStep.SEND), committee)
    router.callback_query.register(cancel_send, NoticeCallback.filter(F.step == NoticeStep.CANCEL))
    router.callback_query.register(preview_pressed, PreviewCallback.filter())
    router.callback_query.register(read_pressed, ReceiptCallback.filter())
    router.message.register(list_notices, Command("notices"))
    router.callback_query.register(show_notice, ShowNoticeCallback.filter())
    return router

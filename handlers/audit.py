"""/audit: the supervision committee (and observers, and the committee) page through a village's log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services.audit import AUDIT_READERS, AuditAction, AuditPage, AuditRefusal, audit_page
from bot.services.identity import Me
from handlers.callbacks import AuditPageCallback


def action_name(action: str) -> str:
    try:
        known = AuditAction(action)
    except ValueError:
        return action
    match known:
        case AuditAction.ROLL_IMPORTED:
            return _("voter roll imported")
        case AuditAction.ROLE_GRANTED:
            return _("role granted")
        case AuditAction.ROLE_REVOKED:
            return _("role taken away")
        case AuditAction.ELECTION_CREATED:
            return _("election set up")
        case AuditAction.ELECTION_OPENED:
            return _("election opened")
        case AuditAction.ELECTION_CHANGED:
            return _("election rules changed")
        case AuditAction.LIST_PUBLISHED:
            return _("public list published")
        case AuditAction.PROXY_DECIDED:
            return _("proxy vote decided")
        case AuditAction.PROXY_CONSENT_RECORDED:
            return _("relative's consent to a proxy vote recorded")
        case AuditAction.PROXY_FORM_RECEIVED:
            return _("signed proxy form received")
        case AuditAction.PAPER_TALLY_IMPORTED:
            return _("paper recommendation counts imported")
        case AuditAction.TRUST_PAPER_IMPORTED:
            return _("paper trust votes imported")
        case AuditAction.RESULTS_ENTERED:
            return _("vote count entered")
        case AuditAction.RESULTS_CONFIRMED:
            return _("vote count confirmed")
        case AuditAction.RESULTS_PUBLISHED:
            return _("results published")
        case AuditAction.COMMITTEE_GROUP_LINKED:
            return _("committee group linked")
        case AuditAction.COMMITTEE_GROUP_UNLINKED:
            return _("bot removed from the committee group; group unlinked")
        case AuditAction.COMMITTEE_GROUP_UPGRADED:
            return _("committee group upgraded to a supergroup; link moved")


def page_text(page: AuditPage, zone: ZoneInfo) -> str:
    assert page.village is not None
    lines = [
        _("📜 Log of {village}: {total} entries, page {page} of {pages} (newest first)").format(
            village=page.village.name, total=page.total, page=page.page + 1, pages=page.pages
        )
    ]
    if not page.rows:
        lines.append(_("Nothing has been logged yet."))
    for row in page.rows:
        lines += [
            "",
            _("#{seq} {time} · {action} · by {actor}").format(
                seq=row.seq,
                time=row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                action=action_name(row.action),
                actor=row.actor,
            ),
            row.details if len(row.details) <= 300 else row.details[:300] + "…",
            _("hash {hash}").format(hash=row.hash[:16]),
        ]
    return "\n".join(lines)


def page_keyboard(page: AuditPage) -> InlineKeyboardMarkup | None:
    assert page.village is not None and page.village.id is not None
    buttons = []
    if page.page > 0:
        buttons.append(
            InlineKeyboardButton(
                text=_("◀ Newer"),
                callback_data=AuditPageCallback(village_id=page.village.id, page=page.page - 1).pack(),
            )
        )
    if page.page + 1 < page.pages:
        buttons.append(
            InlineKeyboardButton(
                text=_("Older ▶"),
                callback_data=AuditPageCallback(village_id=page.village.id, page=page.page + 1).pack(),
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


def not_reader_text() -> str:
    return _(
        "Sorry, the log is only for the village's supervision committee, observers and election committee."
    )


async def audit_command(message: Message, session: AsyncSession, me: Me | None, settings: Settings) -> None:
    villages = me.villages_with(*AUDIT_READERS) if me is not None else []
    if me is None or not villages:
        await message.answer(not_reader_text())
        return
    if len(villages) > 1:
        rows = [
            [
                InlineKeyboardButton(
                    text=v.name, callback_data=AuditPageCallback(village_id=v.id or 0, page=0).pack()
                )
            ]
            for v in villages
        ]
        await message.answer(
            _("Which village's log?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )
        return
    assert villages[0].id is not None
    page = await audit_page(session, me, villages[0].id, 0)
    await message.answer(page_text(page, settings.zone), reply_markup=page_keyboard(page))


async def audit_page_pressed(
    query: CallbackQuery,
    callback_data: AuditPageCallback,
    session: AsyncSession,
    me: Me | None,
    settings: Settings,
) -> None:
    if me is None:
        await query.answer(not_reader_text(), show_alert=True)
        return
    page = await audit_page(session, me, callback_data.village_id, callback_data.page)
    if page.refusal is not None or not isinstance(query.message, Message):
        text = (
            not_reader_text() if page.refusal is AuditRefusal.NOT_ALLOWED else _("There is no such village.")
        )
        await query.answer(text, show_alert=True)
        return
    await query.answer()
    await query.message.edit_text(page_text(page, settings.zone), reply_markup=page_keyboard(page))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(audit_command, Command("audit"))
    router.callback_query.register(audit_page_pressed, AuditPageCallback.filter())
    return router

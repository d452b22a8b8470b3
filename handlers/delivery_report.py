"""The report a committee member gets when their notice has gone out: who got it, who read it,
and whom to phone or visit (unreachable, not linked yet)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from io import BytesIO

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from bot.delivery.sender import BroadcastProgress
from bot.services.notices import NoticeReport, PersonLine, notice_report
from storage.db import SessionFactory

log = logging.getLogger(__name__)
# A message listing names stays readable; the spreadsheet has everyone.
NAMES_IN_MESSAGE = 30


def _names(lines: list[PersonLine]) -> str:
    shown = [f"{line.name}（{line.group}）" if line.group else line.name for line in lines[:NAMES_IN_MESSAGE]]
    more = len(lines) - len(shown)
    text = "、".join(shown)
    if more > 0:
        text += " " + _("and {count} more (see the spreadsheet)").format(count=more)
    return text


def report_text(report: NoticeReport) -> str:
    lines = [
        _("Report for “{title}”").format(title=report.notice.title),
        _("Delivered: {delivered} of {total}").format(delivered=report.delivered, total=report.total),
    ]
    if report.ask_receipt:
        lines.append(
            _("Read: {read}; not read yet: {unread}").format(read=report.read, unread=len(report.unread))
        )
    lines.append(_("Could not be reached: {count}").format(count=len(report.unreachable)))
    lines.append(_("Not linked to Telegram (did not get it): {count}").format(count=len(report.unbound)))
    if report.unreachable:
        lines += ["", _("Please phone or visit — could not be reached:"), _names(report.unreachable)]
    if report.unbound:
        lines += ["", _("Please phone or visit — not linked to Telegram:"), _names(report.unbound)]
    return "\n".join(lines)


def report_xlsx(report: NoticeReport) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Follow-up")[:31]
    headers = [_("Name"), _("Villagers' group"), _("Status"), _("Details")]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in report.unreachable:
        sheet.append([line.name, line.group or "", _("could not be reached"), line.reason or ""])
    for line in report.unbound:
        sheet.append([line.name, line.group or "", _("not linked to Telegram"), ""])
    for line in report.unread:
        sheet.append([line.name, line.group or "", _("not read yet"), ""])
    for column, width in zip("ABCD", (16, 14, 22, 50), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class DeliveryReporter:
    """Sender hook: when a notice's broadcast is finished, send its report to whoever started it."""

    def __init__(self, bot: Bot, sessions: SessionFactory, i18n: I18n, default_locale: str) -> None:
        self._bot = bot
        self._sessions = sessions
        self._i18n = i18n
        self._default_locale = default_locale

    async def __call__(self, progress: BroadcastProgress) -> None:
        if not progress.finished or progress.progress_chat_id is None:
            return
        async with self._sessions() as session:
            report = await notice_report(session, broadcast_id=progress.broadcast_id)
        if report is None:
            return
        locale = progress.progress_locale or self._default_locale
        with self._i18n.context(), self._i18n.use_locale(locale):
            text = report_text(report)
            document = BufferedInputFile(
                report_xlsx(report), filename=f"report-{report.notice.id}-{datetime.now(UTC):%Y%m%d}.xlsx"
            )
            caption = _("Everyone to follow up, as a spreadsheet")
        try:
            await self._bot.send_message(progress.progress_chat_id, text)
            if report.unreachable or report.unbound or report.unread:
                await self._bot.send_document(progress.progress_chat_id, document, caption=caption)
        except TelegramAPIError:
            log.warning("could not send the report of broadcast %s", progress.broadcast_id, exc_info=True)

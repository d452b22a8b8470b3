"""`cunmin notice send|status` and `cunmin publicity roll`: the committee's outbox from the shell.

The running bot's outbox sender picks the rows up (it looks for new rows every few seconds), so
these commands only write to the database; they never talk to Telegram themselves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_roll import _console, _context, _database, _row, _run, _table, _village
from bot.services.notices import (
    DOCUMENT_LIMIT_BYTES,
    Attachment,
    AttachmentKind,
    Audience,
    NoticeDraft,
    NoticeReport,
    list_groups,
    notice_report,
    publish_notice,
)

notice_app = typer.Typer(help="Notices to villagers, sent by the running bot.", no_args_is_help=True)
publicity_app = typer.Typer(
    help="Publicity lists (公示) with PDF, spreadsheet and fingerprint.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(notice_app, name="notice")
    app.add_typer(publicity_app, name="publicity")


@notice_app.command("send")
def send(
    village: Annotated[str, typer.Option(help="The village's name.")],
    title: Annotated[str, typer.Option(help="The notice's title.")],
    body_file: Annotated[Path, typer.Option("--body-file", help="A UTF-8 text file with the notice.")],
    township: Annotated[str | None, typer.Option(help="The township, if the village name repeats.")] = None,
    attach: Annotated[Path | None, typer.Option(help="A file to attach (PDF, spreadsheet, image).")] = None,
    audience: Annotated[str, typer.Option(help="all, party, migrants or group:NAME")] = "all",
    ack: Annotated[bool, typer.Option("--ack", help="Ask villagers to press “I have read this”.")] = False,
) -> None:
    """Queue a notice for every linked villager in the audience."""
    from bot.i18n import build_i18n  # aiogram: only the commands that render chat messages need it
    from handlers.notice_render import notice_renderer
    from handlers.notices import refusal_text

    ctx = _context()
    _ = ctx._
    try:
        body = body_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        ctx.fail(_("Cannot read {path} as UTF-8 text.", path=str(body_file)))
    attachment = None
    if attach is not None:
        if not attach.is_file():
            ctx.fail(_("There is no file at {path}.", path=str(attach)))
        size = attach.stat().st_size
        if size > DOCUMENT_LIMIT_BYTES:
            ctx.fail(_("{path} is larger than Telegram's 50 MB limit for files.", path=str(attach)))
        attachment = Attachment(
            kind=AttachmentKind.DOCUMENT, name=attach.name, path=str(attach.resolve()), size=size
        )
    kind, _sep, group_name = audience.partition(":")
    if kind not in {a.value for a in Audience} or (kind == "group") != bool(group_name):
        ctx.fail(_("--audience must be all, party, migrants or group:NAME."))
    i18n = build_i18n(ctx.settings.default_locale)

    async def main() -> None:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            group_id = None
            if kind == "group":
                async with sessions() as session:
                    groups = {g.name: g.id for g in await list_groups(session, place.id)}
                if group_name not in groups:
                    ctx.fail(
                        _(
                            "{village} has no villagers' group called {group}.",
                            village=place.name,
                            group=group_name,
                        )
                    )
                group_id = groups[group_name]
            draft = NoticeDraft(
                village_id=place.id,
                title=title,
                body=body,
                audience=Audience(kind),
                group_id=group_id,
                ask_receipt=ack,
                attachment=attachment,
                draft_key=uuid.uuid4().hex,
            )
            async with sessions() as session:
                outcome = await publish_notice(
                    session,
                    me=None,
                    draft=draft,
                    render=notice_renderer(i18n, village_name=place.name, zone=ctx.settings.zone),
                    default_locale=ctx.settings.default_locale,
                    now=datetime.now(UTC),
                )
            if outcome.refusal is not None:
                with i18n.context(), i18n.use_locale(ctx.settings.default_locale):
                    ctx.fail(refusal_text(outcome.refusal))
            assert outcome.notice is not None
            ctx.say(
                _(
                    "Notice {id} is queued for {count} people ({unbound} in the audience are not linked to "
                    "Telegram). The running bot sends it; follow it with `cunmin notice status {id}`.",
                    id=outcome.notice.id,
                    count=outcome.recipients,
                    unbound=outcome.unbound,
                )
            )

    _run(ctx, main)


@notice_app.command("status")
def status(notice_id: Annotated[int, typer.Argument(help="The notice's number.")]) -> None:
    """Delivered, read, unreachable and not linked: the same report the committee gets in chat."""
    ctx = _context()
    _ = ctx._

    async def main() -> NoticeReport | None:
        async with _database(ctx) as sessions, sessions() as session:
            return await notice_report(session, notice_id=notice_id)

    report = _run(ctx, main)
    if report is None:
        ctx.fail(_("There is no notice {id}.", id=notice_id))
    ctx.say(_("Notice {id}: “{title}”", id=notice_id, title=report.notice.title))
    ctx.say(_("Delivered: {delivered} of {total}", delivered=report.delivered, total=report.total))
    if report.pending:
        ctx.say(_("Still sending: {count}", count=report.pending))
    if report.ask_receipt:
        ctx.say(_("Read: {read}; not read yet: {unread}", read=report.read, unread=len(report.unread)))
    table = _table(_("Please phone or visit"), _("Name"), _("Villagers' group"), _("Status"), _("Details"))
    for line in report.unreachable:
        _row(table, line.name, line.group, _("could not be reached"), line.reason)
    for line in report.unbound:
        _row(table, line.name, line.group, _("not linked to Telegram"), "")
    for line in report.unread:
        _row(table, line.name, line.group, _("not read yet"), "")
    if table.row_count:
        _console().print(table)


@publicity_app.command("roll")
def publicity_roll(
    village: Annotated[str, typer.Option(help="The village's name.")],
    township: Annotated[str | None, typer.Option(help="The township, if the village name repeats.")] = None,
) -> None:
    """Publish the voter roll to every linked villager, with PDF, spreadsheet and fingerprint."""
    from bot.i18n import build_i18n
    from bot.services.publicity import PublicityRefusal, publish_roll
    from handlers.notice_render import notice_renderer
    from handlers.notices import refusal_text
    from handlers.publicity import font_missing_text, roll_publicity_text

    ctx = _context()
    _ = ctx._
    i18n = build_i18n(ctx.settings.default_locale)

    async def main() -> None:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            with i18n.context(), i18n.use_locale(ctx.settings.default_locale):
                text = roll_publicity_text(place.name)
            async with sessions() as session:
                outcome = await publish_roll(
                    session,
                    me=None,
                    village_id=place.id,
                    text=text,
                    render=notice_renderer(i18n, village_name=place.name, zone=ctx.settings.zone),
                    out_dir=ctx.settings.data_dir / "publicity",
                    zone=ctx.settings.zone,
                    default_locale=ctx.settings.default_locale,
                    now=datetime.now(UTC),
                    draft_key=uuid.uuid4().hex,
                )
            if outcome.refusal is PublicityRefusal.EMPTY_ROLL:
                ctx.fail(_("The roll of {village} has no registered voters yet.", village=place.name))
            if outcome.refusal is PublicityRefusal.FONT_MISSING:
                with i18n.context(), i18n.use_locale(ctx.settings.default_locale):
                    ctx.fail(font_missing_text())
            if outcome.notice_refusal is not None:
                with i18n.context(), i18n.use_locale(ctx.settings.default_locale):
                    ctx.fail(refusal_text(outcome.notice_refusal))
            assert outcome.plist is not None and outcome.pdf_path is not None
            ctx.say(
                _(
                    "Published. Fingerprint of the list: {fingerprint}. Print it on the paper copy too.",
                    fingerprint=outcome.plist.fingerprint(),
                )
            )
            ctx.say(
                _("PDF: {pdf}; spreadsheet: {xlsx}", pdf=str(outcome.pdf_path), xlsx=str(outcome.xlsx_path))
            )

    _run(ctx, main)

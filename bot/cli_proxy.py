"""`cunmin proxy list|publish --election ID`: the proxy-vote authorizations from the shell.

`list` prints the ballot-issuing roster (each holder with the principals whose ballots they collect)
and the requests still under way; `publish` publishes the approved ones as a publicity list with PDF,
spreadsheet and fingerprint, as the committee's /proxies does in chat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot import proxy_text
from bot.cli_roll import _console, _context, _database, _row, _run, _table
from bot.rules.policy import Relationship
from bot.services import proxies as proxies_service
from bot.services.proxies import FlowRefusal, ProxyResult
from storage.models import Village

proxy_app = typer.Typer(
    help="Proxy votes (委托投票): the roster and the published list.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(proxy_app, name="proxy")


@proxy_app.command("list")
def proxy_list(election: Annotated[int, typer.Option("--election", help="The election's number.")]) -> None:
    """The ballot-issuing roster of approved proxies, then the requests still under way."""
    ctx = _context()
    _ = ctx._

    async def main() -> tuple[proxies_service.BallotRoster, proxies_service.PendingProxies]:
        async with _database(ctx) as sessions, sessions() as session:
            roster = await proxies_service.ballot_roster(session, None, election)
            pending = await proxies_service.pending_proxies(session, None, election)
            return roster, pending

    roster, pending = _run(ctx, main)
    if roster.refusal is FlowRefusal.UNKNOWN_ELECTION:
        ctx.fail(_("There is no election {id}.", id=election))
    table = _table(
        _("Ballot roster of proxy votes:"),
        _("Proxy holder"),
        _("Principal"),
        _("Relationship"),
        _("Verification code"),
    )
    for holder in roster.holders:
        for principal in holder.principals:
            name = (
                principal.name
                if principal.valid
                else f"{principal.name} {_('(not on the published list: does not count)')}"
            )
            _row(
                table,
                f"{holder.name} ({holder.group or '—'})",
                name,
                proxy_text.relation_label(principal.relationship, _),
                principal.verification_code,
            )
    _console().print(table)
    if roster.take_back_voter_cards:
        ctx.say(_("Take back the principals' voter cards when their ballots are handed out."))
    waiting = [line for line in pending.lines if line.authorization.status != "approved"]
    if waiting:
        under_way = _table(None, _("No."), _("Principal"), _("Proxy holder"), _("Relationship"))
        for line in waiting:
            row = line.authorization
            relation = proxy_text.relation_label(Relationship(row.relationship), _)
            _row(
                under_way,
                row.id,
                line.principal,
                line.holder,
                f"{relation}: {proxy_text.status_name(row.status, _)}",
            )
        _console().print(under_way)


@proxy_app.command("publish")
def proxy_publish(
    election: Annotated[int, typer.Option("--election", help="The election's number.")],
) -> None:
    """Publish the approved proxies to every linked villager, with PDF, spreadsheet and fingerprint."""
    from bot.i18n import build_i18n  # aiogram: only the commands that render chat messages need it
    from handlers.notice_render import notice_renderer

    ctx = _context()
    _ = ctx._
    i18n = build_i18n(ctx.settings.default_locale)

    async def main() -> proxies_service.ProxyListOutcome:
        async with _database(ctx) as sessions, sessions() as session:
            found = await proxies_service.pending_proxies(session, None, election)
            if found.election is None:
                ctx.fail(_("There is no election {id}.", id=election))
            village = await session.get(Village, found.election.village_id)
            await session.commit()
            assert village is not None
            return await proxies_service.publish_proxy_list(
                session,
                None,
                election,
                words=proxy_text.list_words(village.name, _),
                render=notice_renderer(i18n, village_name=village.name, zone=ctx.settings.zone),
                out_dir=ctx.settings.data_dir / "publicity",
                now=datetime.now(UTC),
                zone=ctx.settings.zone,
                default_locale=ctx.settings.default_locale,
            )

    outcome = _run(ctx, main)
    if outcome.refusal is not None:
        ctx.fail(proxy_text.refusal_sentence(ProxyResult(refusal=outcome.refusal), _))
    assert outcome.plist is not None
    ctx.say(
        _(
            "Published. Fingerprint of the proxy list: {fingerprint}. Print it on the paper copy too.",
            fingerprint=outcome.plist.fingerprint(),
        )
    )
    ctx.say(_("PDF: {pdf}; spreadsheet: {xlsx}", pdf=str(outcome.pdf_path), xlsx=str(outcome.xlsx_path)))

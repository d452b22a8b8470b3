"""`cunmin audit verify` and `cunmin audit export`: the township checks the committee's log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_roll import _context, _database, _run, _village
from bot.cli_text import Translate
from bot.files.audit import AuditSheetRow, write_audit
from bot.rules.audit_chain import BrokenLink, BrokenReason
from bot.services import audit as audit_service

audit_app = typer.Typer(help="The hash-chained log of the committee's actions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def broken_sentence(broken: BrokenLink, _: Translate) -> str:
    match broken.reason:
        case BrokenReason.SEQ_GAP:
            return _(
                "Entry {seq} is not where the chain expects entry {expected}: an entry is missing or was "
                "added.",
                seq=broken.seq,
                expected=broken.expected,
            )
        case BrokenReason.PREV_HASH_MISMATCH:
            return _(
                "Entry {seq} does not point at the entry before it: the one before was changed or removed.",
                seq=broken.seq,
            )
        case BrokenReason.HASH_MISMATCH:
            return _("Entry {seq} was changed after it was written.", seq=broken.seq)


VillageOption = Annotated[str, typer.Option("--village", help="The village's name, e.g. 青山村.")]
TownshipOption = Annotated[
    str | None, typer.Option("--township", help="The township, when two villages share the name.")
]


@audit_app.command("verify")
def audit_verify(village: VillageOption, township: TownshipOption = None) -> None:
    """Recompute the village's hash chain and name the first entry that does not fit."""
    ctx = _context()
    _ = ctx._

    async def main() -> audit_service.AuditVerification:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            async with sessions() as session:
                return await audit_service.verify_audit(session, place.id)

    outcome = _run(ctx, main)
    assert outcome.village is not None
    if outcome.broken is not None:
        ctx.fail(
            _("The log of {village} is broken.", village=outcome.village.name)
            + " "
            + broken_sentence(outcome.broken, _)
        )
    ctx.say(
        _(
            "The log of {village} is intact: {entries} entries, each linked to the one before.",
            village=outcome.village.name,
            entries=outcome.entries,
        )
    )


@audit_app.command("export")
def audit_export(
    village: VillageOption,
    out: Annotated[Path, typer.Option("--out", help="Where to write it: a .xlsx or .csv file.")],
    township: TownshipOption = None,
) -> None:
    """Write the village's whole log for the township, oldest entry first."""
    ctx = _context()
    _ = ctx._
    if out.suffix.lower() not in (".xlsx", ".csv"):
        ctx.fail(_("The file name must end in .xlsx or .csv."))

    async def main() -> tuple[str, list[audit_service.AuditRow]]:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            async with sessions() as session:
                found = await audit_service.audit_rows(session, place.id)
            assert found is not None
            return found[0].name, found[1]

    name, rows = _run(ctx, main)
    headers = (
        _("No."),
        _("Time (UTC)"),
        _("Who"),
        _("Action"),
        _("Details"),
        _("Hash of the previous entry"),
        _("Hash"),
    )
    write_audit(
        out,
        headers,
        [AuditSheetRow(r.seq, r.at, r.actor, r.action, r.details, r.prev_hash, r.hash) for r in rows],
    )
    ctx.say(
        _(
            "Wrote {entries} entries of the log of {village} to {path}.",
            entries=len(rows),
            village=name,
            path=out,
        )
    )

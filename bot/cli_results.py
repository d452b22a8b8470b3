"""`cunmin results import`: the paper count of the formal vote from a spreadsheet, as a draft that a
committee member then confirms in chat (/count); the shell cannot confirm its own entry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_roll import _context, _run
from bot.cli_text import Translate
from bot.database import prepare_database
from bot.election_text import position_name
from bot.files.results_sheet import CellProblem, ResultsSheet, SheetProblem, read_results_sheet
from bot.files.tally import TallyFileProblem
from bot.results_text import tally_problem_sentence
from bot.rules.fingerprint import format_fingerprint
from bot.rules.results import ElectionRound
from bot.services import results as results_service
from storage.db import create_engine, create_session_factory

results_app = typer.Typer(help="Results of the formal vote.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(results_app, name="results")


def sheet_problem_sentence(problem: SheetProblem, _: Translate) -> str:
    match problem.problem:
        case CellProblem.MISSING:
            return _("Row {row}, {column}: empty.", row=problem.row, column=problem.column)
        case CellProblem.NOT_A_NUMBER:
            return _(
                "Row {row}, {column}: “{value}” is not a whole number.",
                row=problem.row,
                column=problem.column,
                value=problem.value,
            )
        case CellProblem.BALLOTS_DIFFER:
            return _(
                "Row {row}: the ballots of {position} differ from its first row; write them the same on "
                "every row of the position.",
                row=problem.row,
                position=problem.value,
            )


def file_sentence(sheet: ResultsSheet, _: Translate) -> str:
    match sheet.file_problem:
        case TallyFileProblem.TOO_LARGE:
            return _("The file is too large (at most 10 MB).")
        case TallyFileProblem.NOT_A_SPREADSHEET | TallyFileProblem.UNREADABLE:
            return _("The file is not an Excel workbook (.xlsx) that can be read.")
        case TallyFileProblem.EMPTY:
            return _("The file has no counts in it.")
        case TallyFileProblem.TOO_MANY_ROWS:
            return _("The file has too many rows.")
        case TallyFileProblem.MISSING_COLUMNS:
            return _(
                "Columns missing: {columns}. Needed: 职位, 发出选票, 收回选票, 有效票, 无效票, 姓名, 票数 "
                "(另选 optional).",
                columns=", ".join(f.value for f in sheet.missing),
            )
        case None:
            return ""


def refusal_sentences(outcome: results_service.ResultsOutcome, _: Translate) -> list[str]:
    where = position_name(outcome.position, _) if outcome.position else ""
    names = "、".join(outcome.names)
    match outcome.refusal:
        case results_service.ResultsRefusal.UNKNOWN_ELECTION:
            return [_("There is no such election.")]
        case results_service.ResultsRefusal.NO_CANDIDATES:
            return [_("The formal candidate list of this election has not been published yet.")]
        case results_service.ResultsRefusal.MISSING_POSITION | results_service.ResultsRefusal.NO_POSITIONS:
            return [_("The count of {position} is missing.", position=where)]
        case results_service.ResultsRefusal.NOT_A_CANDIDATE:
            return [
                _(
                    "{position}: {names} is not on the formal candidate list. Mark a name written in by "
                    "voters in the 另选 column.",
                    position=where,
                    names=names,
                )
            ]
        case results_service.ResultsRefusal.DUPLICATE_NAME:
            return [_("{position}: {names} is written twice.", position=where, names=names)]
        case results_service.ResultsRefusal.NO_SECOND_ROUND:
            return [_("No published first round left a seat open: there is no second round to count.")]
        case results_service.ResultsRefusal.PRESENT_REQUIRED:
            return [_("A party election needs --present: the members present.")]
        case results_service.ResultsRefusal.TALLY_INCONSISTENT:
            return [_("{position}: the numbers do not add up:", position=where)] + [
                "  " + tally_problem_sentence(p, _) for p in outcome.problems
            ]
        case _:
            return [_("The count was refused ({reason}).", reason=str(outcome.refusal))]


@results_app.command("import")
def results_import(
    file: Annotated[
        Path,
        typer.Argument(help="The count (.xlsx): 职位, 发出选票, 收回选票, 有效票, 无效票, 姓名, 票数, 另选."),
    ],
    election: Annotated[int, typer.Option("--election", help="The election's number.")],
    present: Annotated[
        int | None, typer.Option("--present", help="Party elections: the members present.")
    ] = None,
    second_round: Annotated[
        bool, typer.Option("--second-round", help="The count of the second round (另行选举).")
    ] = False,
) -> None:
    """Enter the count of the formal vote as a draft; a committee member confirms it in chat (/count)."""
    ctx = _context()
    _ = ctx._
    if not file.exists():
        ctx.fail(_("There is no file {path}.", path=file))
    sheet = read_results_sheet(file)
    if sheet.file_problem is not None:
        ctx.fail(file_sentence(sheet, _))
    if sheet.problems:
        ctx.fail("\n".join(sheet_problem_sentence(p, _) for p in sheet.problems))
    counts = [
        results_service.SheetCount(
            p.position,
            *p.ballots,
            votes=[results_service.VoteLine(v.name, v.votes, v.write_in) for v in p.votes],
        )
        for p in sheet.positions
    ]

    async def main() -> results_service.ResultsOutcome | str:
        url = ctx.settings.resolved_database_url
        engine = create_engine(url)
        try:
            await prepare_database(engine, url)
            async with create_session_factory(engine)() as session:
                return await results_service.import_results(
                    session,
                    election,
                    counts,
                    present=present,
                    round_=ElectionRound.SECOND if second_round else ElectionRound.FIRST,
                    now=datetime.now(UTC),
                )
        finally:
            await engine.dispose()

    outcome = _run(ctx, main)
    if isinstance(outcome, str):
        ctx.fail(_("This election fills no position “{position}”.", position=outcome))
    if outcome.refusal is not None or outcome.entry is None:
        ctx.fail("\n".join(refusal_sentences(outcome, _)))
    ctx.say(
        _(
            "Entered as version {version} of the count (a draft). Fingerprint: {fingerprint}. A member of "
            "the election committee must now confirm it in chat: /count.",
            version=outcome.entry.version,
            fingerprint=format_fingerprint(outcome.entry.fingerprint),
        )
    )

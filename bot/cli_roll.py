"""`cunmin village`, `cunmin roll`, `cunmin committee` and `cunmin invite`: the township's side.

Everything printed goes through gettext in the deployment's default locale (CUNMIN_DEFAULT_LOCALE).
A refusal exits with code 1 and says what to do; a broken setting exits with code 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bot.cli_text import (
    Translate,
    field_name,
    file_problem_sentence,
    import_refusal_sentence,
    invite_refusal_sentence,
    join,
    lookup_sentence,
    notice_sentence,
    province_name,
    role_name,
    role_refusal_sentence,
    row_problem_sentence,
    translator,
    village_refusal_sentence,
)
from bot.config import BOT_USERNAME_SHAPE, Settings, SettingsError, load_settings
from bot.database import prepare_database
from bot.files.invites import write_invites_xlsx
from bot.files.roll import RollReading, RowProblem, phone_as_written, read_roll, write_roll_xlsx
from bot.phones import normalize_phone
from bot.services import invites as invites_service
from bot.services import roles as roles_service
from bot.services import roll as roll_service
from bot.services import villages as villages_service
from bot.services.identity import RoleName
from storage.db import SessionFactory, create_engine, create_session_factory
from storage.models import Role, Village
from storage.repositories import roll as roll_repo
from storage.types import utcnow

village_app = typer.Typer(help="Villages served by this deployment.", no_args_is_help=True)
roll_app = typer.Typer(help="A village's voter roll: import from and export to Excel.", no_args_is_help=True)
committee_app = typer.Typer(
    help="Election committee, supervision committee and observers of a village.", no_args_is_help=True
)
invite_app = typer.Typer(help="Invitation links for people on a roll.", no_args_is_help=True)

# Long lists are cut in the terminal: the first ones are enough to see what to fix.
SHOWN_PROBLEMS = 200
SHOWN_PEOPLE = 50

_T = TypeVar("_T")


def register(app: typer.Typer) -> None:
    app.add_typer(village_app, name="village")
    app.add_typer(roll_app, name="roll")
    app.add_typer(committee_app, name="committee")
    app.add_typer(invite_app, name="invite")


@dataclass(frozen=True)
class _Context:
    settings: Settings
    _: Translate

    def say(self, sentence: str) -> None:
        typer.echo(sentence)

    def fail(self, sentence: str, code: int = 1) -> NoReturn:
        typer.secho(sentence, err=True, fg=typer.colors.RED)
        raise typer.Exit(code=code)


def _context() -> _Context:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    return _Context(settings, translator(settings.default_locale))


def _run(ctx: _Context, main: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    try:
        return asyncio.run(main())
    except SettingsError as exc:
        ctx.fail(str(exc), code=2)


@asynccontextmanager
async def _database(ctx: _Context) -> AsyncIterator[SessionFactory]:
    url = ctx.settings.resolved_database_url
    engine = create_engine(url)
    try:
        await prepare_database(engine, url)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _village(ctx: _Context, sessions: SessionFactory, name: str, township: str | None) -> Village:
    async with sessions() as session:
        lookup = await villages_service.locate_village(session, name, township=township)
    if lookup.village is None:
        ctx.fail(lookup_sentence(lookup, ctx._, name=name))
    return lookup.village


def _table(title: str | None, *headers: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _row(table: Table, *cells: object) -> None:
    # Text, not markup: a name like "[李]" must print as written.
    table.add_row(*(Text("" if cell is None else str(cell)) for cell in cells))


def _console() -> Console:
    return Console(highlight=False)


# --- village -------------------------------------------------------------------------------------


@village_app.command("add")
def village_add(
    name: Annotated[str, typer.Argument(help="The village's name, e.g. 东山村.")],
    township: Annotated[str, typer.Option("--township", help="The township (乡镇) it belongs to.")],
    province: Annotated[
        str, typer.Option("--province", help="Whose election rules apply: NATIONAL, BJ, SH, ZJ or HN.")
    ],
    county: Annotated[str | None, typer.Option("--county", help="The county (县/区).")] = None,
    contact: Annotated[
        str | None,
        typer.Option("--contact", help='Whom villagers can call, e.g. "村委会 0571-12345678".'),
    ] = None,
) -> None:
    """Add a village."""
    ctx = _context()
    _ = ctx._

    async def main() -> villages_service.VillageOutcome:
        async with _database(ctx) as sessions, sessions() as session:
            return await villages_service.add_village(
                session, name=name, township=township, province=province, county=county,
                committee_contact=contact,
            )  # fmt: skip

    outcome = _run(ctx, main)
    if outcome.village is None:
        assert outcome.refusal is not None
        ctx.fail(
            village_refusal_sentence(
                outcome.refusal, _, name=villages_service.clean_name(name),
                township=villages_service.clean_name(township),
            )
        )  # fmt: skip
    village = outcome.village
    ctx.say(
        _(
            "Added {village} in {township} (election rules: {rules}).",
            village=village.name,
            township=village.township,
            rules=province_name(village.province, _),
        )
    )


@village_app.command("list")
def village_list() -> None:
    """List the villages, with how many people are on each roll."""
    ctx = _context()
    _ = ctx._

    async def main() -> list[villages_service.VillageSummary]:
        async with _database(ctx) as sessions, sessions() as session:
            return await villages_service.list_villages(session)

    villages = _run(ctx, main)
    if not villages:
        ctx.say(_("No villages yet. Add one with `cunmin village add NAME --township T --province ZJ`."))
        return
    table = _table(
        None, _("Village"), _("Township"), _("County"), _("Election rules"), _("On the roll"),
        _("Using the bot"),
    )  # fmt: skip
    for summary in villages:
        village = summary.village
        rules = province_name(village.province, _)
        _row(
            table, village.name, village.township, village.county or "", rules, summary.people, summary.bound
        )
    _console().print(table)


# --- roll ----------------------------------------------------------------------------------------

VillageOption = Annotated[str, typer.Option("--village", help="The village's name.")]
TownshipOption = Annotated[
    str | None, typer.Option("--township", help="The township, when several villages have that name.")
]


def _read_with_progress(ctx: _Context, path: Path, *, election_year: int, this_year: int) -> RollReading:
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(ctx._("Reading {file}", file=path.name), total=None)

        def advance(done: int, expected: int | None) -> None:
            progress.update(task, completed=done, total=expected)

        return read_roll(path, election_year=election_year, this_year=this_year, on_progress=advance)


def _show_problems(ctx: _Context, problems: Sequence[RowProblem], title: str) -> None:
    _ = ctx._
    table = _table(title, _("Row"), _("Column"), _("Problem"))
    for problem in problems[:SHOWN_PROBLEMS]:
        _row(table, problem.row_number, problem.column or "", row_problem_sentence(problem, _))
    _console().print(table)
    if len(problems) > SHOWN_PROBLEMS:
        ctx.say(_("({count} more not shown.)", count=len(problems) - SHOWN_PROBLEMS))


def _show_report(
    ctx: _Context, outcome: roll_service.RollImportOutcome, reading: RollReading, year: int
) -> None:
    _ = ctx._
    console = _console()
    assert outcome.village is not None
    summary = _table(_("Roll of {village}", village=outcome.village.name), _("What"), _("People"))
    _row(summary, _("Added"), outcome.added)
    _row(summary, _("Changed"), len(outcome.changed))
    _row(summary, _("Back on the roll"), len(outcome.returned))
    _row(summary, _("Removed (kept in the records, not deleted)"), len(outcome.removed))
    _row(summary, _("Unchanged"), outcome.unchanged)
    console.print(summary)
    if outcome.groups_added:
        ctx.say(_("New villagers' groups: {groups}.", groups=join(_, list(outcome.groups_added))))

    changes = [*outcome.returned, *outcome.changed]
    if changes:
        table = _table(_("Changed"), _("Row"), _("Name"), _("What changed"))
        for change in changes[:SHOWN_PEOPLE]:
            what = [field_name(roll_field, _) for roll_field in change.fields]
            if change in outcome.returned:
                what.insert(0, _("back on the roll"))
            _row(table, change.row_number, change.name, join(_, what))
        console.print(table)
        if len(changes) > SHOWN_PEOPLE:
            ctx.say(_("({count} more not shown.)", count=len(changes) - SHOWN_PEOPLE))
    if outcome.removed:
        names = [person.name for person in outcome.removed[:SHOWN_PEOPLE]]
        ctx.say(_("Not in the file, so removed from the roll: {names}.", names=join(_, names)))
        if len(outcome.removed) > SHOWN_PEOPLE:
            ctx.say(_("({count} more not shown.)", count=len(outcome.removed) - SHOWN_PEOPLE))
    for notice in reading.notices[:SHOWN_PEOPLE]:
        ctx.say(
            _(
                "Row {row}: {sentence}",
                row=notice.row_number,
                sentence=notice_sentence(notice, _, election_year=year),
            )
        )
    if reading.ignored_columns:
        ctx.say(_("These columns were not read: {columns}.", columns=join(_, list(reading.ignored_columns))))
    total = outcome.added + len(outcome.changed) + len(outcome.returned) + outcome.unchanged
    ctx.say(_("People on the roll of {village} now: {count}.", village=outcome.village.name, count=total))


@roll_app.command("import")
def roll_import(
    file: Annotated[Path, typer.Argument(help="The roll: .xlsx or .csv (UTF-8 or GBK).")],
    village: VillageOption,
    township: TownshipOption = None,
    election_year: Annotated[
        int | None,
        typer.Option("--election-year", help="Who is 18 is counted in this year (default: this year)."),
    ] = None,
) -> None:
    """Import a village's whole roll: all of it, or nothing when any row has a problem."""
    ctx = _context()
    _ = ctx._
    if not file.is_file():
        ctx.fail(_("There is no file {file}.", file=str(file)))
    this_year = datetime.now(ctx.settings.zone).year
    year = election_year or this_year

    async def main() -> tuple[RollReading, roll_service.RollImportOutcome | None]:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            reading = _read_with_progress(ctx, file, election_year=year, this_year=this_year)
            if not reading.ok:
                return reading, None
            async with sessions() as session:
                assert place.id is not None
                outcome = await roll_service.import_roll(
                    session, place.id, reading.rows, now=utcnow(), headers=reading.headers
                )
            return reading, outcome

    reading, outcome = _run(ctx, main)
    if reading.file_problem is not None:
        ctx.fail(file_problem_sentence(reading, _))
    if outcome is None:
        _show_problems(ctx, reading.problems, _("Problems in {file}", file=file.name))
        ctx.fail(import_refusal_sentence(roll_service.RollImportRefusal.ROW_PROBLEMS, _))
    if outcome.refusal is not None:
        if outcome.problems:
            _show_problems(ctx, outcome.problems, _("Problems in {file}", file=file.name))
        ctx.fail(import_refusal_sentence(outcome.refusal, _))
    _show_report(ctx, outcome, reading, year)


@roll_app.command("export")
def roll_export(
    village: VillageOption,
    out: Annotated[Path, typer.Option("--out", help="The Excel file to write (.xlsx).")],
    township: TownshipOption = None,
) -> None:
    """Write a village's roll to Excel, in the format the import reads."""
    ctx = _context()
    _ = ctx._
    if out.suffix.lower() != ".xlsx":
        ctx.fail(_("The file to write must end in .xlsx."))

    async def main() -> tuple[Village, list[roll_repo.RollEntry]]:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            async with sessions() as session:
                return place, await roll_service.list_roll(session, place.id)

    place, entries = _run(ctx, main)
    count = write_roll_xlsx(out, entries)
    ctx.say(
        _(
            "Wrote the roll of {village} to {file} (people on it: {count}).",
            count=count,
            village=place.name,
            file=str(out),
        )
    )


# --- committee -----------------------------------------------------------------------------------

RoleOption = Annotated[RoleName, typer.Option("--role", help="committee, supervisor or observer.")]


def _change_role(phone: str, village: str, township: str | None, role: RoleName, *, grant: bool) -> None:
    ctx = _context()
    _ = ctx._

    async def main() -> tuple[Village, roles_service.RoleOutcome]:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            async with sessions() as session:
                change = roles_service.grant_role if grant else roles_service.revoke_role
                return place, await change(session, place.id, phone, role)

    place, outcome = _run(ctx, main)
    shown = phone_as_written(outcome.phone) if outcome.phone else phone
    if outcome.refusal is not None:
        ctx.fail(role_refusal_sentence(outcome, _, phone=shown, village=place.name))
    if grant:
        ctx.say(
            _(
                "{phone} is now {role} in {village}. The rights come with the bot once that phone's "
                "owner shares their number with it.",
                phone=shown,
                role=role_name(role, _),
                village=place.name,
            )
        )
    else:
        ctx.say(
            _(
                "{phone} is no longer {role} in {village}.",
                phone=shown,
                role=role_name(role, _),
                village=place.name,
            )
        )


@committee_app.command("grant")
def committee_grant(
    phone: Annotated[str, typer.Argument(help="The person's mobile number.")],
    village: VillageOption,
    role: RoleOption,
    township: TownshipOption = None,
) -> None:
    """Give a phone number a role in a village."""
    _change_role(phone, village, township, role, grant=True)


@committee_app.command("revoke")
def committee_revoke(
    phone: Annotated[str, typer.Argument(help="The person's mobile number.")],
    village: VillageOption,
    role: RoleOption,
    township: TownshipOption = None,
) -> None:
    """Take a role away from a phone number."""
    _change_role(phone, village, township, role, grant=False)


@committee_app.command("list")
def committee_list(village: VillageOption, township: TownshipOption = None) -> None:
    """List who holds which role in a village."""
    ctx = _context()
    _ = ctx._

    async def main() -> tuple[Village, list[Role]]:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            async with sessions() as session:
                return place, await roles_service.list_roles(session, place.id)

    place, roles = _run(ctx, main)
    if not roles:
        ctx.say(_("Nobody has a role in {village} yet.", village=place.name))
        return
    table = _table(_("Roles in {village}", village=place.name), _("Phone"), _("Role"), _("Since"))
    zone = ctx.settings.zone
    for held in roles:
        since = held.granted_at.astimezone(zone).strftime("%Y-%m-%d")
        _row(table, phone_as_written(held.phone), role_name(RoleName(held.role), _), since)
    _console().print(table)


# --- invite --------------------------------------------------------------------------------------


def _bot_username(ctx: _Context, given: str | None) -> str:
    if given is not None:
        username = given.strip().removeprefix("@")
        if not BOT_USERNAME_SHAPE.match(username):
            ctx.fail(_bot_username_sentence(ctx._, given), code=2)
        return username
    if ctx.settings.bot_username is None:
        ctx.fail(
            ctx._("The bot's username is not known: give it with --bot-username or set CUNMIN_BOT_USERNAME."),
            code=2,
        )
    return ctx.settings.bot_username


def _bot_username_sentence(_: Translate, given: str) -> str:
    return _("“{value}” is not a bot username: it has 5 to 32 letters, digits or _.", value=given)


@invite_app.command("create")
def invite_create(
    village: VillageOption,
    township: TownshipOption = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Invite the person with this phone.")] = None,
    all_unbound: Annotated[
        bool, typer.Option("--all-unbound", help="Invite everyone who does not use the bot yet.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --all-unbound: the Excel file to print.")
    ] = None,
    bot_username: Annotated[
        str | None, typer.Option("--bot-username", help="The bot's username (default: CUNMIN_BOT_USERNAME).")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=365, help="How long the links work.")] = 30,
) -> None:
    """Make single-use invitation links that bind a person's Telegram to their place on the roll."""
    ctx = _context()
    _ = ctx._
    if (phone is None) == (not all_unbound):
        ctx.fail(_("Give either --phone or --all-unbound."), code=2)
    if all_unbound and (out is None or out.suffix.lower() != ".xlsx"):
        ctx.fail(_("With --all-unbound, give --out with the Excel file (.xlsx) to write."), code=2)
    username = _bot_username(ctx, bot_username)
    ttl = timedelta(days=days)
    zone = ctx.settings.zone

    def until(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d")

    if phone is not None:

        async def one() -> tuple[Village, invites_service.InviteOutcome]:
            async with _database(ctx) as sessions:
                place = await _village(ctx, sessions, village, township)
                assert place.id is not None
                async with sessions() as session:
                    return place, await invites_service.invite_person(
                        session, place.id, phone, now=utcnow(), ttl=ttl
                    )

        place, outcome = _run(ctx, one)
        if outcome.invite is None:
            assert outcome.refusal is not None
            shown = phone_as_written(normalize_phone(phone)) or phone
            ctx.fail(invite_refusal_sentence(outcome.refusal, _, phone=shown, village=place.name))
        invite = outcome.invite
        ctx.say(
            _(
                "Invitation for {name} ({group}), for one use, until {date}:",
                name=invite.person.name,
                group=invite.group or _("no group"),
                date=until(invite.expires_at),
            )
        )
        ctx.say(invites_service.invite_link(username, invite.code))
        return

    assert out is not None

    async def everyone() -> tuple[Village, list[invites_service.IssuedInvite]]:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, village, township)
            assert place.id is not None
            async with sessions() as session:
                return place, await invites_service.invite_unbound(session, place.id, now=utcnow(), ttl=ttl)

    place, issued = _run(ctx, everyone)
    if not issued:
        ctx.say(
            _(
                "Everyone on the roll of {village} already uses the bot: no invitations were made.",
                village=place.name,
            )
        )
        return
    rows = [
        (
            invite.person.name,
            invite.group or "",
            invites_service.invite_link(username, invite.code),
            until(invite.expires_at),
        )
        for invite in issued
    ]
    write_invites_xlsx(
        out,
        rows,
        headers=(_("Name"), _("Villagers' group"), _("Invitation link"), _("Valid until")),
        sheet_title=_("Invitations"),
    )
    ctx.say(
        _(
            "Wrote the invitations for {village} to {file} (people invited: {count}). Each link works "
            "once, until {date}; hand each person their own.",
            count=len(issued),
            village=place.name,
            file=str(out),
            date=until(issued[0].expires_at),
        )
    )

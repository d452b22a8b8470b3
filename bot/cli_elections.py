"""`cunmin election create|show|open` and `cunmin tally import|roster|show`: elections from the shell.

An election is described in a TOML file (docs/election-format.md, examples/election.toml); paper
recommendation counts come from the committee's Excel sheet. Refusals exit with code 1 and name
every problem (with its row, or the law it would break); nothing is stored half-way.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer

from bot import election_text as words
from bot.cli_roll import _console, _Context, _context, _database, _row, _run, _table, _village
from bot.cli_text import Translate, province_name
from bot.files.roll import group_key
from bot.files.tally import (
    RosterSheet,
    RowT,
    TallyReading,
    read_paper_tally,
    read_trust_tally,
    write_roster_xlsx,
)
from bot.rules.policy import ElectionKind, Position
from bot.rules.schedule import Schedule, Window
from bot.services import elections as elections_service
from bot.services import proxies as proxies_service
from bot.services import recommendations as recommendations_service
from bot.services import trust_votes as trust_service
from storage.repositories import elections as elections_repo

election_app = typer.Typer(
    help="Elections: set up from the legal presets, shown with their sources.", no_args_is_help=True
)
tally_app = typer.Typer(
    help="Recommendation counts: paper meetings in, rosters and the tally out.", no_args_is_help=True
)

_DATE_FIELDS = (
    "election_day",
    "voter_list_published",
    "candidate_list_published",
    "proxy_deadline",
    "proxy_list_published",
    "second_round_day",
)
_WINDOWS = (("recommendation_opens", "recommendation_closes"), ("trust_vote_opens", "trust_vote_closes"))


def register(app: typer.Typer) -> None:
    app.add_typer(election_app, name="election")
    app.add_typer(tally_app, name="tally")


# ------------------------------------------------------------------------------- the TOML file


@dataclass
class ElectionFile:
    village: str = ""
    township: str | None = None
    kind: ElectionKind = ElectionKind.VILLAGE_COMMITTEE
    title: str = ""
    schedule: Schedule | None = None
    seats: dict[Position, int] = field(default_factory=dict)
    overrides: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _moment(value: object, zone: ZoneInfo, *, end_of_day: bool) -> datetime | None:
    """A TOML date is a whole day (its start, or the start of the next day for a closing date);
    a TOML datetime without an offset is village time."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end_of_day else value
        return datetime.combine(day, time(0), tzinfo=zone)
    return None


def read_election_file(path: Path, zone: ZoneInfo, _: Translate) -> ElectionFile:
    """Read the TOML description of an election; every problem in `problems`, translated."""
    out = ElectionFile()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        out.problems.append(_("Cannot read {path} as UTF-8 text.", path=str(path)))
        return out
    except tomllib.TOMLDecodeError as error:
        out.problems.append(_("{path} is not valid TOML: {error}", path=str(path), error=str(error)))
        return out
    for key in ("village", "title", "kind"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            out.problems.append(_("The file needs a “{key}” line (text).", key=key))
    out.village, out.title = str(data.get("village", "")).strip(), str(data.get("title", ""))
    township = data.get("township")
    out.township = township.strip() if isinstance(township, str) and township.strip() else None
    try:
        out.kind = ElectionKind(str(data.get("kind", "")).strip())
    except ValueError:
        kinds = ", ".join(k.value for k in ElectionKind)
        out.problems.append(_("“kind” must be one of: {kinds}.", kinds=kinds))

    dates = data.get("dates", {})
    if not isinstance(dates, Mapping):
        dates = {}
        out.problems.append(_("The [dates] section is missing."))
    values: dict[str, Any] = {}
    for key in _DATE_FIELDS:
        value = dates.get(key)
        if value is None:
            continue
        if isinstance(value, datetime) or not isinstance(value, date):
            out.problems.append(_("[dates] {key} must be a date like 2026-12-20.", key=key))
            continue
        values[key] = value
    if "election_day" not in values:
        out.problems.append(_("[dates] election_day is missing."))
    windows: dict[str, Window | None] = {}
    for opens_key, closes_key in _WINDOWS:
        opens = _moment(dates.get(opens_key), zone, end_of_day=False)
        closes = _moment(dates.get(closes_key), zone, end_of_day=True)
        if (dates.get(opens_key) is None) != (dates.get(closes_key) is None) or (
            dates.get(opens_key) is not None and (opens is None or closes is None)
        ):
            out.problems.append(
                _(
                    "[dates] {opens} and {closes} go together, as dates or times.",
                    opens=opens_key,
                    closes=closes_key,
                )
            )
            continue
        windows[opens_key.removesuffix("_opens")] = Window(opens, closes) if opens and closes else None
    if "election_day" in values:
        out.schedule = Schedule(
            recommendation=windows.get("recommendation"), trust_vote=windows.get("trust_vote"), **values
        )

    seats = data.get("seats", {})
    if not isinstance(seats, Mapping) or not seats:
        out.problems.append(_("The [seats] section is missing: give the seats of each position."))
        seats = {}
    for name, value in seats.items():
        try:
            position = Position(name)
        except ValueError:
            out.problems.append(_("[seats] “{name}” is not a position.", name=name))
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            out.problems.append(_("[seats] {name} must be a whole number.", name=name))
            continue
        out.seats[position] = value
    overrides = data.get("overrides", {})
    if isinstance(overrides, Mapping):
        out.overrides = dict(overrides)
    else:
        out.problems.append(_("[overrides] must be a section of name = value lines."))
    return out


# --------------------------------------------------------------------------------- election


@election_app.command("create")
def election_create(
    file: Annotated[Path, typer.Argument(help="The election described in TOML (docs/election-format.md).")],
) -> None:
    """Create an election (as a draft) from the legal preset of its kind and the village's province."""
    ctx = _context()
    _ = ctx._
    zone = ctx.settings.zone
    described = read_election_file(file, zone, _)
    if described.problems or described.schedule is None:
        ctx.fail("\n".join(described.problems))
    assert described.schedule is not None

    async def main() -> None:
        async with _database(ctx) as sessions:
            place = await _village(ctx, sessions, described.village, described.township)
            assert place.id is not None and described.schedule is not None
            async with sessions() as session:
                outcome = await elections_service.create_election(
                    session,
                    None,
                    village_id=place.id,
                    kind=described.kind,
                    title=described.title,
                    schedule=described.schedule,
                    seats=described.seats,
                    overrides=described.overrides,
                    now=datetime.now(UTC),
                    zone=zone,
                )
            if outcome.refusal is not None or outcome.election is None:
                ctx.fail("\n".join(words.election_refusal_lines(outcome, _)))
            for warning in outcome.warnings:
                ctx.say(words.warning_sentence(warning, _))
            ctx.say(
                _(
                    "Election {id} created for {village}: “{title}” ({kind}). It is being prepared; open "
                    "it with `cunmin election open {id}`. See its rules with `cunmin election show {id}`.",
                    id=outcome.election.id,
                    village=place.name,
                    title=outcome.election.title,
                    kind=words.kind_name(described.kind, _),
                )
            )

    _run(ctx, main)


@election_app.command("show")
def election_show(election_id: Annotated[int, typer.Argument(help="The election's number.")]) -> None:
    """Every number of the election's rules, with the law it comes from."""
    ctx = _context()
    _ = ctx._

    async def main() -> elections_service.ElectionDescription | None:
        async with _database(ctx) as sessions, sessions() as session:
            return await elections_service.describe_election(session, election_id, zone=ctx.settings.zone)

    described = _run(ctx, main)
    if described is None:
        ctx.fail(_("There is no election {id}.", id=election_id))
    election, zone = described.election, ctx.settings.zone
    ctx.say(_("Election {id}: “{title}”", id=election_id, title=election.title))
    ctx.say(
        _(
            "{kind}; {village} ({province} rules); {status}; version {version}",
            kind=words.kind_name(described.kind, _),
            village=described.village.name,
            province=province_name(described.province, _),
            status=words.status_name(election.status, _),
            version=election.version,
        )
    )
    ctx.say(_("Election day: {day}", day=words.local_day(election.election_day, _)))
    window = described.schedule.recommendation
    if window is not None:
        last = (window.closes - timedelta(microseconds=1)).astimezone(zone).date()
        ctx.say(
            _(
                "Recommendations: from {first} to {last} (included)",
                first=words.local_day(window.opens.astimezone(zone).date(), _),
                last=words.local_day(last, _),
            )
        )
    seats = _table(_("Seats"), _("Position"), _("Seats"), _("Candidates"), _("Source"))
    for line in described.seats:
        _row(
            seats,
            words.position_name(line.position, _),
            line.seats,
            words.margin_text(line.margin.value, line.seats, _),
            words.source_text(line.margin.source, _),
        )
    _console().print(seats)
    rules = _table(_("Rules"), _("Rule"), _("Value"), _("Source"), _("Changed"), _("Name in the file"))
    for policy_line in described.lines:
        _row(
            rules,
            words.field_label(policy_line.field, _),
            words.value_text(policy_line.value, _),
            words.source_text(policy_line.source, _),
            "✓" if policy_line.changed else "",
            policy_line.field,
        )
    _console().print(rules)


@election_app.command("open")
def election_open(election_id: Annotated[int, typer.Argument(help="The election's number.")]) -> None:
    """Open a prepared election: villagers can recommend during its recommendation period, and its
    migrant workers are asked how they will take part (the messages go out when the bot runs)."""
    from bot.i18n import build_i18n  # aiogram: only the commands that render chat messages need it
    from handlers.proxy_render import intent_asker

    ctx = _context()
    _ = ctx._
    i18n = build_i18n(ctx.settings.default_locale)

    async def main() -> tuple[elections_service.ElectionOutcome, proxies_service.AskOutcome | None]:
        async with _database(ctx) as sessions, sessions() as session:
            opened = await elections_service.open_election(session, None, election_id, now=datetime.now(UTC))
            if opened.policy is None or not opened.policy.proxy_allowed.value:
                return opened, None
            asked = await proxies_service.ask_migrants(
                session,
                None,
                election_id,
                ask=intent_asker(i18n),
                default_locale=ctx.settings.default_locale,
            )
            return opened, asked

    outcome, asked = _run(ctx, main)
    if outcome.refusal is not None or outcome.election is None:
        ctx.fail("\n".join(words.election_refusal_lines(outcome, _)))
    ctx.say(_("Election {id} is open for recommendations.", id=election_id))
    if asked is not None and asked.refusal is None:
        ctx.say(_("Asked {count} migrant workers how they will take part.", count=asked.asked))
        if asked.unbound:
            ctx.say(_("Not on Telegram yet, please phone them: {names}", names=_(", ").join(asked.unbound)))


# ------------------------------------------------------------------------------------ tally


@tally_app.command("import")
def tally_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="The paper counts (.xlsx): 村民小组, 会议日期, 职位, 轮次, 姓名, 票数, 参会人数."
        ),
    ],
    election: Annotated[int, typer.Option("--election", help="The election's number.")],
) -> None:
    """Import the counts of the groups' paper recommendation meetings: every row, or none."""
    ctx = _context()
    _ = ctx._
    reading = _read_sheet(ctx, file, read_paper_tally)

    async def main() -> recommendations_service.PaperImportOutcome:
        async with _database(ctx) as sessions, sessions() as session:
            return await recommendations_service.import_paper_tally(
                session, election, reading.rows, zone=ctx.settings.zone, now=datetime.now(UTC)
            )

    outcome = _run(ctx, main)
    match outcome.refusal:
        case recommendations_service.PaperImportRefusal.UNKNOWN_ELECTION:
            ctx.fail(_("There is no election {id}.", id=election))
        case recommendations_service.PaperImportRefusal.NO_ROWS:
            ctx.fail(_("The file has no counts in it."))
        case recommendations_service.PaperImportRefusal.PROBLEMS:
            _fail_on_rows(ctx, [words.paper_problem_sentence(p, _) for p in outcome.problems])
        case None:
            ctx.say(
                _(
                    "Imported {rows} counts from {meetings} meetings "
                    "({replaced} of them replace an earlier import).",
                    rows=outcome.imported,
                    meetings=outcome.meetings,
                    replaced=outcome.replaced,
                )
            )


def _read_sheet(ctx: _Context, file: Path, read: Callable[[Path], TallyReading[RowT]]) -> TallyReading[RowT]:
    """The sheet read and checked, or the program stops naming every problem."""
    _ = ctx._
    if not file.is_file():
        ctx.fail(_("There is no file at {path}.", path=str(file)))
    reading = read(file)
    if reading.file_problem is not None:
        ctx.fail(words.tally_file_sentence(reading, _))
    if reading.problems:
        _fail_on_rows(ctx, [words.tally_cell_sentence(issue, _) for issue in reading.problems])
    return reading


def _fail_on_rows(ctx: _Context, lines: list[str]) -> NoReturn:
    _ = ctx._
    ctx.fail(
        "\n".join([*lines, _("Nothing was imported. Correct these rows and import the whole file again.")])
    )


@tally_app.command("import-trust")
def tally_import_trust(
    file: Annotated[
        Path,
        typer.Argument(
            help="The paper trust votes (.xlsx): 村民小组, 会议日期, 姓名, 信任, 不信任, 弃权, 投票人数."
        ),
    ],
    election: Annotated[int, typer.Option("--election", help="The election's number.")],
) -> None:
    """Import the trust votes (两票制) cast on paper at the groups' meetings: every row, or none."""
    ctx = _context()
    _ = ctx._
    reading = _read_sheet(ctx, file, read_trust_tally)

    async def main() -> trust_service.TrustPaperOutcome:
        async with _database(ctx) as sessions, sessions() as session:
            return await trust_service.import_trust_paper(
                session, election, reading.rows, zone=ctx.settings.zone, now=datetime.now(UTC)
            )

    outcome = _run(ctx, main)
    match outcome.refusal:
        case trust_service.TrustPaperRefusal.UNKNOWN_ELECTION:
            ctx.fail(_("There is no election {id}.", id=election))
        case trust_service.TrustPaperRefusal.NOT_TWO_BALLOTS:
            ctx.fail(_("This election has no trust vote."))
        case trust_service.TrustPaperRefusal.NO_CANDIDATES:
            ctx.fail(_("The preliminary candidates have not been published yet."))
        case trust_service.TrustPaperRefusal.NO_ROWS:
            ctx.fail(_("The file has no counts in it."))
        case trust_service.TrustPaperRefusal.PROBLEMS:
            _fail_on_rows(ctx, [words.paper_problem_sentence(p, _) for p in outcome.problems])
        case None:
            ctx.say(
                _(
                    "Imported {rows} counts from {meetings} meetings "
                    "({replaced} of them replace an earlier import).",
                    rows=outcome.imported,
                    meetings=outcome.meetings,
                    replaced=outcome.replaced,
                )
            )


@tally_app.command("roster")
def tally_roster(
    election: Annotated[int, typer.Option("--election", help="The election's number.")],
    group: Annotated[str, typer.Option("--group", help="The villagers' group, e.g. 一组.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the roster (.xlsx).")],
) -> None:
    """The group's voters, marking who already took part by chat: they get no paper form."""
    ctx = _context()
    _ = ctx._

    async def main() -> recommendations_service.Roster | None:
        async with _database(ctx) as sessions, sessions() as session:
            found = await elections_repo.get(session, election)
            groups = await elections_repo.groups(session, found.village_id) if found else []
            await session.commit()
            if found is None:
                ctx.fail(_("There is no election {id}.", id=election))
            match = next((g for g in groups if group_key(g.name) == group_key(group)), None)
            if match is None or match.id is None:
                names = _(", ").join(g.name for g in groups)
                ctx.fail(
                    _(
                        "The village has no villagers' group “{group}”. Its groups: {groups}.",
                        group=group,
                        groups=names,
                    )
                )
            return await recommendations_service.participation_roster(session, election, match.id)

    roster = _run(ctx, main)
    if roster is None:
        ctx.fail(_("There is no election {id}.", id=election))
    write_roster_xlsx(roster_sheet(roster, _, datetime.now(ctx.settings.zone).date()), out)
    ctx.say(
        _(
            "Wrote the roster of {group} to {path}: {voters} voters, "
            "{online} of whom already took part by chat.",
            group=roster.group.name,
            path=str(out),
            voters=len(roster.lines),
            online=sum(1 for line in roster.lines if line.by_chat),
        )
    )


def roster_sheet(roster: recommendations_service.Roster, _: Translate, today: date) -> RosterSheet:
    genders = {"F": _("female"), "M": _("male")}
    headers = [_("No."), _("Name"), _("Gender"), _("Born")]
    headers += [_("Took part by chat: {round}", round=words.round_name(r, _)) for r in roster.rounds]
    if roster.trust_vote:
        headers.append(_("Trust vote by chat"))
    headers.append(_("Signature"))
    rows = []
    for number, line in enumerate(roster.lines, start=1):
        cells = [str(number), line.name, genders.get(line.gender or "", ""), str(line.birth_year or "")]
        cells += [_("yes — no paper form") if r in line.by_chat else "" for r in roster.rounds]
        if roster.trust_vote:
            cells.append(_("yes — no paper ballot") if line.trust_by_chat else "")
        cells.append("")
        rows.append(cells)
    return RosterSheet(
        title=_("Roster for the group meeting: {title}", title=roster.election.title),
        lines=[
            _("{village}, {group}", village=roster.village.name, group=roster.group.name),
            _(
                "Printed on {day}. Who took part by chat does not take part again on paper.",
                day=words.local_day(today, _),
            ),
        ],
        headers=headers,
        rows=rows,
        sheet=roster.group.name,
    )


@tally_app.command("show")
def tally_show(election: Annotated[int, typer.Option("--election", help="The election's number.")]) -> None:
    """The counts per position: chat, paper and total, the rank, and who passes the cut."""
    ctx = _context()
    _ = ctx._

    async def main() -> tuple[recommendations_service.ElectionTally | None, trust_service.TrustTally | None]:
        async with _database(ctx) as sessions, sessions() as session:
            tally = await recommendations_service.tally_election(session, election)
            trust = await trust_service.count_trust_votes(session, election)
            return tally, trust

    tally, trust = _run(ctx, main)
    if tally is None:
        ctx.fail(_("There is no election {id}.", id=election))
    _print_tally(ctx, tally)
    if trust is not None and trust.positions:
        _print_trust(ctx, trust)


def _print_tally(ctx: _Context, tally: recommendations_service.ElectionTally) -> None:
    _ = ctx._
    for r in tally.rounds:
        took_part = tally.participants[r]
        ctx.say(
            _(
                "Taken part in the {round}: {chat} by chat, {paper} on paper",
                round=words.round_name(r, _),
                chat=took_part.chat,
                paper=took_part.paper,
            )
        )
    for p in tally.positions:
        headers = [_("Rank"), _("Name"), _("Villagers' group")]
        for r in tally.rounds:
            headers += [
                _("{round}: chat", round=words.round_name(r, _)),
                _("{round}: paper", round=words.round_name(r, _)),
            ]
        headers += [_("Total"), _("Score"), _("On the list")]
        table = _table(
            _(
                "{position}: {seats} seats, {candidates} on the list",
                position=words.position_name(p.position, _),
                seats=p.seats,
                candidates=p.cut.target,
            ),
            *headers,
        )
        for line in p.lines:
            cells: list[object] = [line.rank, line.name, line.group or ""]
            for r in tally.rounds:
                cells += [line.chat.get(r, 0), line.paper.get(r, 0)]
            cells += [line.all_total, words.score_text(line.score), words.decision_mark(line.decision)]
            _row(table, *cells)
        _console().print(table)
        names = {line.candidate_id: line.name for line in p.lines}
        for sentence in words.cut_problem_sentences(p.position, p.cut, names, _):
            ctx.say(sentence)


def _print_trust(ctx: _Context, tally: trust_service.TrustTally) -> None:
    _ = ctx._
    ctx.say(
        _(
            "Trust vote: {cast} ballots ({chat} by chat, {paper} on paper) of {registered} registered voters",
            cast=tally.ballots_cast,
            chat=tally.chat_ballots,
            paper=tally.paper_ballots,
            registered=tally.registered_voters,
        )
    )
    for p in tally.positions:
        table = _table(
            _(
                "{position}: {seats} seats; trust needed: {threshold}",
                position=words.position_name(p.position, _),
                seats=p.seats,
                threshold=words.threshold_text(p.outcome.threshold.value, _),
            ),
            _("Name"),
            _("Trust: chat"),
            _("Trust: paper"),
            _("No trust"),
            _("Abstain"),
            _("Share"),
            _("Formal candidate"),
        )
        for line in p.outcome.lines:
            chat, paper = tally.chat[line.candidate_id], tally.paper[line.candidate_id]
            share = f"{float(line.share):.1%}" if line.share is not None else "—"
            _row(
                table,
                tally.names.get(line.candidate_id, "?"),
                chat.trust,
                paper.trust,
                chat.no_trust + paper.no_trust,
                chat.abstain + paper.abstain,
                share,
                words.trust_mark(line.decision),
            )
        _console().print(table)
        for sentence in words.trust_problem_sentences(p.position, p.outcome, _):
            ctx.say(sentence)

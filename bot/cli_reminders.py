"""`cunmin reminders settings|plan`: a village's time zone, quiet hours and polling place, and the plan.

The running bot re-reads the plan every few minutes (bot.scheduling.REPLAN_EVERY); these commands
only write to or read the database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Annotated

import typer

from bot.cli_roll import _console, _context, _database, _row, _run, _table, _village
from bot.services.reminders import SettingsRefusal, plan_reminders, set_reminder_settings, village_plan

reminders_app = typer.Typer(help="Reminder waves: quiet hours, time zone, the plan.", no_args_is_help=True)

_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def register(app: typer.Typer) -> None:
    app.add_typer(reminders_app, name="reminders")


def parse_quiet(text: str) -> tuple[time, time] | None:
    """ "21:00-08:00" -> (21:00, 08:00); "00:00-00:00" means no quiet hours."""
    match = _QUIET.match(text)
    if match is None:
        return None
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    return time(h1, m1), time(h2, m2)


@reminders_app.command("settings")
def settings(
    village: Annotated[str, typer.Option(help="The village's name.")],
    township: Annotated[str | None, typer.Option(help="The township, if the village name repeats.")] = None,
    time_zone: Annotated[str | None, typer.Option(help="An IANA time zone, e.g. Asia/Shanghai.")] = None,
    quiet: Annotated[str | None, typer.Option(help="Quiet hours, e.g. 21:00-08:00.")] = None,
    place: Annotated[str | None, typer.Option(help="Where people vote (told on election day).")] = None,
) -> None:
    """Change a village's reminder settings; with no option, show them."""
    ctx = _context()
    _ = ctx._
    hours = parse_quiet(quiet) if quiet is not None else None
    if quiet is not None and hours is None:
        ctx.fail(_("--quiet must look like 21:00-08:00."))

    async def main() -> None:
        async with _database(ctx) as sessions:
            found = await _village(ctx, sessions, village, township)
            assert found.id is not None
            async with sessions() as session:
                outcome = await set_reminder_settings(
                    session,
                    village_id=found.id,
                    time_zone=time_zone,
                    quiet_start=hours[0] if hours else None,
                    quiet_end=hours[1] if hours else None,
                    polling_place=place,
                )
            if outcome is SettingsRefusal.UNKNOWN_ZONE:
                ctx.fail(_("{zone} is not a time zone. Use a name like Asia/Shanghai.", zone=time_zone or ""))
            if isinstance(outcome, SettingsRefusal):
                ctx.fail(_("There is no such village."))
            ctx.say(
                _(
                    "{village}: time zone {zone}, quiet hours {start}-{end}, polling place: {place}.",
                    village=found.name,
                    zone=outcome.time_zone,
                    start=outcome.quiet_start.strftime("%H:%M"),
                    end=outcome.quiet_end.strftime("%H:%M"),
                    place=outcome.polling_place or "-",
                )
            )
            async with sessions() as session:
                await plan_reminders(session, now=datetime.now(UTC))

    _run(ctx, main)


@reminders_app.command("plan")
def plan(
    village: Annotated[str, typer.Option(help="The village's name.")],
    township: Annotated[str | None, typer.Option(help="The township, if the village name repeats.")] = None,
) -> None:
    """Re-plan from the elections' dates and show the village's planned waves."""
    ctx = _context()
    _ = ctx._

    async def main() -> None:
        async with _database(ctx) as sessions:
            found = await _village(ctx, sessions, village, township)
            assert found.id is not None
            async with sessions() as session:
                await plan_reminders(session, now=datetime.now(UTC))
            async with sessions() as session:
                lines = await village_plan(session, found.id, default_locale=ctx.settings.default_locale)
        table = _table(
            _("Planned reminders of {village}", village=found.name), _("When"), _("Wave"), _("Reaches now")
        )
        for line in lines:
            _row(
                table,
                line.wave.due_at.astimezone(line.zone).strftime("%Y-%m-%d %H:%M"),
                line.wave.key,
                line.reach,
            )
        _console().print(table)

    _run(ctx, main)

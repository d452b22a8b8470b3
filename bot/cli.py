"""The `cunmin` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, NoReturn

import typer

from bot.cli_audit import register as register_audit_commands
from bot.cli_elections import register as register_election_commands
from bot.cli_notices import register as register_notice_commands
from bot.cli_proxy import register as register_proxy_commands
from bot.cli_reminders import register as register_reminder_commands
from bot.cli_results import register as register_results_commands
from bot.cli_roll import register as register_roll_commands
from bot.cli_sandbox import register_sandbox_command
from bot.config import Settings, SettingsError, load_settings
from storage.db import create_engine
from storage.migrate import current_revision, upgrade_database

app = typer.Typer(help="Cunmin (村民): village elections in Telegram.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
register_roll_commands(app)
register_notice_commands(app)
register_election_commands(app)
register_reminder_commands(app)
register_proxy_commands(app)
register_sandbox_command(app)
register_audit_commands(app)
register_results_commands(app)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        _fail(str(exc))


def _fail(sentence: str) -> NoReturn:
    typer.secho(sentence, err=True, fg=typer.colors.RED)
    raise typer.Exit(code=2)


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        asyncio.run(main())
    except SettingsError as exc:
        _fail(str(exc))


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def run(
    webhook: Annotated[
        bool, typer.Option("--webhook", help="Serve a webhook instead of long polling.")
    ] = False,
) -> None:
    """Run the bot (long polling by default)."""
    from bot.app import run_polling, run_webhook  # aiogram is heavy: only the bot itself needs it

    settings = _settings()
    _configure_logging(settings)
    _run(lambda: run_webhook(settings) if webhook else run_polling(settings))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest version."""
    settings = _settings()

    async def upgrade() -> None:
        engine = create_engine(settings.resolved_database_url)
        try:
            await upgrade_database(engine)
            typer.echo(f"Database schema is at {await current_revision(engine)}.")
        finally:
            await engine.dispose()

    _run(upgrade)

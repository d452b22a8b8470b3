"""`cunmin sandbox`: the bot, a Telegram emulator and a demo village, with a web chat, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sandbox.web.runtime import Sandbox

__all__ = ["register_sandbox_command"]


def register_sandbox_command(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)


def sandbox(
    port: Annotated[
        int, typer.Option("--port", help="Port of the web page (0: any free port).", min=0, max=65535)
    ] = 8080,
    host: Annotated[str, typer.Option("--host", help="Address the web page listens on.")] = "127.0.0.1",
    people: Annotated[
        int, typer.Option("--people", help="How many villagers the demo village has.", min=20, max=5000)
    ] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Another seed, other villagers.")] = 2026,
    rate_limits: Annotated[
        bool, typer.Option("--rate-limits", help="Enforce Telegram's flood control from the start.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every update the bot handles.")
    ] = False,
) -> None:
    """Try Cunmin in a browser without a Telegram token: emulator, bot, demo village and web chat.

    Everything runs in this one process, on this computer; the database is thrown away on exit.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    began = time.monotonic()
    typer.echo("Starting the Cunmin sandbox (Telegram emulator, bot, demo village)…")
    from sandbox.web.runtime import Sandbox, SandboxOptions  # the bot and aiogram are heavy to import

    options = SandboxOptions(host=host, port=port, people=people, seed=seed, rate_limits=rate_limits)
    try:
        asyncio.run(_serve(Sandbox(options), began))
    except OSError as exc:
        typer.secho(f"The sandbox could not start: {exc}. Try another --port.", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        pass


async def _serve(sandbox: Sandbox, began: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with sandbox:
        village = sandbox.village
        assert village is not None
        typer.echo(
            f"Demo village {village.township}{village.name}: {len(village.people)} villagers "
            f"(ready in {time.monotonic() - began:.1f} s)."
        )
        typer.secho(f"Cunmin sandbox: open {sandbox.url}", bold=True)
        typer.echo("Press Ctrl-C to stop; the sandbox's database is deleted on exit.")
        await stop.wait()
        typer.echo("Stopping…")

"""`cunmin sandbox`: try Cunmin in a browser, with no Telegram token.

One process runs the Bot API emulator, the real bot polling it over HTTP, a throw-away SQLite
database holding a demo village (sandbox/demo.py), and a small web chat client for the emulator
(``app.py``, with its hand-written assets in ``static/``). Start it with :class:`Sandbox`.
"""

from __future__ import annotations

__all__ = ["Sandbox", "SandboxOptions"]

from sandbox.web.runtime import Sandbox, SandboxOptions

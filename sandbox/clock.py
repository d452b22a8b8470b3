"""A virtual clock for the emulator.

Message dates, the 24-hour update retention, the 15-second callback-answer window, webhook retry
backoff and the flood-control token buckets all run on this clock rather than on the wall clock.
Tests can therefore freeze time (so that rate-limit assertions do not depend on how fast the machine
is), jump ahead (``advance(3600)`` to make a reminder due or a callback query stale), or run time
faster than real (``speed=60``) to let a 5,000-recipient broadcast finish in seconds while its pacing
is still checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

__all__ = ["VirtualClock"]


class VirtualClock:
    """Unix time that advances at ``speed`` × real time, plus explicit jumps.

    ``speed=0`` freezes the clock: it then moves only through :meth:`advance`.
    """

    def __init__(self, start: float | None = None, *, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._base = time.time() if start is None else float(start)
        self._mono0 = time.monotonic()
        self._speed = speed
        self._tick = asyncio.Event()

    # ------------------------------------------------------------------------------ reading

    def time(self) -> float:
        """Current virtual Unix time in seconds."""
        return self._base + (time.monotonic() - self._mono0) * self._speed

    def now(self) -> int:
        """Current virtual Unix time as an integer, the form Telegram uses for dates."""
        return int(self.time())

    @property
    def speed(self) -> float:
        return self._speed

    # ------------------------------------------------------------------------------ steering

    def set_speed(self, speed: float) -> None:
        """Change how fast virtual time runs (0 freezes it) without a jump."""
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._base = self.time()
        self._mono0 = time.monotonic()
        self._speed = speed
        self._wake()

    def freeze(self) -> None:
        self.set_speed(0.0)

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` into the future and wake every :meth:`sleep` that is now due."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        self._base += seconds
        self._wake()

    def _wake(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()

    # ------------------------------------------------------------------------------ waiting

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of *virtual* time (ends early when :meth:`advance` jumps past it)."""
        await self.sleep_until(self.time() + seconds)

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until the virtual clock reads ``deadline``."""
        while True:
            remaining = deadline - self.time()
            if remaining <= 0:
                return
            tick = self._tick
            real = remaining / self._speed if self._speed > 0 else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tick.wait(), timeout=real)

"""Read receipts written in batches by a single writer, and the batching it is built on.

Thousands of villagers press "I have read this" within seconds of a notice. One transaction per
press costs more than the rest of the update together (DESIGN.md: one SQLAlchemy-async commit per
update drops webhook throughput to 0.2-0.3 of a bare handler), so presses are recorded together:
one transaction for all the presses that arrived while the previous one was being written. Each
handler awaits its own press's outcome, which exists only once the batch is committed, so nobody
is told "recorded" about a row that was rolled back.

`Batcher` is the general mechanism; the FSM storage and the sender lookup (bot/middlewares.py)
use it for the reads every update makes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from bot.services.notices import ReceiptOutcome, ReceiptPress, record_receipts
from storage.db import SessionFactory

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")

#: Requests per batch at most: well inside SQLite's (32,766) and asyncpg's (32,767) bind parameters.
MAX_BATCH = 500


class Batcher(Generic[RequestT, ResultT]):
    """Runs concurrent requests together, one batch at a time.

    There is no timer: a lone request runs at once, and the requests that arrive while a batch
    runs make up the next batch (at most `max_size`). Under load, batches grow to what arrived
    during the previous one; when it is quiet, nothing waits. `run` gets the requests in arrival
    order and returns one result per request, in the same order. A request starts no earlier
    than its call, so a batch sees everything committed before any of its requests were made.

    If `run` raises, every request of that batch raises the same exception; the next batch is
    tried afresh. A caller cancelled before its batch started is left out of it.
    """

    def __init__(
        self,
        run: Callable[[list[RequestT]], Awaitable[Sequence[ResultT]]],
        *,
        max_size: int = MAX_BATCH,
        name: str = "batcher",
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._run = run
        self._max_size = max_size
        self._name = name
        self._waiting: list[tuple[RequestT, asyncio.Future[ResultT]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def __call__(self, request: RequestT) -> ResultT:
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=self._name)
        return await future

    async def _work(self) -> None:
        while self._waiting:
            # Let the requests already scheduled in this turn of the loop join this batch.
            await asyncio.sleep(0)
            taken, self._waiting = self._waiting[: self._max_size], self._waiting[self._max_size :]
            batch = [(request, future) for request, future in taken if not future.done()]
            if not batch:
                continue
            try:
                results = await self._run([request for request, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{self._name}: {len(results)} results for {len(batch)} requests")
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                for _, future in self._waiting:
                    future.cancel()
                self._waiting = []
                raise
            except Exception as exc:
                log.debug("%s: a batch of %d failed", self._name, len(batch), exc_info=True)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


class ReceiptRecorder:
    """The single writer of "I have read this": one transaction per batch of presses."""

    def __init__(self, sessions: SessionFactory, *, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._batcher: Batcher[ReceiptPress, ReceiptOutcome] = Batcher(
            self._record, max_size=max_batch, name="receipts"
        )

    async def record(self, *, account_id: int, notice_id: int, now: datetime) -> ReceiptOutcome:
        """What `record_receipt` returns, once the batch holding this press is committed."""
        return await self._batcher(ReceiptPress(account_id=account_id, notice_id=notice_id, now=now))

    async def _record(self, presses: list[ReceiptPress]) -> list[ReceiptOutcome]:
        async with self._sessions() as session:
            return await record_receipts(session, presses)

"""The outbox sender: drains delivery rows into Telegram at a pace Telegram accepts, and survives crashes.

Shape (one process, one event loop):

* a dispatcher task claims due rows in batches (committed *before* any request, so a crash can be
  resumed), keeps the global pace and the per-chat pace, and hands rows to
* a fixed pool of worker tasks that make the requests (a pool, not ``asyncio.gather`` over
  thousands of tasks: DESIGN.md measured the pool 2x faster, the cyclic GC walking fewer tasks);
* a settler task writes the outcomes back in batches (one transaction per ``settle_batch``
  results or per ``settle_interval``, never one commit per message);
* a progress task reports each broadcast's counts at most every ``progress_interval`` and once at
  the end, through a hook the composition root wires to the committee member's progress message.

Duplicates: a worker slot is freed only when its outcome is committed, so at any instant at most
``concurrency`` messages are sent-or-being-sent without their outcome on disk. After a crash
those rows are still ``claimed``; ``start()`` puts them back to pending and they are sent again.
That is the only way a villager receives a notice twice, and it is bounded by ``concurrency``.

One sender per bot token: Telegram's limits are per bot, and ``start()`` takes back every claim
(DESIGN.md: a single leader runs the sender when several processes serve the bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import os
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import (
    ForceReply,
    FSInputFile,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.services.outbox import MessagePayload, SendMethod
from storage.db import SessionFactory
from storage.models import DeliveryStatus
from storage.repositories import outbox as outbox_repo
from storage.repositories.outbox import ClaimedDelivery, Settlement

log = logging.getLogger(__name__)

#: "bots are not able to broadcast more than about 30 messages per second" (Bot FAQ, LIMITS.md §1).
FREE_BROADCAST_RATE = 30.0
#: "Enabling paid broadcasts ... allows a bot to broadcast up to 1000 messages per second".
PAID_BROADCAST_RATE = 1000.0
#: "In a single chat, avoid sending more than one message per second."
PER_CHAT_INTERVAL = 1.0


class Clock(Protocol):
    """Unix time and sleeping. Tests pass the emulator's virtual clock to run pacing faster."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


class Pace:
    """The global token bucket; a 429 pauses it for ``retry_after`` (Telegram's flood wait is per bot)."""

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock.time()
        self._paused_until = 0.0

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def pause(self, seconds: float) -> None:
        until = self._clock.time() + seconds
        self._paused_until = max(self._paused_until, until)
        # No burst after the wait: resume at the steady rate, as if the bucket drained.
        self._tokens = 0.0
        self._updated = max(self._updated, self._paused_until)

    async def acquire(self) -> None:
        while True:
            now = self._clock.time()
            if now < self._paused_until:
                await self._clock.sleep(self._paused_until - now)
                continue
            if now > self._updated:
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await self._clock.sleep((1.0 - self._tokens) / self.rate)


@dataclass(frozen=True)
class BroadcastProgress:
    """A broadcast's counts, for the committee member's progress message."""

    broadcast_id: int
    kind: str
    title: str
    total: int
    sent: int
    failed: int
    unreachable: int
    skipped: int
    pending: int
    # Messages per second this sender achieved for the broadcast since it first claimed a row of it.
    rate: float
    finished: bool
    progress_chat_id: int | None
    progress_message_id: int | None
    progress_locale: str | None

    @property
    def undelivered(self) -> int:
        return self.failed + self.unreachable


ProgressHook = Callable[[BroadcastProgress], Awaitable[None]]
# Telegram moved a chat to a new id (a group upgraded to a supergroup): (old chat id, new chat id).
ChatMigratedHook = Callable[[int, int], Awaitable[None]]


@dataclass(slots=True)
class _Outcome:
    row: ClaimedDelivery
    settlement: Settlement


@dataclass(slots=True)
class _Tracker:
    """What this process knows about one broadcast it is sending."""

    first_claim: float
    outstanding: int = 0  # claimed rows not yet settled (or released)
    sent_here: int = 0
    last_report: float = -math.inf


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, math.ceil(value))))


class OutboxSender:
    """Sends pending delivery rows; see the module docstring for the shape and the guarantees.

    ``rate``: messages per second overall (Telegram's free limit is 30; with ``paid_broadcast`` up
    to 1000, and every send carries ``allow_paid_broadcast=True``). ``per_chat_interval``: seconds
    between two messages to one chat. ``concurrency``: requests in flight or awaiting their commit
    (it bounds the duplicates after a crash; reaching 1000/s at Telegram's 50-100 ms round trip
    needs 100-150, and the Bot's aiohttp session needs as many connections).
    """

    def __init__(
        self,
        bot: Bot,
        sessions: SessionFactory,
        *,
        rate: float = FREE_BROADCAST_RATE,
        paid_broadcast: bool = False,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        concurrency: int | None = None,
        batch_size: int | None = None,
        burst: float | None = None,
        settle_batch: int | None = None,
        settle_interval: float = 0.1,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        backoff_max: float = 600.0,
        request_timeout: float = 30.0,
        poll_interval: float = 5.0,
        progress_interval: float = 2.0,
        progress: ProgressHook | None = None,
        chat_migrated: ChatMigratedHook | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not 0 < rate <= PAID_BROADCAST_RATE:
            raise ValueError(f"rate must be in (0, {PAID_BROADCAST_RATE:g}] messages per second")
        if rate > FREE_BROADCAST_RATE and not paid_broadcast:
            log.warning(
                "outbox rate %.0f/s is above Telegram's free broadcast limit (%.0f/s) without paid "
                "broadcasts: expect 429s",
                rate,
                FREE_BROADCAST_RATE,
            )
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._bot = bot
        self._sessions = sessions
        self._clock: Clock = clock or SystemClock()
        self.rate = rate
        self.paid_broadcast = paid_broadcast
        self._per_chat_interval = per_chat_interval
        self.concurrency = concurrency or _clamp(rate * 0.15, 8, 200)
        self._batch_size = batch_size or _clamp(rate * 2, 20, 1000)
        self._max_held = 2 * self._batch_size
        self._low_water = max(1, self._batch_size // 2)
        self._settle_batch = settle_batch or _clamp(self.concurrency / 2, 1, 100)
        self._settle_interval = settle_interval
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._request_timeout = request_timeout
        self._poll_interval = poll_interval
        self._progress_interval = progress_interval
        self._progress_hook = progress
        self._chat_migrated_hook = chat_migrated
        self._pace = Pace(rate, burst if burst is not None else rate * 0.1, self._clock)
        self._random = random.Random()
        self._reset_state()
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------------------- lifecycle

    def _reset_state(self) -> None:
        self._buffer: deque[ClaimedDelivery] = deque()
        self._deferred: list[tuple[float, int, ClaimedDelivery]] = []  # (ready at, id, row): per-chat wait
        self._holding: ClaimedDelivery | None = None  # taken by the dispatcher, not yet handed over
        self._chat_ready: dict[int, float] = {}
        self._work: asyncio.Queue[ClaimedDelivery | None] = asyncio.Queue()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._sending = 0
        self._outcomes: list[_Outcome] = []
        self._outcomes_ready = asyncio.Event()
        self._batch_full = asyncio.Event()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._progress_kick = asyncio.Event()
        self._db_lock = asyncio.Lock()
        self._claim_task: asyncio.Future[int] | None = None
        self._exhausted = False
        self._next_due = 0.0
        self._last_claim = -math.inf
        self._trackers: dict[int, _Tracker] = {}
        self._dirty: set[int] = set()
        self._reporting = False
        self._closing = False
        self._progress_closing = False
        self._file_ids: dict[str, str] = {}
        self._migrated: dict[int, int] = {}  # old chat id -> the supergroup's, as Telegram answered
        self._dispatcher: asyncio.Task[None] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._settler: asyncio.Task[None] | None = None
        self._reporter: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """Take back the claims of a crashed run, then start the tasks."""
        if self.running:
            return
        self._reset_state()
        async with self._db_lock, self._sessions() as session:
            released = await outbox_repo.release_claims(session)
            await session.commit()
        if released:
            # Claimed at the crash: some of these may have reached Telegram, so a few villagers get
            # this message twice. Sending again is the price of losing none.
            log.warning("outbox: %d deliveries were claimed by a previous run; sending them again", released)
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="outbox-dispatcher")
        self._workers = [
            asyncio.create_task(self._worker_loop(), name=f"outbox-worker-{n}")
            for n in range(self.concurrency)
        ]
        self._settler = asyncio.create_task(self._settle_loop(), name="outbox-settler")
        self._reporter = asyncio.create_task(self._progress_loop(), name="outbox-progress")
        self._tasks = [self._dispatcher, *self._workers, self._settler, self._reporter]
        log.info(
            "outbox sender started: %.0f msg/s%s, %d in flight",
            self.rate,
            " (paid broadcast)" if self.paid_broadcast else "",
            self.concurrency,
        )

    def wake(self) -> None:
        """New rows were enqueued: claim now instead of at the next poll."""
        self._wake.set()

    async def stop(self, *, progress_timeout: float = 5.0) -> None:
        """Graceful stop: no new requests; those in flight finish and are settled; the rest is released."""
        if not self.running:
            return
        assert self._dispatcher is not None and self._settler is not None and self._reporter is not None
        self._dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._dispatcher
        if self._claim_task is not None:
            # A claim is shielded from the cancel; wait so its rows land in the buffer and get released.
            with contextlib.suppress(Exception):
                await self._claim_task
        for _ in self._workers:
            self._work.put_nowait(None)
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._closing = True
        self._outcomes_ready.set()
        self._batch_full.set()
        await asyncio.gather(self._settler, return_exceptions=True)
        await self._release_unsent()
        self._progress_closing = True
        self._progress_kick.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._reporter), progress_timeout)
        except TimeoutError:
            self._reporter.cancel()
        await asyncio.gather(self._reporter, return_exceptions=True)
        self._tasks = []
        log.info("outbox sender stopped")

    async def abort(self) -> None:
        """Stop at once: requests in flight are abandoned, nothing is settled or released.

        What a crash leaves behind, at a transaction boundary: the database lock is taken first so
        that no transaction is cut in half (a killed process's would be rolled back; here it is
        allowed to finish), then every task is cancelled.
        """
        async with self._db_lock:
            tasks: list[asyncio.Future[Any]] = [*self._tasks]
            if self._claim_task is not None:
                tasks.append(self._claim_task)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []

    async def run_until_idle(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a test helper's deadline
        """Start if needed and return once no row is pending or claimed and every outcome is reported.

        Rows waiting for a retry count as work: this waits for them. Raises TimeoutError.
        """
        await self.start()
        self.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            if self._quiet():
                async with self._db_lock, self._sessions() as session:
                    active = await outbox_repo.active_count(session)
                if active == 0 and self._quiet():
                    return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the outbox did not become idle in time")
            await _wait(self._changed, min(remaining, 0.05))

    def _quiet(self) -> bool:
        return not (
            self._buffer
            or self._deferred
            or self._holding is not None
            or self._sending
            or self._outcomes
            or self._dirty
            or self._reporting
        )

    # ------------------------------------------------------------------------------ dispatcher

    async def _dispatch_loop(self) -> None:
        while True:
            try:
                await self._dispatch_one()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox dispatcher failed; retrying in a second")
                if self._holding is not None:  # keep it: it is still claimed in the database
                    self._buffer.appendleft(self._holding)
                    self._holding = None
                await asyncio.sleep(1.0)

    async def _dispatch_one(self) -> None:
        row = self._take_ready()
        if row is None:
            if self._should_claim() and await self._refill() > 0:
                return
            await self._idle_wait()
            return
        # Held here until handed to a worker, so that stop() can release it if cancelled meanwhile.
        self._holding = row
        if len(self._buffer) < self._low_water and self._should_claim():
            await self._refill()
        await self._slots.acquire()
        try:
            await self._pace.acquire()
        except BaseException:
            self._slots.release()
            raise
        self._chat_ready[row.chat_id] = self._clock.time() + self._per_chat_interval
        self._holding = None
        self._sending += 1
        self._work.put_nowait(row)

    def _take_ready(self) -> ClaimedDelivery | None:
        """The next row whose chat may receive a message now; others wait in `_deferred`, in order."""
        now = self._clock.time()
        while self._deferred and self._deferred[0][0] <= now:
            _, row_id, row = heapq.heappop(self._deferred)
            ready_at = self._chat_ready.get(row.chat_id, 0.0)
            if ready_at > now:  # an earlier row of the same chat went first
                heapq.heappush(self._deferred, (ready_at, row_id, row))
                continue
            return row
        while self._buffer:
            row = self._buffer.popleft()
            ready_at = self._chat_ready.get(row.chat_id, 0.0)
            if ready_at > now:
                heapq.heappush(self._deferred, (ready_at, row.id, row))
                continue
            return row
        return None

    def _should_claim(self) -> bool:
        if len(self._buffer) + len(self._deferred) >= self._max_held:
            return False
        if not self._exhausted or self._wake.is_set():
            return True
        now = self._clock.time()
        return now >= self._next_due or now - self._last_claim >= self._poll_interval

    async def _refill(self) -> int:
        self._wake.clear()  # before the claim: a wake() during it triggers another claim
        task = asyncio.ensure_future(self._claim())
        self._claim_task = task
        # Shielded: cancelling the dispatcher must not abandon a committed claim half-way.
        return await asyncio.shield(task)

    async def _claim(self) -> int:
        limit = max(1, self._batch_size - len(self._buffer))
        now = self._clock.time()
        async with self._db_lock, self._sessions() as session:
            rows = await outbox_repo.claim_due(session, now=_at(now), limit=limit)
            skipped = (
                await outbox_repo.skip_unbound(session, [r.id for r in rows], now=_at(now)) if rows else set()
            )
            next_due = await outbox_repo.next_due_at(session) if len(rows) < limit else None
            await session.commit()
        self._last_claim = now
        self._exhausted = len(rows) < limit
        if self._exhausted:
            self._next_due = next_due.timestamp() if next_due is not None else math.inf
            if not rows and self._next_due <= now:
                # Due rows we could not claim are locked by another transaction (PostgreSQL's SKIP
                # LOCKED): look again shortly rather than spinning.
                self._next_due = now + 0.5
        for row in rows:
            tracker = self._tracker(row.broadcast_id, now)
            if row.id in skipped:
                self._dirty.add(row.broadcast_id)
                continue
            tracker.outstanding += 1
            self._buffer.append(row)
        if skipped:
            self._progress_kick.set()
        if len(self._chat_ready) > 10_000:
            self._chat_ready = {chat: at for chat, at in self._chat_ready.items() if at > now}
        self._changed.set()
        return len(rows)

    async def _idle_wait(self) -> None:
        """Nothing to send now: wait for a wake(), a retry falling due, a chat's turn, or the poll."""
        now = self._clock.time()
        until = now + self._poll_interval
        if self._deferred:
            until = min(until, self._deferred[0][0])
        # With the hands full of rows waiting for their chat, new rows could not be claimed anyway.
        may_claim = len(self._buffer) + len(self._deferred) < self._max_held
        if may_claim and self._exhausted:
            until = min(until, self._next_due)
        if until <= now or (may_claim and self._wake.is_set()):
            await asyncio.sleep(0)
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(until - now))
        waiters: set[asyncio.Future[Any]] = {sleeper}
        if may_claim:
            waiters.add(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _release_unsent(self) -> None:
        rows = list(self._buffer) + [row for _, _, row in self._deferred]
        if self._holding is not None:
            rows.append(self._holding)
        self._buffer.clear()
        self._deferred.clear()
        self._holding = None
        if not rows:
            return
        async with self._db_lock, self._sessions() as session:
            await outbox_repo.release_claims(session, [row.id for row in rows])
            await session.commit()
        for row in rows:
            self._trackers[row.broadcast_id].outstanding -= 1

    # --------------------------------------------------------------------------------- workers

    async def _worker_loop(self) -> None:
        while True:
            row = await self._work.get()
            if row is None:
                return
            settlement = await self._deliver(row)
            self._sending -= 1
            self._outcomes.append(_Outcome(row, settlement))
            self._outcomes_ready.set()
            if len(self._outcomes) >= self._settle_batch:
                self._batch_full.set()

    async def _deliver(self, row: ClaimedDelivery) -> Settlement:
        """Make the request; classify the answer. Never raises (except on cancellation)."""
        chat_id = self._migrated.get(row.chat_id, row.chat_id)
        try:
            payload = MessagePayload.from_json(row.payload)
            method = self._request(chat_id, payload)
        except (ValueError, KeyError, TypeError) as exc:
            return self._final(row, DeliveryStatus.FAILED, f"unreadable payload: {exc}")
        except OSError as exc:
            return self._final(row, DeliveryStatus.FAILED, f"cannot read the file: {exc}")
        # The chat's next turn counts from the request itself, not from when it was queued.
        turn = self._clock.time() + self._per_chat_interval
        self._chat_ready[row.chat_id] = max(self._chat_ready.get(row.chat_id, 0.0), turn)
        try:
            try:
                message = await self._bot(method, request_timeout=math.ceil(self._request_timeout))
            except TelegramMigrateToChat as exc:
                # The group was upgraded to a supergroup, which has a new id: send there, once (a
                # second refusal is final below), and tell whoever stored the old id.
                chat_id = exc.migrate_to_chat_id
                await self._follow_migration(row.chat_id, chat_id)
                await self._pace.acquire()
                try:
                    method = self._request(chat_id, payload)
                except OSError as missing:  # the file went missing meanwhile
                    return self._final(row, DeliveryStatus.FAILED, f"cannot read the file: {missing}")
                message = await self._bot(method, request_timeout=math.ceil(self._request_timeout))
        except TelegramRetryAfter as exc:
            # Flood control is per bot: stop everyone, then retry this row; not counted as an attempt.
            self._pace.pause(exc.retry_after)
            log.warning("outbox: Telegram asked to wait %s s (429)", exc.retry_after)
            return self._retry_at(row, self._clock.time() + exc.retry_after, row.attempts, exc.message)
        except TelegramForbiddenError as exc:
            # "bot was blocked by the user", "user is deactivated": nothing to retry.
            return self._final(row, DeliveryStatus.UNREACHABLE, exc.message, attempts=row.attempts + 1)
        except (TelegramBadRequest, TelegramEntityTooLarge, TelegramNotFound, TelegramMigrateToChat) as exc:
            # A permanent refusal ("chat not found", a bad markup): keep Telegram's words for the report.
            return self._final(row, DeliveryStatus.FAILED, exc.message, attempts=row.attempts + 1)
        except TelegramAPIError as exc:
            # 5xx, time-outs and network errors (TelegramServerError, TelegramNetworkError), 401, 409.
            return self._transient(row, exc.message)
        except Exception as exc:
            log.exception("outbox: unexpected error sending delivery %d", row.id)
            return self._transient(row, f"{type(exc).__name__}: {exc}")
        if payload.file_path is not None and isinstance(message, Message):
            self._remember_file_id(payload.file_path, message)
        now = self._clock.time()
        return Settlement(
            delivery_id=row.id,
            status=DeliveryStatus.SENT,
            attempts=row.attempts + 1,
            next_attempt_at=_at(now),
            sent_at=_at(now),
            message_id=message.message_id if isinstance(message, Message) else None,
            chat_id=chat_id if chat_id != row.chat_id else None,
        )

    async def _follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """Remember the new id for the rows still queued for the old one, and call the hook once."""
        if self._migrated.get(old_chat_id) == new_chat_id:
            return
        self._migrated[old_chat_id] = new_chat_id
        log.info("outbox: chat %d was upgraded to supergroup %d", old_chat_id, new_chat_id)
        if self._chat_migrated_hook is None:
            return
        try:
            await self._chat_migrated_hook(old_chat_id, new_chat_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The message still goes to the new chat; whoever keeps the old id learns it next time.
            log.exception("outbox: the chat-migrated hook failed for %d -> %d", old_chat_id, new_chat_id)

    def _request(self, chat_id: int, payload: MessagePayload) -> SendMessage | SendDocument | SendPhoto:
        options: dict[str, Any] = {"chat_id": chat_id}
        if payload.parse_mode is not None:
            options["parse_mode"] = payload.parse_mode
        if payload.reply_markup is not None:
            options["reply_markup"] = _markup(payload.reply_markup)
        if self.paid_broadcast:
            options["allow_paid_broadcast"] = True
        if payload.method is SendMethod.SEND_MESSAGE:
            if payload.disable_link_preview:
                options["link_preview_options"] = LinkPreviewOptions(is_disabled=True)
            return SendMessage(text=payload.text or "", **options)
        if payload.text:
            options["caption"] = payload.text
        file: str | FSInputFile
        if payload.file_path is not None:
            # Upload once, then reuse Telegram's file_id: no limit on files "sent this way" (LIMITS.md §11).
            cached = self._file_ids.get(payload.file_path)
            if cached is None and not os.path.isfile(payload.file_path):
                # Checked here: aiohttp would only report "Can not write request body", a network error.
                raise FileNotFoundError(f"no such file: {payload.file_path}")
            file = cached if cached is not None else FSInputFile(payload.file_path)
        else:
            assert payload.file_id is not None
            file = payload.file_id
        if payload.method is SendMethod.SEND_DOCUMENT:
            return SendDocument(document=file, **options)
        return SendPhoto(photo=file, **options)

    def _remember_file_id(self, path: str, message: Message) -> None:
        if path in self._file_ids:
            return
        if message.document is not None:
            self._file_ids[path] = message.document.file_id
        elif message.photo:
            self._file_ids[path] = message.photo[-1].file_id

    def _final(
        self, row: ClaimedDelivery, status: DeliveryStatus, error: str, *, attempts: int | None = None
    ) -> Settlement:
        return Settlement(
            delivery_id=row.id,
            status=status,
            attempts=row.attempts if attempts is None else attempts,
            next_attempt_at=_at(self._clock.time()),
            error=error,
        )

    def _transient(self, row: ClaimedDelivery, error: str) -> Settlement:
        attempts = row.attempts + 1
        if attempts >= self._max_attempts:
            return self._final(
                row, DeliveryStatus.FAILED, f"{error} (gave up after {attempts} attempts)", attempts=attempts
            )
        # Exponential backoff with jitter, so that rows failed by one outage do not all return at once.
        delay = min(self._backoff_max, self._backoff_base * 2 ** (attempts - 1))
        delay *= 0.5 + self._random.random()
        return self._retry_at(row, self._clock.time() + delay, attempts, error)

    def _retry_at(self, row: ClaimedDelivery, when: float, attempts: int, error: str) -> Settlement:
        return Settlement(
            delivery_id=row.id,
            status=DeliveryStatus.PENDING,
            attempts=attempts,
            next_attempt_at=_at(when),
            error=error,
        )

    # --------------------------------------------------------------------------------- settler

    async def _settle_loop(self) -> None:
        while True:
            await self._outcomes_ready.wait()
            if len(self._outcomes) < self._settle_batch and not self._closing:
                await _wait(self._batch_full, self._settle_interval)
            await self._flush()
            if self._closing and not self._outcomes:
                return

    async def _flush(self) -> None:
        batch, self._outcomes = self._outcomes, []
        self._outcomes_ready.clear()
        self._batch_full.clear()
        if not batch:
            return
        while True:
            try:
                async with self._db_lock, self._sessions() as session:
                    await outbox_repo.settle(session, [outcome.settlement for outcome in batch])
                    await session.commit()
                break
            except Exception:
                # Keep the slots: sending more while outcomes cannot be recorded would widen the
                # window of duplicates after a crash.
                log.exception("outbox: could not record %d outcomes; retrying", len(batch))
                await asyncio.sleep(1.0)
        kick = False
        now = self._clock.time()
        for outcome in batch:
            self._slots.release()
            settlement = outcome.settlement
            tracker = self._trackers[outcome.row.broadcast_id]
            tracker.outstanding -= 1
            if settlement.status is DeliveryStatus.SENT:
                tracker.sent_here += 1
            elif settlement.status is DeliveryStatus.PENDING:
                # A retry is due later: let the dispatcher's next claim learn when.
                self._wake.set()
            self._dirty.add(outcome.row.broadcast_id)
            kick = kick or tracker.outstanding == 0 or now - tracker.last_report >= self._progress_interval
        # Progress counts come from the database, so they hold across restarts and several senders.
        if kick:
            self._progress_kick.set()
        self._changed.set()

    # -------------------------------------------------------------------------------- progress

    async def _progress_loop(self) -> None:
        while True:
            await _wait(self._progress_kick, self._progress_interval)
            self._progress_kick.clear()
            try:
                await self._report_progress()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: progress report failed")
            if self._progress_closing:
                return

    async def _report_progress(self) -> None:
        now = self._clock.time()
        due = {
            broadcast_id
            for broadcast_id in self._dirty
            if self._tracker_idle(broadcast_id)
            or now - self._trackers[broadcast_id].last_report >= self._progress_interval
        }
        if not due:
            return
        self._reporting = True
        # Taken out before reading: outcomes settled during this pass mark the broadcast again.
        self._dirty -= due
        unhandled = set(due)
        try:
            async with self._db_lock, self._sessions() as session:
                counts = await outbox_repo.status_counts(session, due)
                broadcasts = await outbox_repo.get_broadcasts(session, due)
                finished_now: set[int] = set()
                for broadcast_id in due:
                    count = counts[broadcast_id]
                    if count[DeliveryStatus.PENDING] + count[
                        DeliveryStatus.CLAIMED
                    ] == 0 and await outbox_repo.mark_finished(session, broadcast_id, now=_at(now)):
                        finished_now.add(broadcast_id)
                await session.commit()
            reports: list[BroadcastProgress] = []
            for broadcast_id in sorted(due):
                tracker = self._tracker(broadcast_id, now)
                count = counts[broadcast_id]
                active = count[DeliveryStatus.PENDING] + count[DeliveryStatus.CLAIMED]
                interval_due = now - tracker.last_report >= self._progress_interval
                unhandled.discard(broadcast_id)
                if broadcast_id in finished_now or (active > 0 and interval_due):
                    tracker.last_report = now
                    broadcast = broadcasts.get(broadcast_id)
                    if broadcast is None:
                        continue
                    elapsed = max(now - tracker.first_claim, 1e-6)
                    reports.append(
                        BroadcastProgress(
                            broadcast_id=broadcast_id,
                            kind=broadcast.kind,
                            title=broadcast.title,
                            total=broadcast.total,
                            sent=count[DeliveryStatus.SENT],
                            failed=count[DeliveryStatus.FAILED],
                            unreachable=count[DeliveryStatus.UNREACHABLE],
                            skipped=count[DeliveryStatus.SKIPPED],
                            pending=active,
                            rate=tracker.sent_here / elapsed,
                            finished=broadcast_id in finished_now,
                            progress_chat_id=broadcast.progress_chat_id,
                            progress_message_id=broadcast.progress_message_id,
                            progress_locale=broadcast.progress_locale,
                        )
                    )
                elif active > 0:
                    # Not yet time for the next report (rows waiting for a retry): look again later.
                    self._dirty.add(broadcast_id)
                # active == 0 and not finished now: finished by another run; nothing of ours to report.
                if active == 0 and tracker.outstanding == 0:
                    del self._trackers[broadcast_id]
            for report in reports:
                await self._emit(report)
        finally:
            self._dirty |= unhandled  # after an error, try again on the next pass
            self._reporting = False
            self._changed.set()

    def _tracker(self, broadcast_id: int, now: float) -> _Tracker:
        tracker = self._trackers.get(broadcast_id)
        if tracker is None:
            tracker = self._trackers[broadcast_id] = _Tracker(first_claim=now)
        return tracker

    def _tracker_idle(self, broadcast_id: int) -> bool:
        tracker = self._trackers.get(broadcast_id)
        return tracker is None or tracker.outstanding == 0

    async def _emit(self, report: BroadcastProgress) -> None:
        if self._progress_hook is None:
            return
        if report.progress_chat_id is not None:
            # Editing the progress message is a request too: it takes its turn in the global pace.
            await self._pace.acquire()
        try:
            await self._progress_hook(report)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox: the progress hook failed for broadcast %d", report.broadcast_id)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Wait for `event` at most `seconds`.

    Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that arrives as the event
    fires, and a sender task that survives abort() would wait for the database lock forever.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _markup(
    data: Mapping[str, Any],
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply:
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.model_validate(dict(data))
    if "keyboard" in data:
        return ReplyKeyboardMarkup.model_validate(dict(data))
    if "remove_keyboard" in data:
        return ReplyKeyboardRemove.model_validate(dict(data))
    if "force_reply" in data:
        return ForceReply.model_validate(dict(data))
    raise ValueError(f"unknown reply_markup with keys {sorted(data)}")

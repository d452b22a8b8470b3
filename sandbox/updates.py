"""The bot's update queue: long polling (getUpdates) and webhook delivery.

Semantics follow https://core.telegram.org/bots/api#getting-updates and the reference server:

* one queue with increasing ``update_id``; an update stays until it is *confirmed* by a getUpdates
  with a higher ``offset`` (or delivered to a webhook with a 2xx answer);
* a negative offset keeps only the last ``-offset`` updates and forgets the rest;
* ``timeout`` is a real long poll (clamped to 50 s) woken by a :class:`~sandbox.world.Notifier`;
  a second concurrent getUpdates terminates the first with 409, and so does setWebhook;
* ``allowed_updates`` is sticky and filters updates when they are created; its default excludes
  ``chat_member``, ``message_reaction`` and ``message_reaction_count``;
* updates expire 24 hours (virtual clock) after they were created;
* a webhook gets each update as a JSON POST with ``X-Telegram-Bot-Api-Secret-Token``; non-2xx answers
  and connection errors are retried with exponential backoff on the virtual clock, and recorded as
  ``last_error_date``/``last_error_message``; a method call in the answer body is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from sandbox.clock import VirtualClock
from sandbox.errors import ApiError
from sandbox.spec import FilePart
from sandbox.wire import WireError, parse_body
from sandbox.world import Notifier

__all__ = ["UpdateHub", "WebhookAttempt", "WebhookConfig", "check_webhook_url"]

LONG_POLL_MAX_TIMEOUT = 50
RETENTION_SECONDS = 24 * 3600

CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"

#: Methods that the reference server ignores in a webhook response body.
_IGNORED_IN_WEBHOOK_REPLY = ("setwebhook", "deletewebhook", "close", "logout")

_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str | None
    has_custom_certificate: bool


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST to the webhook: which update, the virtual time, HTTP status (None: no answer)."""

    update_id: int
    time: float
    status: int | None
    error: str | None
    secret_header: str | None


@dataclass
class _Pending:
    update: dict[str, Any]
    kind: str
    created: float


@dataclass
class UpdateHub:
    clock: VirtualClock
    notifier: Notifier
    update_kinds: Sequence[str]
    #: Executes a method call found in a webhook response body: (method, values, files) -> None.
    execute_reply: Callable[[str, dict[str, Any], dict[str, FilePart]], Awaitable[None]]
    next_update_id: int = 1000
    webhook_retry_base: float = 1.0
    webhook_retry_max: float = 60.0
    webhook_timeout: float = 10.0
    pending: list[_Pending] = field(default_factory=list)
    allowed_updates: list[str] | None = None
    webhook: WebhookConfig | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    webhook_attempts: list[WebhookAttempt] = field(default_factory=list)
    dropped_by_filter: list[dict[str, Any]] = field(default_factory=list)
    delivered_by_polling: int = 0
    delivered_by_webhook: int = 0
    #: Virtual time of the next webhook retry while delivery is backing off, else None.
    next_retry_at: float | None = None
    #: Set while the emulator shuts down: waiting long polls return at once.
    closing: bool = False
    #: Long polls currently waiting for an update (lets tests know a poll is parked, without sleeping).
    waiting_polls: int = 0
    _poll_generation: int = 0
    _task: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None

    # -------------------------------------------------------------------------------- the queue

    def effective_allowed(self) -> frozenset[str]:
        if self.allowed_updates:
            return frozenset(self.allowed_updates)
        return frozenset(k for k in self.update_kinds if k not in _NOT_BY_DEFAULT)

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Create an update; return it, or None when ``allowed_updates`` filters it out."""
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        if kind not in self.effective_allowed():
            self.dropped_by_filter.append(update)
            return None
        self.pending.append(_Pending(update, kind, self.clock.time()))
        self.notifier.notify()
        return update

    def _expire(self) -> None:
        cutoff = self.clock.time() - RETENTION_SECONDS
        if self.pending and self.pending[0].created < cutoff:
            self.pending = [p for p in self.pending if p.created >= cutoff]

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.pending = [p for p in self.pending if p.update["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:] if -offset < len(self.pending) else self.pending

    def drop_pending(self) -> None:
        self.pending.clear()
        self.notifier.notify()

    @property
    def pending_update_count(self) -> int:
        self._expire()
        return len(self.pending)

    # ------------------------------------------------------------------------------ getUpdates

    async def get_updates(
        self,
        offset: int | None,
        limit: int | None,
        timeout: int | None,  # noqa: ASYNC109 - the Bot API parameter of getUpdates
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        if allowed_updates is not None:
            self.allowed_updates = list(allowed_updates)
        if offset:
            self._confirm(offset)
        limit = 100 if limit is None else limit
        wait = min(max(timeout or 0, 0), LONG_POLL_MAX_TIMEOUT)
        self._poll_generation += 1
        generation = self._poll_generation
        self.notifier.notify()  # terminate a poll that is still waiting

        def state() -> str:
            if self.closing:
                return "closing"
            if generation != self._poll_generation:
                return "superseded"
            if self.webhook is not None:
                return "webhook"
            self._expire()
            return "ready" if self.pending else "empty"

        self.waiting_polls += 1
        self.notifier.notify()
        try:
            await self.notifier.wait_until(lambda: state() != "empty", wait)
        finally:
            self.waiting_polls -= 1
        result = state()
        if result == "superseded":
            raise ApiError(409, CONFLICT_OTHER_POLL)
        if result == "webhook":
            raise ApiError(409, CONFLICT_SET_WEBHOOK)
        if result == "closing":
            return []
        batch = [p.update for p in self.pending[:limit]]
        self.delivered_by_polling += len(batch)
        return batch

    # --------------------------------------------------------------------------------- webhook

    def set_webhook(self, config: WebhookConfig, *, drop_pending: bool) -> None:
        if config.allowed_updates is not None:
            self.allowed_updates = list(config.allowed_updates)
        if drop_pending:
            self.pending.clear()
        self.webhook = config
        self.last_error_date = None
        self.last_error_message = None
        self.notifier.notify()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver_loop(), name="emulator-webhook")

    def delete_webhook(self, *, drop_pending: bool) -> None:
        self.webhook = None
        if drop_pending:
            self.pending.clear()
        self.notifier.notify()

    def webhook_info(self) -> dict[str, Any]:
        cfg = self.webhook
        info: dict[str, Any] = {
            "url": cfg.url if cfg else "",
            "has_custom_certificate": bool(cfg and cfg.has_custom_certificate),
            "pending_update_count": self.pending_update_count,
        }
        if cfg is not None:
            if cfg.ip_address:
                info["ip_address"] = cfg.ip_address
            if self.last_error_date is not None:
                info["last_error_date"] = self.last_error_date
                info["last_error_message"] = self.last_error_message or ""
            info["max_connections"] = cfg.max_connections
            if cfg.allowed_updates:
                info["allowed_updates"] = list(cfg.allowed_updates)
        return info

    async def stop(self) -> None:
        self.closing = True
        self.webhook = None
        self.notifier.notify()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_loop(self) -> None:
        """Deliver pending updates one at a time, in order, while a webhook is set."""
        failures = 0
        while True:
            cfg = self.webhook
            if cfg is None:
                return
            self._expire()
            if not self.pending:
                await self.notifier.wait_until(self._work_or_change(cfg))
                continue
            pending = self.pending[0]
            ok = await self._post(cfg, pending.update)
            if self.webhook is not cfg:
                continue
            if ok:
                failures = 0
                with contextlib.suppress(ValueError):
                    self.pending.remove(pending)
                self.delivered_by_webhook += 1
                self.notifier.notify()
                continue
            failures += 1
            delay = min(self.webhook_retry_base * 2 ** (failures - 1), self.webhook_retry_max)
            self.next_retry_at = self.clock.time() + delay
            self.notifier.notify()
            try:
                await self._sleep_unless_changed(self.next_retry_at, cfg)
            finally:
                self.next_retry_at = None

    def _work_or_change(self, cfg: WebhookConfig) -> Callable[[], bool]:
        return lambda: self.webhook is not cfg or bool(self.pending)

    async def _sleep_unless_changed(self, deadline: float, cfg: WebhookConfig) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep_until(deadline))
        changed = asyncio.ensure_future(self.notifier.wait_until(lambda: self.webhook is not cfg))
        try:
            await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, changed):
                task.cancel()
            await asyncio.gather(sleeper, changed, return_exceptions=True)

    async def _post(self, cfg: WebhookConfig, update: dict[str, Any]) -> bool:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.webhook_timeout))
        headers = {"Content-Type": "application/json"}
        if cfg.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = cfg.secret_token
        status: int | None = None
        error: str | None = None
        reply: dict[str, Any] = {}
        reply_files: dict[str, FilePart] = {}
        try:
            async with self._session.post(cfg.url, data=json.dumps(update), headers=headers) as resp:
                status = resp.status
                body = await resp.read()
                if 200 <= resp.status < 300:
                    with contextlib.suppress(WireError):
                        reply, reply_files = parse_body(resp.headers.get("Content-Type", ""), body)
                else:
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason or ''}".rstrip()
        except TimeoutError:
            error = "Timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {exc.__class__.__name__}"
        self.webhook_attempts.append(
            WebhookAttempt(update["update_id"], self.clock.time(), status, error, cfg.secret_token)
        )
        if error is not None:
            self.last_error_date = self.clock.now()
            self.last_error_message = error
            self.notifier.notify()
            return False
        method = reply.get("method")
        if isinstance(method, str):
            params = {k: v for k, v in reply.items() if k != "method"}
            if not method.lower().startswith("get") and method.lower() not in _IGNORED_IN_WEBHOOK_REPLY:
                await self.execute_reply(method, params, reply_files)
        return True


def check_webhook_url(url: str, *, strict: bool) -> str | None:
    """Return the server's error for a webhook URL, or None if acceptable.

    Strict mode applies Telegram's rules (HTTPS, ports 443/80/88/8443). Local mode (the default for
    tests) behaves like a local Bot API server: plain HTTP to a loopback address on any port is fine.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Bad Request: bad webhook: invalid URL specified"
    try:
        port = parts.port
    except ValueError:
        return "Bad Request: bad webhook: invalid URL specified"
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not strict and loopback:
        return None
    if parts.scheme != "https":
        return "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    if port not in (None, 443, 80, 88, 8443):
        return "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
    if loopback:
        return "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"
    return None

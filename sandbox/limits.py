"""Flood control (token buckets on the virtual clock) and seeded fault injection.

Telegram does not publish exact limits (see shared/telegram/LIMITS.md §1); the emulator enforces the
figures from its FAQ so that the bot's outbox pacing can be tested: about 30 messages per second
overall, one per second per private chat with a short burst, 20 per minute per group, and 1000 per
second for paid broadcasts. A violation returns the reference server's exact 429 body and a
``Retry-After`` header, so aiogram raises ``TelegramRetryAfter``.

Faults (502 "Bad Gateway", slow answers, lost responses, random 429s) are drawn from a seeded
``random.Random`` so that a failing reliability test can be replayed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

__all__ = ["FaultDecision", "FaultPlan", "RateLimitConfig", "RateLimiter", "TokenBucket"]


@dataclass(frozen=True)
class RateLimitConfig:
    """Rates of the buckets; change them to tighten or relax a test."""

    global_per_second: float = 30.0
    global_burst: float = 30.0
    private_per_second: float = 1.0
    private_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    paid_per_second: float = 1000.0


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` per second of virtual time."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


@dataclass
class RateLimiter:
    """The set of buckets. ``check`` is atomic: either every bucket pays a token or none does."""

    config: RateLimitConfig = field(default_factory=RateLimitConfig)
    _buckets: dict[tuple[str, int], TokenBucket] = field(default_factory=dict)

    def reset(self) -> None:
        self._buckets.clear()

    def _bucket(self, key: tuple[str, int], rate: float, capacity: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.capacity != capacity:
            bucket = TokenBucket(rate, capacity, now)
            self._buckets[key] = bucket
        return bucket

    def check(self, chat_id: int, chat_type: str, now: float, *, paid: bool) -> int | None:
        """Take a token for a message to ``chat_id``; return ``retry_after`` (≥ 1 s) when over a limit."""
        cfg = self.config
        buckets = [
            self._bucket(("paid", 0), cfg.paid_per_second, cfg.paid_per_second, now)
            if paid
            else self._bucket(("global", 0), cfg.global_per_second, cfg.global_burst, now)
        ]
        if chat_type == "private":
            buckets.append(self._bucket(("chat", chat_id), cfg.private_per_second, cfg.private_burst, now))
        else:
            buckets.append(self._bucket(("chat", chat_id), cfg.group_per_minute / 60.0, cfg.group_burst, now))
        wait = max(b.wait_time(now) for b in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for b in buckets:
            b.take(now)
        return None


@dataclass(frozen=True)
class FaultPlan:
    """Seeded chaos for reliability tests.

    For each request (optionally only for ``methods``): with ``p_5xx`` answer 502 "Bad Gateway" before
    doing anything; with ``p_lost_response`` do the work but answer 502 anyway (the classic "was it
    sent?" case); with ``p_429`` answer a random flood-wait of 1-``max_retry_after`` s; with ``p_slow``
    delay the answer by ``slow_seconds`` of real time.
    """

    seed: int = 0
    p_5xx: float = 0.0
    p_slow: float = 0.0
    slow_seconds: float = 1.0
    p_429: float = 0.0
    max_retry_after: int = 3
    p_lost_response: float = 0.0
    methods: frozenset[str] | None = None


@dataclass(frozen=True)
class FaultDecision:
    fail_before: bool = False
    fail_after: bool = False
    retry_after: int | None = None
    delay: float = 0.0


class FaultInjector:
    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed)

    def decide(self, method: str) -> FaultDecision:
        plan = self.plan
        if plan.methods is not None and method not in plan.methods:
            return FaultDecision()
        # Always draw the same number of values so one decision does not shift the next ones.
        r_5xx, r_lost, r_429, r_slow, r_wait = (self._rng.random() for _ in range(5))
        return FaultDecision(
            fail_before=r_5xx < plan.p_5xx,
            fail_after=r_lost < plan.p_lost_response,
            retry_after=1 + int(r_wait * plan.max_retry_after) if r_429 < plan.p_429 else None,
            delay=plan.slow_seconds if r_slow < plan.p_slow else 0.0,
        )

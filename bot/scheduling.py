"""The reminder scheduler: APScheduler 3 jobs rebuilt from the database, one per wave.

Nothing is pickled: jobs live in memory, each with the stable id ``reminder:<wave key>``, and are
rebuilt from the `reminder_wave` rows at start-up, after a change (`refresh`) and every few minutes
(`REPLAN_EVERY`), so a restart, a moved deadline or a closed election re-plans correctly. A job only
calls `fire_wave`, which re-reads the row: a stale job finds its wave settled and does nothing.

Single sender: only the process holding the sender lock (storage.leader) runs jobs. A second process
started by mistake on the same database logs that it stands by and sends no reminder; it tries the
lock again every few minutes and takes over (missed waves included) once the sender is gone.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services.reminders import (
    FireResult,
    WaveRenderer,
    fire_wave,
    plan_reminders,
    planned_schedule,
    settle_missed,
)
from storage.db import SessionFactory
from storage.leader import SenderLock
from storage.types import utcnow

log = logging.getLogger(__name__)

REPLAN_EVERY = timedelta(minutes=5)
JOB_PREFIX = "reminder:"
REPLAN_JOB = "reminders-replan"
TAKEOVER_JOB = "reminders-takeover"


class ReminderScheduler:
    def __init__(
        self,
        sessions: SessionFactory,
        lock: SenderLock,
        render: WaveRenderer,
        *,
        default_locale: str,
        wake_outbox: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._lock = lock
        self._render = render
        self._default_locale = default_locale
        self._wake_outbox = wake_outbox
        self._clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    @property
    def is_sender(self) -> bool:
        return self._lock.held

    def job_ids(self) -> list[str]:
        """The ids of the wave jobs (``reminder:<key>``), in order."""
        return sorted(job.id for job in self._scheduler.get_jobs() if job.id.startswith(JOB_PREFIX))

    async def start(self) -> None:
        self._scheduler.start()
        if not await self.try_takeover():
            log.warning(
                "another process holds the %s: this one sends no reminders (single-sender rule); "
                "it tries again every %s",
                self._lock.description,
                REPLAN_EVERY,
            )
            self._scheduler.add_job(
                self.try_takeover,
                "interval",
                seconds=REPLAN_EVERY.total_seconds(),
                id=TAKEOVER_JOB,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
            )

    async def try_takeover(self) -> bool:
        """Become the sender if nobody is (at start-up, and in a standby process when the sender died)."""
        if self.is_sender:
            return True
        if not await self._lock.acquire():
            return False
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(TAKEOVER_JOB)
        log.info("this process sends the reminders (it holds the %s)", self._lock.description)
        await self.rebuild(startup=True)
        self._scheduler.add_job(
            self.rebuild,
            "interval",
            seconds=REPLAN_EVERY.total_seconds(),
            id=REPLAN_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        return True

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self._lock.release()

    async def rebuild(self, *, startup: bool = False, election_ids: Collection[int] | None = None) -> None:
        """Re-plan from the database, then make the jobs match the planned waves."""
        if not self.is_sender:
            return
        now = self._clock()
        async with self._sessions() as session:
            summary = await plan_reminders(session, now=now, election_ids=election_ids)
        if startup:
            async with self._sessions() as session:
                missed = await settle_missed(session, now=now)
            if missed:
                log.info("reminders missed while the bot was down, sent now: %s", ", ".join(missed))
        log.info("reminder plan: %s", summary)
        await self.sync_jobs()

    async def refresh(self) -> None:
        """After the committee scheduled or cancelled a wave: the jobs follow at once."""
        await self.sync_jobs()

    async def sync_jobs(self) -> None:
        if not self.is_sender:
            return
        async with self._sessions() as session:
            schedule = await planned_schedule(session)
        wanted = {JOB_PREFIX + key: due for key, due in schedule}
        for job in self._scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                with contextlib.suppress(JobLookupError):  # it ran meanwhile
                    self._scheduler.remove_job(job.id)
        for job_id, due in wanted.items():
            self._scheduler.add_job(
                self._fire,
                "date",
                run_date=due,
                args=[job_id.removeprefix(JOB_PREFIX)],
                id=job_id,
                replace_existing=True,
                # A wave whose time passed (the bot was down) still runs; fire_wave decides if it is useful.
                misfire_grace_time=None,
                coalesce=True,
            )

    def wakeup(self) -> None:
        """Look at the jobs again now (the clock was moved, in tests)."""
        if self._scheduler.running:
            self._scheduler.wakeup()

    async def _fire(self, key: str) -> None:
        try:
            async with self._sessions() as session:
                outcome = await fire_wave(
                    session,
                    key=key,
                    now=self._clock(),
                    render=self._render,
                    default_locale=self._default_locale,
                )
        except Exception:
            log.exception("reminder %s failed; it stays planned and is tried at the next re-plan", key)
            return
        log.info("reminder %s: %s (%s recipients)", key, outcome.result.value, outcome.recipients)
        if outcome.result is FireResult.SENT:
            self._wake_outbox()
        elif outcome.result in (FireResult.DEFERRED, FireResult.NOT_DUE):
            await self.sync_jobs()

"""Telegram side: one router per feature, assembled here in a deliberate order."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    audit,
    cancel,
    committee_group,
    elections,
    errors,
    fallback,
    groups,
    help,
    identity,
    language,
    notices,
    objections,
    proxy,
    proxy_committee,
    publicity,
    questions,
    recommend,
    reminders,
    results,
    roll,
    start,
    tally,
    trust,
    trust_tally,
)


def build_root_router() -> Router:
    # Routers are built per application (tests and the sandbox build several in one process).
    root = Router(name="cunmin")
    # Groups first: a private command sent in a group is turned away before any feature sees it;
    # /cancel next: it must win over any conversation state a later router waits in;
    # the fallback last: it answers whatever no feature took.
    root.include_routers(
        *(
            feature.build_router()
            for feature in (
                groups,
                cancel,
                start,
                identity,
                help,
                language,
                roll,
                notices,
                publicity,
                objections,
                elections,
                recommend,
                tally,
                trust,
                trust_tally,
                questions,
                audit,
                results,
                committee_group,
                reminders,
                proxy,
                proxy_committee,
                fallback,
                errors,
            )
        )
    )
    return root

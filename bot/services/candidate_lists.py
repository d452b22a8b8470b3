"""Publishing a candidate list (公示): the part shared by every list an election publishes.

The recommendation cut (bot.services.recommendations.publish_candidates) and the trust vote of the
two-ballot system (bot.services.trust_votes.publish_formal_candidates) decide who is on the list and
refuse what the law refuses; this module turns the chosen people into the published list: the rows,
the PDF and the spreadsheet, the fingerprint, the stored candidates of that stage, the notice to every
linked villager with an objection window, and a private word to each person on the list.

It writes but never commits: `publish_notice` commits everything the caller added, or nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.publicity import (
    PublicityKind,
    PublicityLabels,
    PublicityList,
    write_publicity_files,
)
from bot.rules.policy import Policy, Position
from bot.rules.recommendation import CutStage
from bot.rules.schedule import ScheduleProblem, ScheduleProblemReason, check_schedule, objection_deadline
from bot.services.audit import AuditAction, append_audit
from bot.services.elections import schedule_of
from bot.services.identity import Me
from bot.services.notices import (
    Attachment,
    AttachmentKind,
    Audience,
    NoticeDraft,
    PublicityFields,
    PublishOutcome,
    Recipient,
    Renderer,
    publish_notice,
)
from bot.services.outbox import MessagePayload
from storage.models import Election, ElectionCandidate, Notice, Village
from storage.repositories import elections as elections_repo

CANDIDATE_COLUMNS = ("seq", "position", "name", "gender", "birth_year", "group")


@dataclass(frozen=True)
class CandidateListText:
    """The words of the candidate list, in the committee member's language (the paper copy has one)."""

    title: str
    summary: Callable[[Sequence[tuple[Position, int]]], str]  # (position, how many) -> message body
    labels: PublicityLabels
    gender: Callable[[str | None], str]
    position: Callable[[Position], str]


# What a person on the list is told privately, in their own language: (recipient, their positions).
CandidateNotifier = Callable[[Recipient, Sequence[Position]], MessagePayload]


@dataclass(frozen=True)
class ListedCandidate:
    """A person on the list, as the list prints them."""

    person_id: int
    name: str
    gender: str | None
    birth_year: int | None
    group: str | None


@dataclass(frozen=True)
class PublishedList:
    published: PublishOutcome
    plist: PublicityList
    pdf_path: Path
    xlsx_path: Path
    candidates: int  # people on the list
    candidates_reached: int  # of them, linked to Telegram: told privately


async def publish_candidate_list(
    session: AsyncSession,
    me: Me | None,
    *,
    election: Election,
    village: Village,
    policy: Policy,
    stage: CutStage,
    positions: Sequence[tuple[Position, Sequence[ListedCandidate]]],
    words: CandidateListText,
    render: Renderer,
    notify: CandidateNotifier,
    out_dir: Path,
    zone: ZoneInfo,
    default_locale: str,
    now: datetime,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> PublishedList | PublishOutcome:
    """Publish these people as the election's list of `stage`; the notice's refusal if it refuses.

    The same list (the same fingerprint) is published once: a second try is refused by
    `publish_notice` as already sent; a corrected list, with another fingerprint, replaces the stored
    candidates of its stage.
    """
    assert election.id is not None
    today = now.astimezone(zone).date()
    rows: list[tuple[str, ...]] = []
    on_list: dict[int, list[Position]] = defaultdict(list)
    for position, people in positions:
        for person in people:
            on_list[person.person_id].append(position)
            rows.append(
                (
                    str(len(rows) + 1),
                    words.position(position),
                    person.name,
                    words.gender(person.gender),
                    str(person.birth_year) if person.birth_year else "",
                    person.group or "",
                )
            )
    last_day = _objections_until(policy, today, election.election_day)
    plist = PublicityList(
        village=village.name,
        township=village.township,
        title=words.title,
        kind=PublicityKind.CANDIDATES,
        published_on=today,
        objection_deadline=last_day,
        columns=CANDIDATE_COLUMNS,
        rows=rows,
    )
    digest = plist.fingerprint()
    stem = f"candidates-{election.id}-{stage.value}-{today:%Y%m%d}-{digest[:8]}"
    pdf_path, xlsx_path = out_dir / f"{stem}.pdf", out_dir / f"{stem}.xlsx"
    await asyncio.to_thread(write_publicity_files, plist, words.labels, pdf_path, xlsx_path)

    reachable = await elections_repo.bound_accounts(session, list(on_list))
    positions_of_account = {r.account_id: on_list[r.person_id] for r in reachable}

    def render_with_note(notice: Notice, recipient: Recipient) -> Sequence[MessagePayload]:
        payloads = list(render(notice, recipient))
        mine = positions_of_account.get(recipient.account_id)
        if mine:
            payloads.append(notify(recipient, mine))
        return payloads

    # Written in the same commit as the notice: publish_notice commits all of it, or rolls it back.
    stored = await elections_repo.get(session, election.id)
    assert stored is not None
    stored.candidates_published_on = today
    stored.candidates_fingerprint = digest
    stored.updated_at = now
    session.add(stored)
    await elections_repo.forget_candidates(session, election.id, stage.value)
    for position, people in positions:
        for person in people:
            session.add(
                ElectionCandidate(
                    election_id=election.id,
                    position=position.value,
                    person_id=person.person_id,
                    stage=stage.value,
                    fingerprint=digest,
                )
            )
    deadline = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone) if last_day else None
    # Rolled back with everything else if publish_notice refuses.
    await append_audit(
        session,
        election.village_id,
        me,
        AuditAction.LIST_PUBLISHED,
        {
            "list": PublicityKind.CANDIDATES.value,
            "election_id": election.id,
            "stage": stage.value,
            "fingerprint": digest,
            "rows": len(rows),
        },
        now=now,
    )
    published = await publish_notice(
        session,
        me=me,
        draft=NoticeDraft(
            village_id=election.village_id,
            title=words.title,
            body=words.summary([(position, len(people)) for position, people in positions]),
            audience=Audience.ALL,
            attachment=Attachment(kind=AttachmentKind.DOCUMENT, name=pdf_path.name, path=str(pdf_path)),
            draft_key=f"candidates-{election.id}-{digest[:40]}",
        ),
        render=render_with_note,
        default_locale=default_locale,
        now=now,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
        publicity=PublicityFields(
            list_kind=PublicityKind.CANDIDATES.value,
            published_on=today,
            objection_deadline=deadline,
            fingerprint=digest,
        ),
    )
    if published.refusal is not None:
        return published
    return PublishedList(
        published=published,
        plist=plist,
        pdf_path=pdf_path,
        xlsx_path=xlsx_path,
        candidates=len(on_list),
        candidates_reached=len(positions_of_account),
    )


def late_for_candidate_list(
    election: Election, policy: Policy, *, now: datetime, zone: ZoneInfo
) -> tuple[ScheduleProblem, ...]:
    """Why a candidate list published today would break the calendar: less than the legal lead before
    election day (BJ 20, SH 12, ZJ 18, HN 26), or recommendations still due after it."""
    schedule = schedule_of(election, zone)
    planned = replace(schedule, candidate_list_published=now.astimezone(zone).date())
    return tuple(
        problem
        for problem in check_schedule(planned, policy, now.astimezone(zone), previous=schedule)
        if problem.reason
        in (
            ScheduleProblemReason.CANDIDATE_LIST_TOO_LATE,
            ScheduleProblemReason.RECOMMENDATION_AFTER_CANDIDATE_LIST,
        )
    )


def _objections_until(policy: Policy, today: date, election_day: date) -> date | None:
    """Objections until the end of the window's last day, and never past the eve of the election."""
    last_day = min(objection_deadline(policy, today), election_day - timedelta(days=1))
    return last_day if last_day >= today else None

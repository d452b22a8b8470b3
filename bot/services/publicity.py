"""Publishing a list (公示): the voter roll first. A publicity list is a notice whose body is a list,
with a PDF and an XLSX, a publication date, an objection deadline, and a SHA-256 fingerprint of
the list's canonical form printed on every copy (RULES.md, "Publicity and supervision")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files.fonts import CjkFontMissing
from bot.files.publicity import (
    PublicityKind,
    PublicityLabels,
    PublicityList,
    write_publicity_files,
)
from bot.rules.policy import ElectionKind, Province, preset
from bot.rules.schedule import objection_deadline
from bot.services.audit import AuditAction, append_audit
from bot.services.identity import Me, RoleName
from bot.services.notices import (
    Attachment,
    AttachmentKind,
    Audience,
    NoticeDraft,
    NoticeRefusal,
    PublicityFields,
    PublishOutcome,
    Renderer,
    publish_notice,
)
from storage.models import Village
from storage.repositories import notices as notices_repo

VOTER_COLUMNS = ("seq", "name", "gender", "birth_year", "group")


class PublicityRefusal(StrEnum):
    UNKNOWN_VILLAGE = "unknown_village"
    EMPTY_ROLL = "empty_roll"
    # The PDF needs a Chinese font on the server (Debian: fonts-wqy-microhei).
    FONT_MISSING = "font_missing"


@dataclass(frozen=True)
class RollPublicityText:
    """The words of the list, in the committee's language (the paper copy is in one language)."""

    title: str  # "{village}选民名单"
    summary: Callable[[int, dict[str, int]], str]  # (voters, per group) -> the message body
    labels: PublicityLabels
    gender: Callable[[str | None], str]


@dataclass(frozen=True)
class RollPublicityOutcome:
    refusal: PublicityRefusal | None = None
    published: PublishOutcome | None = None
    plist: PublicityList | None = None
    pdf_path: Path | None = None
    xlsx_path: Path | None = None

    @property
    def notice_refusal(self) -> NoticeRefusal | None:
        return self.published.refusal if self.published else None


def xlsx_beside(pdf_path: str) -> Path:
    return Path(pdf_path).with_suffix(".xlsx")


async def publish_roll(
    session: AsyncSession,
    *,
    me: Me | None,
    village_id: int,
    text: RollPublicityText,
    render: Renderer,
    out_dir: Path,
    zone: ZoneInfo,
    default_locale: str,
    now: datetime,
    draft_key: str,
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> RollPublicityOutcome:
    """Publish the village's voter roll to every linked villager, with its objection window (OL 14)."""
    if me is not None and not me.has_role(village_id, RoleName.COMMITTEE):
        return RollPublicityOutcome(published=PublishOutcome(refusal=NoticeRefusal.NOT_ALLOWED))
    village = await session.get(Village, village_id)
    if village is None:
        await session.commit()
        return RollPublicityOutcome(refusal=PublicityRefusal.UNKNOWN_VILLAGE)
    voters = await notices_repo.voters_for_publicity(session, village_id)
    await session.commit()  # end the read: rendering the documents takes a while (storage/db.py)
    if not voters:
        return RollPublicityOutcome(refusal=PublicityRefusal.EMPTY_ROLL)

    published_on = now.astimezone(zone).date()
    policy = preset(ElectionKind.VILLAGE_COMMITTEE, Province[village.province])
    last_day = objection_deadline(policy, published_on)
    per_group: dict[str, int] = {}
    rows = []
    for seq, (person, group) in enumerate(voters, start=1):
        label = group or "—"
        per_group[label] = per_group.get(label, 0) + 1
        birth = str(person.birth_year) if person.birth_year else ""
        rows.append((str(seq), person.name, text.gender(person.gender), birth, label))
    plist = PublicityList(
        village=village.name,
        township=village.township,
        title=text.title,
        kind=PublicityKind.VOTERS,
        published_on=published_on,
        objection_deadline=last_day,
        columns=VOTER_COLUMNS,
        rows=rows,
    )
    fingerprint = plist.fingerprint()
    stem = f"voters-{village.id}-{published_on:%Y%m%d}-{fingerprint[:8]}"
    pdf_path, xlsx_path = out_dir / f"{stem}.pdf", out_dir / f"{stem}.xlsx"
    # A 3,000-row PDF is about a second of CPU: off the event loop, so other villagers are served.
    try:
        await asyncio.to_thread(write_publicity_files, plist, text.labels, pdf_path, xlsx_path)
    except CjkFontMissing:
        return RollPublicityOutcome(refusal=PublicityRefusal.FONT_MISSING)

    # Objections are taken until the end of the window's last day, village time.
    deadline = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    draft = NoticeDraft(
        village_id=village_id,
        title=text.title,
        body=text.summary(len(voters), per_group),
        audience=Audience.ALL,
        attachment=Attachment(kind=AttachmentKind.DOCUMENT, name=pdf_path.name, path=str(pdf_path)),
        draft_key=draft_key,
    )
    # Rolled back with everything else if publish_notice refuses.
    await append_audit(
        session,
        village_id,
        me,
        AuditAction.LIST_PUBLISHED,
        {"list": PublicityKind.VOTERS.value, "fingerprint": fingerprint, "rows": len(rows)},
        now=now,
    )
    published = await publish_notice(
        session,
        me=me,
        draft=draft,
        render=render,
        default_locale=default_locale,
        now=now,
        progress_chat_id=progress_chat_id,
        progress_locale=progress_locale,
        publicity=PublicityFields(
            list_kind=PublicityKind.VOTERS.value,
            published_on=published_on,
            objection_deadline=deadline,
            fingerprint=fingerprint,
        ),
    )
    return RollPublicityOutcome(published=published, plist=plist, pdf_path=pdf_path, xlsx_path=xlsx_path)

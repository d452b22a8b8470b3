"""/publish_roll: the election committee publishes the voter roll (选民名单公示) to the whole village."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.files.publicity import PublicityLabels
from bot.services.identity import Me, RoleName
from bot.services.publicity import PublicityRefusal, RollPublicityText, publish_roll
from handlers.access import HasRole, not_allowed_text
from handlers.notice_render import notice_renderer
from handlers.notices import refusal_text


def roll_publicity_text(village_name: str) -> RollPublicityText:
    """The words of the paper and chat copies, in the current (the committee member's) language.

    Everything is translated here, at once: the service calls `summary` and `gender` later,
    outside any locale context (the shell has none).
    """
    intro = _(
        "The voter roll of {village} is published: {voters} registered voters. Please check that "
        "you and your family are on it and that the details are right."
    )
    by_group, per_group_line = _("By villagers' group:"), _("{group}: {count} voters")
    closing = _(
        "The full list is in the PDF below (and as a spreadsheet). If something is wrong or "
        "someone is missing, press “Raise an objection” or send /objection before the deadline."
    )
    genders = {"F": _("female"), "M": _("male")}

    def summary(voters: int, per_group: dict[str, int]) -> str:
        lines = [intro.format(village=village_name, voters=voters), "", by_group]
        lines += [per_group_line.format(group=group, count=count) for group, count in per_group.items()]
        return "\n".join([*lines, "", closing])

    def gender(value: str | None) -> str:
        return genders.get(value or "", "")

    labels = PublicityLabels(
        published_on=_("Published: {date}"),
        objection_deadline=_("Objections until: {date}"),
        no_objection_window=_("No objection window for this list"),
        page=_("Page {page} of {pages}"),
        fingerprint=_("Fingerprint (SHA-256): {fingerprint}"),
        columns={
            "seq": _("No."),
            "name": _("Name"),
            "gender": _("Gender"),
            "birth_year": _("Born"),
            "group": _("Villagers' group"),
        },
        date_format=_("{year:04d}-{month:02d}-{day:02d}"),
        place=_("{township} {village}"),
        sheet=_("Voter roll"),
    )
    return RollPublicityText(
        title=_("Voter roll of {village}").format(village=village_name),
        summary=summary,
        labels=labels,
        gender=gender,
    )


async def publish_voter_roll(
    message: Message, session: AsyncSession, me: Me, settings: Settings, i18n: I18n, outbox: OutboxSender
) -> None:
    villages = me.villages_with(RoleName.COMMITTEE)
    for village in villages:
        assert village.id is not None
        await message.answer(
            _("Preparing the voter roll of {village} (PDF and spreadsheet)…").format(village=village.name)
        )
        outcome = await publish_roll(
            session,
            me=me,
            village_id=village.id,
            text=roll_publicity_text(village.name),
            render=notice_renderer(i18n, village_name=village.name, zone=settings.zone),
            out_dir=settings.data_dir / "publicity",
            zone=settings.zone,
            default_locale=settings.default_locale,
            now=datetime.now(UTC),
            draft_key=uuid.uuid4().hex,
            progress_chat_id=message.chat.id,
            progress_locale=i18n.current_locale,
        )
        if outcome.refusal is PublicityRefusal.EMPTY_ROLL:
            await message.answer(
                _("The roll of {village} has no registered voters yet.").format(village=village.name)
            )
            continue
        if outcome.notice_refusal is not None:
            await message.answer(refusal_text(outcome.notice_refusal))
            continue
        assert outcome.plist is not None and outcome.published is not None
        outbox.wake()
        await message.answer(
            _("Published. Fingerprint of the list: {fingerprint}. Print it on the paper copy too.").format(
                fingerprint=outcome.plist.fingerprint()
            )
        )


def font_missing_text() -> str:
    return _(
        "The PDF cannot be made: the server has no Chinese font. The administrator should install "
        "the fonts-wqy-microhei package. Nothing was published."
    )


async def refuse(message: Message) -> None:
    await message.answer(not_allowed_text())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    router.message.register(publish_voter_roll, Command("publish_roll"), HasRole(RoleName.COMMITTEE))
    router.message.register(refuse, Command("publish_roll"))
    return router

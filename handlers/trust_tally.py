"""The trust vote counted (两票制), for the committee: chat and paper ballots apart and together, who
passes the threshold, and the formal candidate list published from it (公示). /tally shows it below
the recommendation counts once the trust vote has begun."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.rules.policy import ElectionKind
from bot.rules.recommendation import CutStage
from bot.services.elections import committee_election
from bot.services.identity import Me
from bot.services.notices import NoticeRefusal
from bot.services.trust_votes import (
    FormalPublishOutcome,
    FormalPublishRefusal,
    TrustTally,
    count_trust_votes,
    publish_formal_candidates,
)
from handlers.access import not_allowed_text
from handlers.candidate_text import candidate_list_text, candidate_notifier
from handlers.election_callbacks import ElectionAction, ElectionCallback
from handlers.elections import tr
from handlers.notice_render import notice_renderer
from handlers.notices import refusal_text
from storage.models import Election


def has_trust_vote(election: Election, now: datetime) -> bool:
    """A two-ballot election whose trust vote has begun: the committee follows its count."""
    return (
        ElectionKind(election.kind) is ElectionKind.PARTY_TWO_BALLOTS
        and election.trust_vote_opens is not None
        and now >= election.trust_vote_opens
    )


def trust_tally_text(tally: TrustTally) -> str:
    lines = [
        _("🗳 {title}: the trust vote counted").format(title=tally.election.title),
        _("Ballots: {cast} ({chat} by chat, {paper} on paper) of {registered} registered voters").format(
            cast=tally.ballots_cast,
            chat=tally.chat_ballots,
            paper=tally.paper_ballots,
            registered=tally.registered_voters,
        ),
    ]
    for p in tally.positions:
        outcome = p.outcome
        lines += [
            "",
            _("{position} — {seats} seats; trust needed: {threshold} of {denominator} ({source})").format(
                position=words.position_name(p.position, tr),
                seats=p.seats,
                threshold=words.threshold_text(outcome.threshold.value, tr),
                denominator=words.denominator_name(outcome.denominator.value, tr),
                source=words.source_text(outcome.threshold.source, tr),
            ),
        ]
        for line in outcome.lines:
            chat, paper = tally.chat[line.candidate_id], tally.paper[line.candidate_id]
            lines.append(
                _(
                    "{mark} {name}: trust {trust} (chat {chat} + paper {paper}) — {share}, "
                    "{needed} needed; no trust {no_trust}, abstain {abstain}"
                ).format(
                    mark=words.trust_mark(line.decision),
                    name=tally.names.get(line.candidate_id, "?"),
                    trust=line.trust,
                    chat=chat.trust,
                    paper=paper.trust,
                    share=f"{float(line.share):.1%}" if line.share is not None else "—",
                    needed=line.needed,
                    no_trust=chat.no_trust + paper.no_trust,
                    abstain=chat.abstain + paper.abstain,
                )
            )
        lines += ["⚠️ " + s for s in words.trust_problem_sentences(p.position, outcome, tr)]
    lines += ["", _("✅ passes: a formal candidate · ▫️ below the threshold")]
    return "\n".join(lines)


async def send_trust_tally(message: Message, session: AsyncSession, election: Election) -> None:
    assert election.id is not None
    tally = await count_trust_votes(session, election.id)
    if tally is None or not tally.positions:
        return
    button = InlineKeyboardButton(
        text=_("📋 Publish the formal candidate list"),
        callback_data=ElectionCallback(action=ElectionAction.PUBLISH_FORMAL, election_id=election.id).pack(),
    )
    await message.answer(
        trust_tally_text(tally), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )


def formal_refusal_lines(outcome: FormalPublishOutcome) -> list[str]:
    match outcome.refusal:
        case FormalPublishRefusal.NOT_ALLOWED:
            return [not_allowed_text()]
        case FormalPublishRefusal.UNKNOWN_ELECTION | FormalPublishRefusal.NOT_TWO_BALLOTS:
            return [_("This election has no trust vote.")]
        case FormalPublishRefusal.NO_CANDIDATES:
            return [_("The preliminary candidates have not been published yet.")]
        case FormalPublishRefusal.VOTE_NOT_OVER:
            return [_("The trust vote is still going on. Publish the formal list after it ends.")]
        case FormalPublishRefusal.TOO_LATE:
            return [words.schedule_problem_sentence(p, tr) for p in outcome.schedule_problems]
        case FormalPublishRefusal.NOT_READY:
            lines = [_("The formal list cannot be published yet:")]
            for position, trust in outcome.position_problems:
                lines += words.trust_problem_sentences(position, trust, tr)
            return lines
        case FormalPublishRefusal.NOTICE:
            if outcome.notice_refusal is NoticeRefusal.ALREADY_SENT:
                return [_("This candidate list has already been published; it is not sent twice.")]
            assert outcome.notice_refusal is not None
            return [refusal_text(outcome.notice_refusal)]
        case None:
            return []


async def publish_formal_pressed(
    query: CallbackQuery,
    callback_data: ElectionCallback,
    session: AsyncSession,
    me: Me,
    settings: Settings,
    i18n: I18n,
    outbox: OutboxSender,
) -> None:
    election = await committee_election(session, me, callback_data.election_id)
    village = me.role_villages.get(election.village_id) if election is not None else None
    if election is None or village is None or not isinstance(query.message, Message):
        await query.answer(not_allowed_text(), show_alert=True)
        return
    await query.answer(_("Preparing the candidate list (PDF and spreadsheet)…"))
    outcome = await publish_formal_candidates(
        session,
        me,
        callback_data.election_id,
        text=lambda e: candidate_list_text(e, village.name, CutStage.FORMAL),
        render=notice_renderer(i18n, village_name=village.name, zone=settings.zone),
        notify=candidate_notifier(i18n, village_name=village.name, title=election.title),
        out_dir=settings.data_dir / "publicity",
        zone=settings.zone,
        default_locale=settings.default_locale,
        now=datetime.now(UTC),
        progress_chat_id=query.message.chat.id,
        progress_locale=i18n.current_locale,
    )
    if outcome.published is None:
        await query.message.answer("\n".join(formal_refusal_lines(outcome)))
        return
    outbox.wake()
    listed = outcome.published
    await query.message.answer(
        _(
            "Published: {count} formal candidates. Fingerprint of the list: {fingerprint}. Print it on "
            "the paper copy too. {reached} of them were also told privately; tell the others in person."
        ).format(
            count=listed.candidates, fingerprint=listed.plist.fingerprint(), reached=listed.candidates_reached
        )
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(
        publish_formal_pressed, ElectionCallback.filter(F.action == ElectionAction.PUBLISH_FORMAL)
    )
    return router

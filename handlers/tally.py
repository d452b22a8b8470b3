"""/tally: the committee sees the recommendations counted, chat and paper apart and together, ranked,
and who passes the cut; then publishes the candidate list (公示) with its fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import election_text as words
from bot.config import Settings
from bot.delivery.sender import OutboxSender
from bot.rules.policy import RecommendationRound
from bot.services.elections import committee_election, list_elections
from bot.services.identity import Me, RoleName
from bot.services.notices import NoticeRefusal
from bot.services.recommendations import (
    CandidatePublishOutcome,
    CandidatePublishRefusal,
    ElectionTally,
    PositionTally,
    TallyLine,
    publish_candidates,
    tally_election,
)
from handlers.access import HasRole, not_allowed_text
from handlers.candidate_text import candidate_list_text, candidate_notifier
from handlers.election_callbacks import ElectionAction, ElectionCallback
from handlers.elections import tr
from handlers.notice_render import notice_renderer
from handlers.notices import refusal_text
from handlers.trust_tally import has_trust_vote, send_trust_tally
from storage.models import Election, ElectionStatus

# A message holds 4096 characters: the first lines of each position are enough to decide.
SHOWN_LINES = 15


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def _counts(line: TallyLine, tally: ElectionTally) -> str:
    if len(tally.rounds) == 1:
        return _("chat {chat} · paper {paper} · total {total}").format(
            chat=line.chat_total, paper=line.paper_total, total=line.all_total
        )
    per_round = [
        _("{round}: chat {chat} + paper {paper}").format(
            round=words.round_name(r, tr), chat=line.chat.get(r, 0), paper=line.paper.get(r, 0)
        )
        for r in tally.rounds
    ]
    return "; ".join(per_round) + " — " + _("score {score}").format(score=words.score_text(line.score))


def position_text(p: PositionTally, tally: ElectionTally) -> list[str]:
    spec = tally.policy.position(p.position)
    lines = [
        _("{position} — {seats} seats; on the list: {candidates} ({source})").format(
            position=words.position_name(p.position, tr),
            seats=p.seats,
            candidates=p.cut.target,
            source=words.source_text(p.cut.source if p.cut.source else spec.margin.source, tr),
        )
    ]
    for line in p.lines[:SHOWN_LINES]:
        lines.append(
            "{rank}. {mark} {name} ({group}): {counts}".format(
                rank=line.rank,
                mark=words.decision_mark(line.decision),
                name=line.name,
                group=line.group or _("(no group)"),
                counts=_counts(line, tally),
            )
        )
    if len(p.lines) > SHOWN_LINES:
        lines.append(_("… and {count} more").format(count=len(p.lines) - SHOWN_LINES))
    if not p.lines:
        lines.append(_("Nobody has been recommended yet."))
    names = {line.candidate_id: line.name for line in p.lines}
    lines += ["⚠️ " + s for s in words.cut_problem_sentences(p.position, p.cut, names, tr)]
    return lines


def tally_text(tally: ElectionTally) -> str:
    lines = [_("📊 {title}: recommendations counted").format(title=tally.election.title)]
    for r in tally.rounds:
        took_part = tally.participants[r]
        lines.append(
            _("Taken part in the {round}: {chat} by chat, {paper} on paper").format(
                round=words.round_name(r, tr), chat=took_part.chat, paper=took_part.paper
            )
        )
    if tally.weighted_by_participants:
        lines.append(
            _(
                "Each round counts as a share of its participants, weighted {party} (party members) "
                "to {public} (villagers) — {source}."
            ).format(
                party=words.fraction_text(tally.weights[RecommendationRound.PARTY]),
                public=words.fraction_text(tally.weights[RecommendationRound.PUBLIC]),
                source=words.source_text(tally.policy.party_round_weight.source, tr),
            )
        )
    for p in tally.positions:
        lines += ["", *position_text(p, tally)]
    lines += ["", _("✅ on the list · ⚖️ tied at the line · ▫️ not on the list")]
    return "\n".join(lines)


async def show_tally(message: Message, session: AsyncSession, me: Me) -> None:
    found = await list_elections(session, me)
    elections = [e for v in found for e in v.elections if e.status != ElectionStatus.DRAFT]
    if not elections:
        await message.answer(
            _("No election is taking recommendations yet. Set one up with /election and open it.")
        )
        return
    if len(elections) == 1:
        await _send_tally(message, session, elections[0])
        return
    rows = [
        [(e.title, ElectionCallback(action=ElectionAction.TALLY, election_id=e.id or 0).pack())]
        for e in elections
    ]
    await message.answer(_("Which election?"), reply_markup=_keyboard(rows))


async def _send_tally(message: Message, session: AsyncSession, election: Election) -> None:
    assert election.id is not None
    tally = await tally_election(session, election.id)
    if tally is None:
        return
    rows = [
        [
            (
                _("📋 Publish the candidate list"),
                ElectionCallback(action=ElectionAction.PUBLISH, election_id=election.id).pack(),
            )
        ]
    ]
    await message.answer(tally_text(tally), reply_markup=_keyboard(rows))
    if has_trust_vote(election, datetime.now(UTC)):
        await send_trust_tally(message, session, election)


async def tally_pressed(
    query: CallbackQuery, callback_data: ElectionCallback, session: AsyncSession, me: Me
) -> None:
    election = await committee_election(session, me, callback_data.election_id)
    if election is None:
        await query.answer(not_allowed_text(), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _send_tally(query.message, session, election)


# ---------------------------------------------------------------------------------- publish


def publish_refusal_lines(outcome: CandidatePublishOutcome, names: dict[int, str]) -> list[str]:
    match outcome.refusal:
        case CandidatePublishRefusal.NOT_ALLOWED:
            return [not_allowed_text()]
        case CandidatePublishRefusal.UNKNOWN_ELECTION:
            return [_("There is no such election.")]
        case CandidatePublishRefusal.WINDOW_STILL_OPEN:
            return [_("Recommendations are still open. Publish the list after they end.")]
        case CandidatePublishRefusal.TOO_LATE:
            return [words.schedule_problem_sentence(p, tr) for p in outcome.schedule_problems]
        case CandidatePublishRefusal.NOT_READY:
            lines = [_("The list cannot be published yet:")]
            for position, cut_outcome in outcome.position_problems:
                lines += words.cut_problem_sentences(position, cut_outcome, names, tr)
            if not outcome.position_problems:
                lines.append(_("This election has no positions."))
            return lines
        case CandidatePublishRefusal.NOTICE:
            if outcome.notice_refusal is NoticeRefusal.ALREADY_SENT:
                return [_("This candidate list has already been published; it is not sent twice.")]
            assert outcome.notice_refusal is not None
            return [refusal_text(outcome.notice_refusal)]
        case None:
            return []


async def publish_pressed(
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
    outcome = await publish_candidates(
        session,
        me,
        callback_data.election_id,
        text=lambda e: candidate_list_text(e, village.name),
        render=notice_renderer(i18n, village_name=village.name, zone=settings.zone),
        notify=candidate_notifier(i18n, village_name=village.name, title=election.title),
        out_dir=settings.data_dir / "publicity",
        zone=settings.zone,
        default_locale=settings.default_locale,
        now=datetime.now(UTC),
        progress_chat_id=query.message.chat.id,
        progress_locale=i18n.current_locale,
    )
    if outcome.refusal is not None or outcome.plist is None:
        names: dict[int, str] = {}
        if outcome.refusal is CandidatePublishRefusal.NOT_READY:
            tally = await tally_election(session, callback_data.election_id)
            names = {
                line.candidate_id: line.name for p in (tally.positions if tally else ()) for line in p.lines
            }
        await query.message.answer("\n".join(publish_refusal_lines(outcome, names)))
        return
    outbox.wake()
    await query.message.answer(
        _(
            "Published: {count} candidates. Fingerprint of the list: {fingerprint}. Print it on the "
            "paper copy too. {reached} of them were also told privately; tell the others in person."
        ).format(
            count=outcome.candidates,
            fingerprint=outcome.plist.fingerprint(),
            reached=outcome.candidates_reached,
        )
    )


async def refuse(message: Message) -> None:
    await message.answer(not_allowed_text())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == "private")
    committee = HasRole(RoleName.COMMITTEE)
    router.message.register(show_tally, Command("tally"), committee)
    router.message.register(refuse, Command("tally"))
    router.callback_query.register(tally_pressed, ElectionCallback.filter(F.action == ElectionAction.TALLY))
    router.callback_query.register(
        publish_pressed, ElectionCallback.filter(F.action == ElectionAction.PUBLISH)
    )
    return router

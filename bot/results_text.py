"""The words of a results announcement in one language: the message each villager gets, the PDF and
the chart. Every line that decides something names the article that decided it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from bot import election_text as words
from bot.cli_text import Translate
from bot.files.results import ResultsDocument, ResultsRow, ResultsSection
from bot.rules.fingerprint import format_fingerprint, short_fingerprint
from bot.rules.policy import Threshold
from bot.rules.results import (
    ElectionRound,
    NextStep,
    PositionOutcome,
    ResultStatus,
    TallyProblem,
    TallyProblemReason,
    ValidityReason,
    VoteDecision,
)
from bot.services.elections import policy_of
from bot.services.results import Announcement, Finality, PositionResult


def percent(value: Fraction) -> str:
    """52.3% (rounded half up for display; every decision uses the exact fraction)."""
    shown = (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{shown}%"


def decision_text(decision: VoteDecision, _: Translate) -> str:
    match decision:
        case VoteDecision.ELECTED:
            return _("elected")
        case VoteDecision.TIED:
            return _("tied: run-off")
        case VoteDecision.OUTRANKED:
            return _("over the threshold, but others had more votes")
        case VoteDecision.BELOW_THRESHOLD:
            return _("not elected: too few votes")


def title_text(announcement: Announcement, _: Translate) -> str:
    election = announcement.evaluation.election
    if announcement.evaluation.entry.round == ElectionRound.SECOND.value:
        return _("Results of the second round: {title}", title=election.title)
    return _("Results: {title}", title=election.title)


def finality_text(announcement: Announcement, _: Translate) -> str:
    if announcement.finality is Finality.PROVISIONAL and announcement.objections_until is not None:
        return _(
            "Provisional: objections can be raised until {day}; then the results are final.",
            day=words.local_day(announcement.objections_until, _),
        )
    return _("Final: the time for objections is over.")


def _validity_line(result: PositionResult, party: bool, _: Translate) -> str:
    validity = result.outcome.validity
    if validity is None:
        return ""
    share = percent(validity.share) if validity.share is not None else "—"
    source = words.source_text(validity.source, _)
    if validity.valid:
        if party:
            return _(
                "Valid: {turnout} of {registered} members present ({share}); {needed} needed ({source}).",
                turnout=validity.turnout,
                registered=validity.registered,
                share=share,
                needed=validity.needed,
                source=source,
            )
        return _(
            "Valid: {turnout} of {registered} voters cast a ballot ({share}); {needed} needed ({source}).",
            turnout=validity.turnout,
            registered=validity.registered,
            share=share,
            needed=validity.needed,
            source=source,
        )
    if validity.reason is ValidityReason.RETURNED_ABOVE_ISSUED:
        return _("Void: more ballots were returned than issued ({source}).", source=source)
    return _(
        "Void: only {turnout} of {registered} took part ({share}); {needed} were needed ({source}). "
        "The vote must be held again.",
        turnout=validity.turnout,
        registered=validity.registered,
        share=share,
        needed=validity.needed,
        source=source,
    )


def _ballot_line(result: PositionResult, _: Translate) -> str:
    b = result.ballots
    return _(
        "Ballots issued {issued}, returned {returned}, valid {valid}, invalid {invalid}.",
        issued=b.issued,
        returned=b.returned,
        valid=b.valid,
        invalid=b.invalid,
    )


def _next_step_lines(result: PositionResult, decided: PositionOutcome, _: Translate) -> list[str]:
    source = words.source_text(decided.next_step_source, _) if decided.next_step_source else ""
    tied = "、".join(result.names[c] for c in decided.tied)
    match decided.next_step:
        case NextStep.NONE:
            return []
        case NextStep.RUNOFF:
            return [
                _(
                    "Tied for {seats} seat(s): {names} vote again ({source}).",
                    seats=decided.tied_seats,
                    names=tied,
                    source=source,
                )
            ]
        case NextStep.SECOND_ROUND:
            return [
                _(
                    "{seats} seat(s) not filled: a second round is held for them ({source}).",
                    seats=decided.unfilled,
                    source=source,
                )
            ]
        case NextStep.RUNOFF_AND_SECOND_ROUND:
            return [
                _("Tied for {seats} seat(s): {names} vote again.", seats=decided.tied_seats, names=tied),
                _(
                    "{seats} seat(s) not filled: a second round is held for them ({source}).",
                    seats=decided.unfilled,
                    source=source,
                ),
            ]
        case NextStep.VACANT:
            return [
                _(
                    "{seats} seat(s) stay vacant after the second round ({source}).",
                    seats=decided.unfilled,
                    source=source,
                )
            ]


def tally_problem_sentence(problem: TallyProblem, _: Translate) -> str:
    n = problem.numbers
    match problem.reason:
        case TallyProblemReason.NEGATIVE_NUMBER:
            return _(
                "A number is below zero: {numbers}.", numbers=", ".join(f"{k} {v}" for k, v in n.items())
            )
        case TallyProblemReason.RETURNED_ABOVE_ISSUED:
            return _("More ballots returned ({returned}) than issued ({issued}).", **n)
        case TallyProblemReason.VALID_PLUS_INVALID_NOT_RETURNED:
            return _(
                "Valid ({valid}) plus invalid ({invalid}) is not the ballots returned ({returned}).", **n
            )
        case TallyProblemReason.RETURNED_ABOVE_PRESENT:
            return _("More ballots returned ({returned}) than members present ({present}).", **n)
        case TallyProblemReason.PRESENT_ABOVE_REGISTERED:
            return _("More members present ({present}) than entitled to vote ({registered}).", **n)
        case TallyProblemReason.RETURNED_ABOVE_REGISTERED:
            return _("More ballots returned ({returned}) than registered voters ({registered}).", **n)
        case TallyProblemReason.NO_SEATS:
            return _("The position has no seats.")
        case TallyProblemReason.VOTES_ABOVE_VALID_TIMES_SEATS:
            return _("The votes add up to {votes}, more than valid ballots × seats ({valid} × {seats}).", **n)
        case TallyProblemReason.CANDIDATE_VOTES_ABOVE_VALID:
            return _("One name has {votes} votes, more than the valid ballots ({valid}).", **n)


def section_for(result: PositionResult, announcement: Announcement, _: Translate) -> ResultsSection:
    party = announcement.evaluation.entry.present is not None
    heading = _(
        "{position} — {seats} seat(s)", position=words.position_name(result.position, _), seats=result.seats
    )
    lines = [_ballot_line(result, _), _validity_line(result, party, _)]
    outcome = result.outcome
    if outcome.status is not ResultStatus.DECIDED or not outcome.positions:
        return ResultsSection(heading, [line for line in lines if line], _headers(_), [], None)
    decided = outcome.positions[0]
    base = _("members present") if party else _("ballots cast")
    lines.append(
        _(
            "Elected with {needed} votes or more ({threshold} of the {base}; {source}).",
            needed=decided.needed,
            threshold=words.threshold_text(_threshold(announcement, decided), _),
            base=base,
            source=words.source_text(decided.source, _),
        )
    )
    rows = []
    for line in decided.lines:
        name = result.names[line.candidate_id]
        if line.candidate_id in result.write_ins:
            name = _("{name} (written in)", name=name)
        rows.append(
            ResultsRow(
                name=name,
                votes=line.votes,
                share=percent(line.share),
                decision=_(
                    "{decision} ({source})",
                    decision=decision_text(line.decision, _),
                    source=words.source_text(line.source, _),
                ),
                elected=line.decision is VoteDecision.ELECTED,
            )
        )
    return ResultsSection(
        heading,
        [line for line in lines if line],
        _headers(_),
        rows,
        decided.needed,
        _next_step_lines(result, decided, _),
    )


def _threshold(announcement: Announcement, decided: PositionOutcome) -> Threshold:
    policy = policy_of(announcement.evaluation.election)
    if announcement.evaluation.entry.round == ElectionRound.SECOND.value:
        return policy.second_round_min_share.value
    return policy.elected.value


def _headers(_: Translate) -> tuple[str, str, str, str]:
    return (_("Name"), _("Votes"), _("Share"), _("Decision"))


def closing_lines(announcement: Announcement, _: Translate) -> list[str]:
    lines: list[str] = []
    women = announcement.evaluation.women
    if women is not None:
        source = words.source_text(women.source, _)
        if women.met:
            lines.append(
                _(
                    "At least {required} woman elected: yes, {elected} ({source}).",
                    required=women.required,
                    elected=women.women_elected,
                    source=source,
                )
            )
        elif women.seats_pending:
            lines.append(
                _(
                    "At least {required} woman must be elected: not yet; {pending} seat(s) still to be "
                    "decided ({source}).",
                    required=women.required,
                    pending=women.seats_pending,
                    source=source,
                )
            )
        else:
            lines.append(
                _(
                    "At least {required} woman must be elected: not met; the committee and the township "
                    "must act ({source}).",
                    required=women.required,
                    source=source,
                )
            )
    for digest in announcement.superseded:
        lines.append(
            _(
                "This corrects the results published earlier with fingerprint {fingerprint}; those are "
                "replaced.",
                fingerprint=short_fingerprint(digest),
            )
        )
    return lines


def fingerprint_label(_: Translate) -> str:
    return _("Fingerprint (SHA-256) of the count: {fingerprint}")


def results_document(announcement: Announcement, _: Translate) -> ResultsDocument:
    evaluation = announcement.evaluation
    entry = evaluation.entry
    version = _("version {version}", version=entry.version) if entry.version > 1 else ""
    elected = "、".join(evaluation.elected_names) or _("nobody")
    return ResultsDocument(
        title=title_text(announcement, _),
        summary=_("Elected: {names}.", names=elected) + "\n" + finality_text(announcement, _),
        lines=[
            line
            for line in (
                f"{evaluation.village.township} · {evaluation.village.name}",
                _("Published on {day}", day=words.local_day(announcement.published_on, _))
                + (f" · {version}" if version else ""),
                finality_text(announcement, _),
            )
            if line
        ],
        sections=[section_for(p, announcement, _) for p in evaluation.positions],
        closing=closing_lines(announcement, _),
        fingerprint=entry.fingerprint,
        fingerprint_label=fingerprint_label(_),
        chart_title=title_text(announcement, _),
        votes_label=_("Votes"),
        needed_label=_("needed: {needed}"),
        published_on=announcement.published_on,
    )


def announcement_text(announcement: Announcement, _: Translate, *, preview: bool = False) -> str:
    """The message: who is elected, votes and shares, turnout, valid and invalid, the fingerprint.
    A `preview` (for the committee, before publication) leaves out the date and the objection window."""
    document = results_document(announcement, _)
    out = [f"📊 {document.title}", *([] if preview else document.lines[1:])]
    for section in document.sections:
        out += ["", f"【{section.heading}】", *section.lines]
        out += [
            _(
                "{mark} {name}: {votes} votes ({share}) — {decision}",
                mark="✅" if r.elected else "▫️",
                name=r.name,
                votes=r.votes,
                share=r.share,
                decision=r.decision,
            )
            for r in section.rows
        ]
        out += list(section.notes)
    if document.closing:
        out += ["", *document.closing]
    out += ["", document.fingerprint_label.format(fingerprint=format_fingerprint(document.fingerprint))]
    return "\n".join(out)

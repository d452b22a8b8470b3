"""Elections and recommendations in words: shared by the chat (handlers) and the shell (bot.cli_elections).

Every function takes the translator `_` as a parameter (see bot.cli_text): the shell passes its
own, a handler passes ``chat_translator()``-style ``lambda msgid, **values: gettext(msgid).format(...)``.
The words are for a villager of sixty reading on an old phone: short sentences, the rule named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bot.cli_text import Translate
from bot.files.tally import TallyCellIssue, TallyCellProblem, TallyField, TallyFileProblem, TallyReading
from bot.rules.policy import (
    CandidateMargin,
    Denominator,
    ElectionKind,
    Law,
    PolicyProblem,
    PolicyRefusalReason,
    Position,
    RecommendationRound,
    Relationship,
    SeatProblem,
    SeatProblemReason,
    SeatRange,
    Source,
    Threshold,
    ThresholdRule,
)
from bot.rules.recommendation import CutDecision, CutOutcome, CutProblem, RecommendationRefusal
from bot.rules.schedule import Phase, ScheduleProblem, ScheduleProblemReason
from bot.rules.trust import TrustDecision, TrustOutcome, TrustProblem
from bot.services.elections import ElectionOutcome, ElectionRefusal, OverrideProblem, OverrideProblemReason
from bot.services.recommendations import PaperProblem, PaperProblemReason
from storage.models import ElectionStatus

_ARTICLE_PARAGRAPH = re.compile(r"^(\d+) ¶(\d+)$")


# ----------------------------------------------------------------------------------- names


def kind_name(kind: ElectionKind, _: Translate) -> str:
    match kind:
        case ElectionKind.VILLAGE_COMMITTEE:
            return _("Village committee election")
        case ElectionKind.PARTY_TWO_PUSHES:
            return _("Party branch: two recommendations, one election")
        case ElectionKind.PARTY_TWO_BALLOTS:
            return _("Party branch: two-ballot system")
        case ElectionKind.PARTY_PUBLIC_DIRECT:
            return _("Party branch: public recommendation, direct election")


def position_name(position: Position, _: Translate) -> str:
    match position:
        case Position.DIRECTOR:
            return _("Director")
        case Position.DEPUTY:
            return _("Deputy director")
        case Position.MEMBER:
            return _("Committee member")
        case Position.SECRETARY:
            return _("Party secretary")
        case Position.DEPUTY_SECRETARY:
            return _("Deputy party secretary")
        case Position.COMMITTEE_MEMBER:
            return _("Branch committee member")


def round_name(round_: RecommendationRound, _: Translate) -> str:
    match round_:
        case RecommendationRound.PARTY:
            return _("party members' round")
        case RecommendationRound.PUBLIC:
            return _("villagers' round")


def status_name(status: str, _: Translate) -> str:
    match status:
        case ElectionStatus.DRAFT:
            return _("being prepared")
        case ElectionStatus.OPEN:
            return _("open")
        case ElectionStatus.CLOSED:
            return _("finished")
    return status


def law_name(law: Law, _: Translate) -> str:
    match law:
        case Law.OL:
            return _("Organic Law of the Villagers' Committees")
        case Law.BJ:
            return _("Beijing village committee election rules")
        case Law.SH:
            return _("Shanghai village committee election rules")
        case Law.ZJ:
            return _("Zhejiang village committee election rules")
        case Law.HN:
            return _("Henan rules implementing the Organic Law")
        case Law.PR:
            return _("Party grassroots election rules")
        case Law.PR_1990:
            return _("Party grassroots election interim rules of 1990")
        case Law.PILOT:
            return _("the two-ballot pilot report")
        case Law.JOURNAL:
            return _("a journal article on the two-ballot system")
        case Law.LOCAL:
            return _("local practice")
        case Law.CUNMIN:
            return _("Cunmin's default, no legal source found")
        case Law.COMMITTEE:
            return _("decision of the election committee")


def source_text(source: Source, _: Translate) -> str:
    """``OL 15 ¶2`` -> "Organic Law of the Villagers' Committees, art. 15, para. 2"."""
    law = law_name(source.law, _)
    match = _ARTICLE_PARAGRAPH.match(source.article)
    if match is not None:
        text = _("{law}, art. {article}, para. {paragraph}", law=law, article=match[1], paragraph=match[2])
    elif source.article:
        text = _("{law}, art. {article}", law=law, article=source.article)
    else:
        text = law
    if not source.confirmed and source.law not in (Law.CUNMIN, Law.COMMITTEE):
        text = _("{source} (not confirmed; the committee may change it)", source=text)
    return text


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def score_text(value: Fraction) -> str:
    """A weighted score for display, to three decimals (deciding always uses the exact Fraction)."""
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.3f}"


def threshold_text(threshold: Threshold, _: Translate) -> str:
    fraction = fraction_text(threshold.fraction)
    if threshold.rule is ThresholdRule.MORE_THAN:
        return _("more than {fraction}", fraction=fraction)
    return _("at least {fraction}", fraction=fraction)


def relationship_name(relationship: Relationship, _: Translate) -> str:
    match relationship:
        case Relationship.SPOUSE:
            return _("spouse")
        case Relationship.PARENT:
            return _("parents")
        case Relationship.CHILD:
            return _("children")
        case Relationship.SIBLING:
            return _("brothers and sisters")
        case Relationship.GRANDPARENT:
            return _("grandparents")
        case Relationship.GRANDCHILD:
            return _("grandchildren")
        case Relationship.OTHER_NEAR_RELATIVE:
            return _("other near relatives")
        case Relationship.NOT_RELATED:
            return _("not related")


def denominator_name(denominator: Denominator, _: Translate) -> str:
    match denominator:
        case Denominator.BALLOTS_CAST:
            return _("ballots cast")
        case Denominator.MEMBERS_PRESENT:
            return _("party members present")
        case Denominator.REGISTERED_VOTERS:
            return _("registered voters")


def margin_text(margin: CandidateMargin, seats: int, _: Translate) -> str:
    low, high = margin.min_candidates(seats), margin.max_candidates(seats)
    if high is None:
        return _("at least {low} candidates", low=low)
    if high == low:
        return _("exactly {low} candidates", low=low)
    return _("{low} to {high} candidates", low=low, high=high)


def value_text(value: object, _: Translate) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Fraction):
        return fraction_text(value)
    if isinstance(value, Threshold):
        return threshold_text(value, _)
    if isinstance(value, Denominator):
        return denominator_name(value, _)
    if isinstance(value, SeatRange):
        return f"{value.min}–{value.max}"
    if isinstance(value, frozenset):
        names = sorted(relationship_name(Relationship(v), _) for v in value)
        return _(", ").join(names)
    return str(value)


def field_label(name: str, _: Translate) -> str:
    labels = {
        "committee_size": _("Committee size (members)"),
        "women_min": _("Women on the committee, at least"),
        "term_years": _("Term (years)"),
        "voter_min_age": _("Voting age"),
        "full_party_members_only": _("Only full party members vote"),
        "voter_list_lead_days": _("Voter list published, days before election day (at least)"),
        "objection_window_days": _("Days to object to a published list"),
        "objection_decision_days": _("Days for the committee to decide an objection"),
        "recommendation_quota_per_seat": _("Recommendations per person for each seat"),
        "self_nomination_allowed": _("A person may recommend themselves"),
        "nomination_by_proxy_allowed": _("Recommending on someone else's behalf"),
        "party_round_weight": _("Weight of the party members' round"),
        "public_round_weight": _("Weight of the villagers' round"),
        "public_round_min_ratio": _("Villagers' round size, compared with party members"),
        "trust_threshold": _("Trust votes needed"),
        "trust_denominator": _("Trust votes counted against"),
        "preliminary_ratio": _("Preliminary candidates per seat"),
        "candidate_list_lead_days": _("Candidate list published, days before election day (at least)"),
        "candidates_meet_voters": _("Candidates meet the voters"),
        "turnout_measure": _("Turnout counted as"),
        "validity": _("Valid election: voters taking part"),
        "returned_above_issued_voids": _("More ballots returned than issued voids the vote"),
        "elected": _("Elected with"),
        "tie_runoff": _("A tie goes to a run-off"),
        "second_round_min_share": _("Second round: votes needed"),
        "second_round_deadline_days": _("Second round within (days)"),
        "results_on_the_spot": _("Results announced on the spot"),
        "proxy_allowed": _("Proxy voting allowed"),
        "proxy_cap": _("People one proxy holder may vote for, at most"),
        "proxy_relationships": _("Who may hold a proxy"),
        "candidates_may_hold_proxies": _("Candidates may hold proxies"),
        "proxy_application_lead_days": _("Proxy requests, days before election day (at least)"),
        "proxy_on_election_day_allowed": _("Proxy requests on election day"),
        "proxy_list_lead_days": _("Proxy list published, days before election day (at least)"),
        "proxy_redelegation_forbidden": _("A proxy holder may not pass the vote on"),
        "proxy_unpublished_void": _("An unpublished proxy is void"),
        "proxy_certificate": _("Proxy certificate issued"),
        "proxy_voter_card_taken_back": _("Voter card taken back from the principal"),
        "mobile_box_min_scrutineers": _("Scrutineers with a mobile ballot box, at least"),
        "mobile_box_township_approval": _("Mobile ballot box needs the township's approval"),
        "mobile_box_publish_voters": _("Voters of the mobile ballot box published"),
        "mobile_box_publish_scrutineers": _("Scrutineers of the mobile ballot box published"),
        "meeting_notice_days": _("Days of notice for a villagers' meeting"),
    }
    return labels.get(name, name)


def policy_field_label(field: str, _: Translate) -> str:
    """A PolicyProblem's field: a Policy field, or ``positions.<position>.<part>``."""
    if not field.startswith("positions."):
        return field_label(field, _)
    parts = field.split(".")
    try:
        position = position_name(Position(parts[1]), _)
    except ValueError:
        position = parts[1]
    if len(parts) > 2 and parts[2] == "seats":
        return _("{position}: seats", position=position)
    if len(parts) > 2 and parts[2] == "margin":
        return _("{position}: number of candidates", position=position)
    return position


# ------------------------------------------------------------------------------ problems


def policy_problem_sentence(problem: PolicyProblem, _: Translate) -> str:
    label, source = policy_field_label(problem.field, _), source_text(problem.source, _)
    match problem.reason:
        case PolicyRefusalReason.BELOW_LEGAL_MINIMUM | PolicyRefusalReason.MARGIN_BELOW_LEGAL:
            return _("{label}: this is below the legal minimum ({source}).", label=label, source=source)
        case PolicyRefusalReason.ABOVE_LEGAL_MAXIMUM | PolicyRefusalReason.MARGIN_ABOVE_LEGAL:
            return _("{label}: this is above the legal maximum ({source}).", label=label, source=source)
        case PolicyRefusalReason.THRESHOLD_WEAKENED:
            return _("{label}: this is lower than the law requires ({source}).", label=label, source=source)
        case PolicyRefusalReason.REQUIREMENT_DROPPED:
            return _("{label}: the law requires it ({source}).", label=label, source=source)
        case PolicyRefusalReason.PERMISSION_ADDED:
            return _("{label}: the law does not allow it ({source}).", label=label, source=source)
        case PolicyRefusalReason.RELATIONSHIPS_WIDENED:
            return _("{label}: the law allows only near relatives ({source}).", label=label, source=source)
        case PolicyRefusalReason.FIXED_BY_LAW:
            return _("{label}: fixed by law, it cannot be changed ({source}).", label=label, source=source)
        case PolicyRefusalReason.RANGE_WIDENED:
            return _("{label}: outside what the law allows ({source}).", label=label, source=source)
        case PolicyRefusalReason.POSITION_MISSING | PolicyRefusalReason.POSITION_ADDED:
            return _(
                "{label}: the positions are fixed for this kind of election ({source}).",
                label=label,
                source=source,
            )


def warning_sentence(problem: PolicyProblem, _: Translate) -> str:
    return _(
        "{label}: changed from a value whose source is not confirmed ({source}). Check it with the township.",
        label=policy_field_label(problem.field, _),
        source=source_text(problem.source, _),
    )


def seat_problem_sentence(problem: SeatProblem, _: Translate) -> str:
    source = source_text(problem.source, _)
    allowed = f"{problem.allowed.min}–{problem.allowed.max}" if problem.allowed else ""
    match problem.reason:
        case SeatProblemReason.COMMITTEE_TOO_SMALL | SeatProblemReason.COMMITTEE_TOO_LARGE:
            return _(
                "The committee would have {seats} members; the law says {allowed} ({source}).",
                seats=problem.seats,
                allowed=allowed,
                source=source,
            )
        case SeatProblemReason.POSITION_SEATS_OUT_OF_RANGE:
            name = position_name(problem.position, _) if problem.position else ""
            return _(
                "{position}: {seats} seats; allowed: {allowed} ({source}).",
                position=name,
                seats=problem.seats,
                allowed=allowed,
                source=source,
            )
        case SeatProblemReason.POSITION_NOT_IN_POLICY:
            name = position_name(problem.position, _) if problem.position else ""
            return _("{position} is not a position of this kind of election.", position=name)


def phase_name(phase: Phase, _: Translate) -> str:
    match phase:
        case Phase.RECOMMENDATION:
            return _("the recommendation period")
        case Phase.TRUST_VOTE:
            return _("the trust vote")
        case Phase.VOTER_LIST:
            return _("the voter list")
        case Phase.CANDIDATE_LIST:
            return _("the candidate list")
        case Phase.PROXY_DEADLINE:
            return _("the last day for proxy requests")
        case Phase.PROXY_LIST:
            return _("the proxy list")
        case Phase.ELECTION_DAY:
            return _("election day")
        case Phase.SECOND_ROUND:
            return _("the second round")
        case Phase.MEETING:
            return _("the villagers' meeting")


def schedule_problem_sentence(problem: ScheduleProblem, _: Translate) -> str:
    phase = phase_name(problem.phase, _)
    source = source_text(problem.source, _) if problem.source else ""
    required, actual = problem.required_days, problem.actual_days
    match problem.reason:
        case ScheduleProblemReason.WINDOW_INVERTED:
            return _("{phase}: the last day is before the first day.", phase=phase)
        case ScheduleProblemReason.IN_THE_PAST:
            return _("{phase}: this date is already past.", phase=phase)
        case ScheduleProblemReason.AFTER_ELECTION_DAY:
            return _("{phase}: it must end by election day.", phase=phase)
        case ScheduleProblemReason.VOTER_LIST_TOO_LATE | ScheduleProblemReason.CANDIDATE_LIST_TOO_LATE:
            return _(
                "{phase} must be published at least {required} days before election day, "
                "but this leaves only {actual} days ({source}).",
                phase=phase,
                required=required,
                actual=actual,
                source=source,
            )
        case ScheduleProblemReason.VOTER_OBJECTIONS_NOT_SETTLED:
            return _(
                "Objections to the voter list cannot be settled before election day: publish it at "
                "least {required} days before ({source}).",
                required=required,
                source=source,
            )
        case ScheduleProblemReason.RECOMMENDATION_AFTER_CANDIDATE_LIST:
            return _(
                "Recommendations must end before the candidate list is published ({source}).", source=source
            )
        case ScheduleProblemReason.RECOMMENDATION_OVERLAPS_TRUST_VOTE:
            return _("Recommendations must end before the trust vote starts ({source}).", source=source)
        case ScheduleProblemReason.TRUST_VOTE_AFTER_CANDIDATE_LIST:
            return _(
                "The trust vote must end before the candidate list is published ({source}).", source=source
            )
        case ScheduleProblemReason.TRUST_VOTE_NOT_IN_THIS_KIND:
            return _("Only the two-ballot system has a trust vote ({source}).", source=source)
        case ScheduleProblemReason.PROXY_NOT_ALLOWED:
            return _("This kind of election has no proxy voting ({source}).", source=source)
        case ScheduleProblemReason.PROXY_DEADLINE_TOO_LATE | ScheduleProblemReason.PROXY_LIST_TOO_LATE:
            return _(
                "{phase}: at least {required} days before election day, not {actual} ({source}).",
                phase=phase,
                required=required,
                actual=actual,
                source=source,
            )
        case ScheduleProblemReason.PROXY_LIST_BEFORE_DEADLINE:
            return _(
                "The proxy list must be published after the last day for requests ({source}).", source=source
            )
        case ScheduleProblemReason.SECOND_ROUND_NOT_AFTER_ELECTION:
            return _("The second round must come after election day ({source}).", source=source)
        case ScheduleProblemReason.SECOND_ROUND_TOO_LATE:
            return _(
                "The second round must be within {required} days of election day, not {actual} ({source}).",
                required=required,
                actual=actual,
                source=source,
            )
        case ScheduleProblemReason.MEETING_NOTICE_TOO_LATE:
            return _(
                "A villagers' meeting needs {required} days' notice, not {actual} ({source}).",
                required=required,
                actual=actual,
                source=source,
            )


def override_problem_sentence(problem: OverrideProblem, _: Translate) -> str:
    match problem.reason:
        case OverrideProblemReason.UNKNOWN_FIELD:
            return _("“{field}” is not a rule of the election policy.", field=problem.field)
        case OverrideProblemReason.NOT_CHANGEABLE:
            return _("“{field}” cannot be changed here.", field=problem.field)
        case OverrideProblemReason.WRONG_TYPE:
            return _(
                "“{field}”: “{value}” is not a value of the right kind (a whole number, yes/no, a "
                "fraction like 3/2, or a threshold like “at_least 7/10”).",
                field=problem.field,
                value=problem.value,
            )


def election_refusal_lines(outcome: ElectionOutcome, _: Translate) -> list[str]:
    """Why an election was not created or changed: the reason, then each problem with its source."""
    match outcome.refusal:
        case ElectionRefusal.NOT_ALLOWED:
            head = _("Sorry, this is only for the village's election committee.")
        case ElectionRefusal.UNKNOWN_VILLAGE:
            head = _("That village is not served here.")
        case ElectionRefusal.UNKNOWN_ELECTION:
            head = _("There is no such election.")
        case ElectionRefusal.EMPTY_TITLE:
            head = _("The title is empty.")
        case ElectionRefusal.TITLE_TOO_LONG:
            head = _("The title is too long (at most 200 characters).")
        case ElectionRefusal.BAD_OVERRIDES:
            head = _("Some changes to the rules are not understood:")
        case ElectionRefusal.POLICY_BREAKS_LAW:
            head = _("These changes would break the law, so nothing was saved:")
        case ElectionRefusal.SEATS_BREAK_LAW:
            head = _("The seats do not fit the law, so nothing was saved:")
        case ElectionRefusal.NO_RECOMMENDATION_WINDOW:
            head = _("The recommendation period is missing: give its first and last day.")
        case ElectionRefusal.SCHEDULE_BREAKS_LAW:
            head = _("The dates do not fit the law, so nothing was saved:")
        case ElectionRefusal.NOT_DRAFT:
            head = _("This election is already open.")
        case ElectionRefusal.CLOSED:
            head = _("This election is finished; its rules can no longer change.")
        case ElectionRefusal.STALE_VERSION:
            head = _(
                "Someone else changed this election a moment ago. Look at it again, then make your change."
            )
        case None:
            return []
    lines = [head]
    lines += ["• " + override_problem_sentence(p, _) for p in outcome.override_problems]
    lines += ["• " + policy_problem_sentence(p, _) for p in outcome.policy_problems]
    lines += ["• " + seat_problem_sentence(p, _) for p in outcome.seat_problems]
    lines += ["• " + schedule_problem_sentence(p, _) for p in outcome.schedule_problems]
    return lines


# -------------------------------------------------------------------------- recommendations


def used_text(used: int, quota: int, _: Translate) -> str:
    return _("{used} of {quota} used", used=used, quota=quota)


def rule_sentence(
    reason: RecommendationRefusal,
    source: Source | None,
    _: Translate,
    *,
    name: str,
    position: str,
    quota: int,
    opens: str,
    closes: str,
) -> str:
    """Why a recommendation was refused, in plain words, naming the rule."""
    law = source_text(source, _) if source is not None else ""
    match reason:
        case RecommendationRefusal.WINDOW_NOT_OPEN:
            return _("Recommendations have not started yet. They start on {opens}.", opens=opens)
        case RecommendationRefusal.WINDOW_CLOSED:
            return _("Recommendations ended on {closes}. Nothing was recorded.", closes=closes)
        case RecommendationRefusal.ROUND_NOT_IN_THIS_KIND:
            return _("This election has no party members' round ({law}).", law=law)
        case RecommendationRefusal.POSITION_NOT_IN_POLICY:
            return _("This election does not fill that position.")
        case RecommendationRefusal.RECOMMENDER_NOT_IN_VILLAGE:
            return _(
                "You are not on the voter roll of this village, so you cannot recommend here ({law}).",
                law=law,
            )
        case RecommendationRefusal.RECOMMENDER_REMOVED:
            return _(
                "You have been taken off the voter roll, so you cannot recommend ({law}). If this is "
                "a mistake, please tell the election committee.",
                law=law,
            )
        case RecommendationRefusal.RECOMMENDER_NOT_ON_ROLL:
            return _("Only registered voters can recommend, and you are not one ({law}).", law=law)
        case RecommendationRefusal.RECOMMENDER_NOT_FULL_PARTY_MEMBER:
            return _("Only full party members recommend in the party members' round ({law}).", law=law)
        case RecommendationRefusal.CANDIDATE_NOT_IN_VILLAGE:
            return _(
                "{name} is not on the voter roll of this village. Only people of this village can be "
                "recommended ({law}).",
                name=name,
                law=law,
            )
        case RecommendationRefusal.CANDIDATE_REMOVED:
            return _(
                "{name} has been taken off the voter roll and cannot be recommended ({law}).",
                name=name,
                law=law,
            )
        case RecommendationRefusal.CANDIDATE_NOT_ON_ROLL:
            return _(
                "{name} is not a registered voter and cannot be recommended ({law}).", name=name, law=law
            )
        case RecommendationRefusal.CANDIDATE_NOT_FULL_PARTY_MEMBER:
            return _(
                "{name} is not a full party member. Only full party members can be recommended for "
                "{position} ({law}).",
                name=name,
                position=position,
                law=law,
            )
        case RecommendationRefusal.SELF_NOMINATION_NOT_ALLOWED:
            return _("In this election you cannot recommend yourself ({law}).", law=law)
        case RecommendationRefusal.BY_PROXY_NOT_ALLOWED:
            return _("Nobody may recommend on someone else's behalf ({law}).", law=law)
        case RecommendationRefusal.DUPLICATE:
            return _("You have already recommended {name} for {position}.", name=name, position=position)
        case RecommendationRefusal.QUOTA_USED:
            return _(
                "You have already made all {quota} of your recommendations for {position} ({law}). "
                "To change your mind, first take one back: send /recommend.",
                quota=quota,
                position=position,
                law=law,
            )


# ------------------------------------------------------------------------------ paper counts


def tally_field_name(tally_field: TallyField, _: Translate) -> str:
    match tally_field:
        case TallyField.GROUP:
            return _("villagers' group")
        case TallyField.DATE:
            return _("meeting date")
        case TallyField.POSITION:
            return _("position")
        case TallyField.ROUND:
            return _("round")
        case TallyField.NAME:
            return _("name")
        case TallyField.COUNT:
            return _("count")
        case TallyField.PARTICIPANTS:
            return _("participants")
        case TallyField.TRUST:
            return _("trust")
        case TallyField.NO_TRUST:
            return _("no trust")
        case TallyField.ABSTAIN:
            return _("abstain")
        case TallyField.BALLOTS:
            return _("ballots cast")


def tally_file_sentence(reading: TallyReading[Any], _: Translate) -> str:
    match reading.file_problem:
        case TallyFileProblem.TOO_LARGE:
            return _("The file is too large. Keep only the sheet with the counts.")
        case TallyFileProblem.NOT_A_SPREADSHEET:
            return _("This is not an .xlsx spreadsheet. Save it from Excel or WPS as .xlsx.")
        case TallyFileProblem.UNREADABLE:
            return _("The file is damaged and cannot be read. Save it again as .xlsx.")
        case TallyFileProblem.EMPTY:
            return _("The file has no counts in it.")
        case TallyFileProblem.MISSING_COLUMNS:
            missing = _(", ").join(tally_field_name(f, _) for f in reading.missing_columns)
            return _(
                "Columns are missing: {columns}. See docs/election-format.md for the column titles.",
                columns=missing,
            )
        case TallyFileProblem.TOO_MANY_ROWS:
            return _("The file has too many rows.")
        case None:
            return ""


def tally_cell_sentence(issue: TallyCellIssue, _: Translate) -> str:
    column = tally_field_name(issue.field, _)
    match issue.reason:
        case TallyCellProblem.MISSING:
            return _("Row {line}: the {column} is empty.", line=issue.line, column=column)
        case TallyCellProblem.NOT_A_DATE:
            return _(
                "Row {line}: “{value}” is not a date; write it like 2026-12-01.",
                line=issue.line,
                value=issue.value,
            )
        case TallyCellProblem.NOT_A_NUMBER:
            return _(
                "Row {line}: the {column} “{value}” is not a whole number.",
                line=issue.line,
                column=column,
                value=issue.value,
            )
        case TallyCellProblem.NEGATIVE:
            return _("Row {line}: the {column} cannot be negative.", line=issue.line, column=column)
        case TallyCellProblem.UNKNOWN_ROUND:
            return _(
                "Row {line}: “{value}” is not a round; write 党员推荐 or 群众推荐.",
                line=issue.line,
                value=issue.value,
            )


def paper_problem_sentence(problem: PaperProblem, _: Translate) -> str:
    line, value, numbers = problem.line, problem.value, problem.numbers
    match problem.reason:
        case PaperProblemReason.UNKNOWN_GROUP:
            return _("Row {line}: this village has no villagers' group “{value}”.", line=line, value=value)
        case PaperProblemReason.UNKNOWN_POSITION:
            return _(
                "Row {line}: this election does not fill the position “{value}”.", line=line, value=value
            )
        case PaperProblemReason.ROUND_MISSING:
            return _("Row {line}: write the round, 党员推荐 or 群众推荐.", line=line)
        case PaperProblemReason.ROUND_NOT_IN_THIS_KIND:
            return _("Row {line}: this election has no party members' round.", line=line)
        case PaperProblemReason.UNKNOWN_PERSON:
            return _(
                "Row {line}: nobody called “{value}” is on the roll of this village.", line=line, value=value
            )
        case PaperProblemReason.SAME_NAME:
            return _(
                "Row {line}: {people} people are called “{value}”. "
                "Add the group in brackets, like 王伟（二组）.",
                line=line,
                value=value,
                people=numbers.get("people", 2),
            )
        case PaperProblemReason.CANDIDATE_REFUSED:
            reason = (
                rule_sentence(
                    problem.rule, problem.source, _, name=value, position="", quota=0, opens="", closes=""
                )
                if problem.rule is not None
                else ""
            )
            return _("Row {line}: {reason}", line=line, reason=reason)
        case PaperProblemReason.DUPLICATE_LINE:
            return _(
                "Row {line}: the same meeting, position and person as row {other}.",
                line=line,
                other=problem.other_line or 0,
            )
        case PaperProblemReason.PARTICIPANTS_DIFFER:
            return _(
                "Row {line}: {participants} participants, but row {other} of the same meeting says {count}.",
                line=line,
                participants=numbers.get("participants", 0),
                other=problem.other_line or 0,
                count=numbers.get("other", 0),
            )
        case PaperProblemReason.COUNT_ABOVE_PARTICIPANTS:
            return _(
                "Row {line}: {count} votes but only {participants} people at the meeting.",
                line=line,
                count=numbers.get("count", 0),
                participants=numbers.get("participants", 0),
            )
        case PaperProblemReason.COUNTS_ABOVE_QUOTA:
            return _(
                "Row {line}: {votes} votes in all for this position, but {participants} people with "
                "{quota} recommendations each can give at most {most} ({source}).",
                line=line,
                votes=numbers.get("votes", 0),
                participants=numbers.get("participants", 0),
                quota=numbers.get("quota", 0),
                most=numbers.get("participants", 0) * numbers.get("quota", 0),
                source=source_text(problem.source, _) if problem.source else "",
            )
        case PaperProblemReason.PARTICIPANTS_ABOVE_REGISTERED:
            return _(
                "Row {line}: group {value} has {registered} registered voters, but {paper} took part "
                "on paper and {chat} by chat. Nobody takes part twice: check the numbers.",
                line=line,
                value=value,
                registered=numbers.get("registered", 0),
                paper=numbers.get("paper", 0),
                chat=numbers.get("chat", 0),
            )
        case PaperProblemReason.MEETING_OUTSIDE_WINDOW:
            return _(
                "Row {line}: the meeting on {value} is outside the recommendation period.",
                line=line,
                value=value,
            )
        case PaperProblemReason.MEETING_OUTSIDE_TRUST_WINDOW:
            return _(
                "Row {line}: the meeting on {value} is outside the trust vote period.", line=line, value=value
            )
        case PaperProblemReason.NOT_A_CANDIDATE:
            return _(
                "Row {line}: “{value}” is not on the published list of preliminary candidates.",
                line=line,
                value=value,
            )
        case PaperProblemReason.BALLOTS_DIFFER:
            return _(
                "Row {line}: {ballots} ballots, but row {other} of the same meeting says {count}.",
                line=line,
                ballots=numbers.get("ballots", 0),
                other=problem.other_line or 0,
                count=numbers.get("other", 0),
            )
        case PaperProblemReason.MARKS_ABOVE_BALLOTS:
            return _(
                "Row {line}: trust, no trust and abstain for {value} add up to {marks}, "
                "but only {ballots} ballots were cast at the meeting.",
                line=line,
                value=value,
                marks=numbers.get("marks", 0),
                ballots=numbers.get("ballots", 0),
            )


# ---------------------------------------------------------------------------------- tally


def decision_mark(decision: CutDecision) -> str:
    match decision:
        case CutDecision.PASSED:
            return "✅"
        case CutDecision.TIED_AT_BOUNDARY:
            return "⚖️"
        case CutDecision.NOT_PASSED | CutDecision.NO_RECOMMENDATIONS:
            return "▫️"


def cut_problem_sentences(
    position: Position, outcome: CutOutcome, names: Mapping[int, str], _: Translate
) -> list[str]:
    name = position_name(position, _)
    lines = []
    for problem in outcome.problems:
        match problem:
            case CutProblem.TOO_FEW_CANDIDATES:
                lines.append(
                    _(
                        "{position}: at least {needed} candidates are needed, "
                        "fewer have been recommended ({source}).",
                        position=name,
                        needed=outcome.min_required,
                        source=source_text(outcome.source, _),
                    )
                )
            case CutProblem.TIE_AT_BOUNDARY:
                tied = _(", ").join(names.get(c, "?") for c in outcome.tied_at_boundary)
                lines.append(
                    _(
                        "{position}: {names} are tied for the last {places} places. The committee "
                        "decides, for example by a run-off, before the list is published.",
                        position=name,
                        names=tied,
                        places=outcome.open_places,
                    )
                )
            case CutProblem.TARGET_OUTSIDE_MARGIN:
                lines.append(
                    _(
                        "{position}: the number of candidates must be within the legal margin ({source}).",
                        position=name,
                        source=source_text(outcome.source, _),
                    )
                )
    return lines


def trust_mark(decision: TrustDecision) -> str:
    return "✅" if decision is TrustDecision.PASSED else "▫️"


def trust_problem_sentences(position: Position, outcome: TrustOutcome, _: Translate) -> list[str]:
    """Why the formal list of a position cannot be published yet, in plain words."""
    name = position_name(position, _)
    lines = []
    for problem in outcome.problems:
        match problem:
            case TrustProblem.TOO_FEW_FORMAL_CANDIDATES:
                lines.append(
                    _(
                        "{position}: only {passed} passed the trust vote, but the election needs at least "
                        "{needed} candidates ({source}). The township party committee decides what "
                        "happens next.",
                        position=name,
                        passed=len(outcome.passed),
                        needed=outcome.min_formal_candidates or 0,
                        source=source_text(outcome.margin_source, _) if outcome.margin_source else "",
                    )
                )
            case TrustProblem.BALLOTS_ABOVE_REGISTERED:
                lines.append(
                    _(
                        "{position}: more ballots were counted than there are registered voters. "
                        "Check the paper counts.",
                        position=name,
                    )
                )
            case TrustProblem.CANDIDATE_COUNTS_ABOVE_BALLOTS | TrustProblem.NEGATIVE_NUMBER:
                lines.append(
                    _(
                        "{position}: a candidate has more marks than ballots were cast. "
                        "Check the paper counts.",
                        position=name,
                    )
                )
    return lines


def local_day(day: date, _: Translate) -> str:
    return _("{year:04d}-{month:02d}-{day:02d}").format(year=day.year, month=day.month, day=day.day)

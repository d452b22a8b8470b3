"""Proxy voting and migrant workers' intents in words: shared by the chat (handlers) and the shell.

Every function takes the translator `_` as a parameter (see bot.cli_text). Plain words for a
villager of sixty: short sentences, the rule named.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.cli_text import Translate
from bot.election_text import local_day, source_text
from bot.files.proxy_form import ProxyForm
from bot.files.publicity import PublicityLabels
from bot.rules.policy import Relationship, Source
from bot.rules.proxy import ProxyDuty, ProxyRefusalReason
from bot.services.elections import policy_of
from bot.services.proxies import FlowRefusal, ProxyListText, ProxyResult
from storage.models import Election, IntentChoice, Person, ProxyAuthorization, ProxyStatus, Village

NEAR_RELATIVES = (
    Relationship.SPOUSE,
    Relationship.PARENT,
    Relationship.CHILD,
    Relationship.SIBLING,
    Relationship.GRANDPARENT,
    Relationship.GRANDCHILD,
    Relationship.OTHER_NEAR_RELATIVE,
)


def relation_label(relationship: Relationship, _: Translate) -> str:
    """What the holder is to the principal, one person (the form and the buttons)."""
    match relationship:
        case Relationship.SPOUSE:
            return _("husband or wife")
        case Relationship.PARENT:
            return _("father or mother")
        case Relationship.CHILD:
            return _("son or daughter")
        case Relationship.SIBLING:
            return _("brother or sister")
        case Relationship.GRANDPARENT:
            return _("grandparent")
        case Relationship.GRANDCHILD:
            return _("grandchild")
        case Relationship.OTHER_NEAR_RELATIVE:
            return _("other near relative")
        case Relationship.NOT_RELATED:
            return _("not related")


def intent_label(choice: IntentChoice, _: Translate) -> str:
    match choice:
        case IntentChoice.COMING_HOME:
            return _("🏠 I will come home to vote")
        case IntentChoice.PROXY:
            return _("🤝 A relative will vote for me")
        case IntentChoice.NEED_HELP:
            return _("🙋 I need help to vote")
        case IntentChoice.NOT_TAKING_PART:
            return _("✖ I will not take part")


def status_name(status: str, _: Translate) -> str:
    match ProxyStatus(status):
        case ProxyStatus.REQUESTED:
            return _("waiting for the relative's answer")
        case ProxyStatus.ACCEPTED:
            return _("the relative agreed; waiting for the committee")
        case ProxyStatus.DECLINED:
            return _("the relative said no")
        case ProxyStatus.APPROVED:
            return _("approved by the committee")
        case ProxyStatus.REJECTED:
            return _("not approved by the committee")
        case ProxyStatus.REVOKED:
            return _("taken back")


def rule_sentence(reason: ProxyRefusalReason, source: Source, result: ProxyResult, _: Translate) -> str:
    """Why a proxy request was refused, in plain words, naming the rule."""
    law = source_text(source, _)
    holder = result.holder.name if result.holder is not None else ""
    match reason:
        case ProxyRefusalReason.PROXY_NOT_ALLOWED:
            return _("This election has no proxy voting ({law}).", law=law)
        case ProxyRefusalReason.SELF:
            return _(
                "You cannot choose yourself. Choose the relative who will vote for you ({law}).", law=law
            )
        case ProxyRefusalReason.PRINCIPAL_NOT_REGISTERED:
            return _(
                "You are not a registered voter in this election, so nobody can vote for you ({law}).",
                law=law,
            )
        case ProxyRefusalReason.HOLDER_NOT_IN_VILLAGE:
            return _(
                "{holder} is not on the voter roll of your village. Only a relative who votes in the same "
                "village can vote for you ({law}).",
                holder=holder,
                law=law,
            )
        case ProxyRefusalReason.HOLDER_NOT_REGISTERED:
            return _(
                "{holder} is not a registered voter, so {holder} cannot vote for you ({law}).",
                holder=holder,
                law=law,
            )
        case ProxyRefusalReason.RELATIONSHIP_NOT_ALLOWED:
            allowed = ""
            if result.election is not None:
                kinds = policy_of(result.election).proxy_relationships.value
                allowed = _(", ").join(relation_label(r, _) for r in NEAR_RELATIVES if r in kinds)
            return _(
                "In this election only these near relatives can vote for you: {allowed} ({law}).",
                allowed=allowed,
                law=law,
            )
        case ProxyRefusalReason.HOLDER_IS_CANDIDATE:
            return _(
                "{holder} is a candidate in this election, and a candidate cannot vote for others ({law}).",
                holder=holder,
                law=law,
            )
        case ProxyRefusalReason.PRINCIPAL_HAS_ACTIVE_PROXY:
            return _(
                "You have already asked someone to vote for you. To "
                "change, first take that back: send /proxy."
            )
        case ProxyRefusalReason.PRINCIPAL_HOLDS_PROXIES:
            return _(
                "Other villagers have asked you to vote for them, so you "
                "cannot pass your own vote on ({law}).",
                law=law,
            )
        case ProxyRefusalReason.HOLDER_HAS_DELEGATED:
            return _(
                "{holder} has asked someone else to vote for them, so {holder} cannot vote for you ({law}).",
                holder=holder,
                law=law,
            )
        case ProxyRefusalReason.HOLDER_AT_CAP:
            return _(
                "{holder} already votes for {cap} people, the most allowed "
                "({law}). Please choose another relative.",
                holder=holder,
                cap=result.cap or 0,
                law=law,
            )
        case ProxyRefusalReason.AFTER_DEADLINE:
            day = local_day(result.deadline, _) if result.deadline else ""
            return _("The last day to ask was {day}. Nothing was recorded ({law}).", day=day, law=law)
        case ProxyRefusalReason.UNPUBLISHED_VOID:
            return _("This proxy was not on the published list, so it does not count ({law}).", law=law)


def refusal_sentence(result: ProxyResult, _: Translate) -> str:
    """Why a step of the proxy flow was refused."""
    match result.refusal:
        case FlowRefusal.RULE:
            return "\n".join(rule_sentence(reason, source, result, _) for reason, source in result.rules)
        case FlowRefusal.NOT_BOUND:
            return _(
                "Your Telegram is not linked to the voter roll (any more). Send /start and share your "
                "phone number."
            )
        case FlowRefusal.NOT_ALLOWED:
            return _("Sorry, this is only for the village's election committee.")
        case FlowRefusal.UNKNOWN_ELECTION | FlowRefusal.NOT_OPEN:
            return _("This election is not open now.")
        case FlowRefusal.UNKNOWN_PERSON:
            return _("That person is not on the roll.")
        case FlowRefusal.NOT_FOUND:
            return _("That request is not yours, or it no longer exists.")
        case FlowRefusal.WITHDRAWN:
            return _("This request was taken back by the person who made it. Nothing to answer.")
        case FlowRefusal.ALREADY_ANSWERED:
            return _("This request has already been answered.")
        case FlowRefusal.NOT_ACCEPTED:
            return _("The relative has not agreed yet. Record their consent first.")
        case FlowRefusal.ALREADY_DECIDED:
            return _("The committee has already decided on this request.")
        case FlowRefusal.NO_LONGER_ACTIVE:
            return _("This request was declined or taken back; nothing can be changed.")
        case FlowRefusal.AFTER_DEADLINE:
            day = local_day(result.deadline, _) if result.deadline else ""
            return _("The last day for changes was {day}. Nothing can be changed now.", day=day)
        case FlowRefusal.EMPTY_REASON:
            return _("Please write the reason in one message.")
        case FlowRefusal.REASON_TOO_LONG:
            return _("That is too long (at most 500 characters). Please shorten it.")
        case FlowRefusal.NOTHING_TO_PUBLISH:
            return _("No proxy has been approved yet: there is nothing to publish.")
        case FlowRefusal.LIST_TOO_LATE:
            return _("The proxy list had to be published by its legal date. It is too late now.")
        case FlowRefusal.NOT_ELECTION_DAY:
            return _("The lists for proxy holders are sent on election day only.")
        case FlowRefusal.FONT_MISSING:
            return _(
                "The PDF cannot be made: the server has no Chinese font. The administrator should install "
                "the fonts-wqy-microhei package."
            )
        case FlowRefusal.NOTICE | None:
            return _("Nothing was published: the list was already sent, or nobody can receive it yet.")


def duty_sentence(duty: ProxyDuty, _: Translate) -> str:
    match duty:
        case ProxyDuty.WRITTEN_AUTHORIZATION:
            return _(
                "Print the form below, sign it and give it to the election committee (or have it brought)."
            )
        case ProxyDuty.PUBLISH_LIST:
            return _("The committee will publish the list of proxies before election day.")
        case ProxyDuty.PUBLISH_BEFORE_VOTING:
            return _("A proxy that is not on the published list does not count.")
        case ProxyDuty.ISSUE_CERTIFICATE:
            return _("Your relative gets a proxy certificate from the committee to vote for you.")
        case ProxyDuty.TAKE_BACK_VOTER_CARD:
            return _("Your voter card will be collected when your relative receives your ballot.")


def form_words(
    _: Translate,
) -> Callable[[ProxyAuthorization, Person, Person, Election, Village, str], ProxyForm]:
    """The authorization form's words, in the language the translator speaks."""

    def words(
        row: ProxyAuthorization,
        principal: Person,
        holder: Person,
        election: Election,
        village: Village,
        locale: str,
    ) -> ProxyForm:
        relation = relation_label(Relationship(row.relationship), _)
        return ProxyForm(
            title=_("Proxy vote authorization"),
            place=_("{township} {village}", township=village.township, village=village.name),
            election=election.title,
            fields=[
                (_("Principal"), principal.name),
                (_("Proxy holder"), holder.name),
                (_("Relationship"), relation),
                (_("Election day"), local_day(election.election_day, _)),
                (_("Verification code"), row.verification_code),
            ],
            statement=_(
                "I, {principal}, cannot vote in person and authorize my {relation} {holder}, a registered "
                "voter of this village, to vote for me in “{election}”.",
                principal=principal.name,
                relation=relation,
                holder=holder.name,
                election=election.title,
            ),
            signatures=[_("Principal (signature):"), _("Proxy holder (signature):"), _("Date:")],
            note=_(
                "Give the signed form to the election committee before election day. The committee "
                "checks the verification code against its record."
            ),
        )

    return words


def list_words(village_name: str, _: Translate) -> ProxyListText:
    labels = PublicityLabels(
        published_on=_("Published: {date}"),
        objection_deadline=_("Objections until: {date}"),
        no_objection_window=_("No objection window for this list"),
        page=_("Page {page} of {pages}"),
        fingerprint=_("Fingerprint (SHA-256): {fingerprint}"),
        columns={
            "seq": _("No."),
            "group": _("Villagers' group"),
            "principal": _("Principal"),
            "holder": _("Proxy holder"),
            "relationship": _("Relationship"),
        },
        date_format=_("{year:04d}-{month:02d}-{day:02d}"),
        place=_("{township} {village}"),
        sheet=_("Proxy votes"),
    )
    intro = _("Proxy votes of {village}: {count} villagers have a near relative vote for them.")
    per_group = _("{group}: {count}")

    def summary(count: int, groups: dict[str, int]) -> str:
        lines = [intro.format(village=village_name, count=count), ""]
        lines += [per_group.format(group=g, count=n) for g, n in groups.items()]
        return "\n".join(lines)

    return ProxyListText(
        title=_("Proxy vote list of {village}", village=village_name),
        summary=summary,
        labels=labels,
        relationship=lambda r: relation_label(r, _),
    )

"""What the `cunmin` command says to a township clerk, translated, and the one place where the
roll's, villages' and roles' refusal reasons become sentences.

Call sites write `_("Full English sentence with {placeholders}.", placeholders=...)`: the name
`_` is what `scripts/i18n` extracts, the placeholders are filled after translation. The sentence
functions take the translator as a parameter, so that a chat handler can reuse them with its
own (`lambda msgid, **values: gettext(msgid).format(**values)`).
"""

from __future__ import annotations

import functools
from typing import Protocol

from bot.catalogs import Catalogs
from bot.files.roll import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    FileProblem,
    RollField,
    RollNotice,
    RollProblem,
    RollReading,
    RowNotice,
    RowProblem,
)
from bot.rules.policy import Province
from bot.services.identity import RoleName
from bot.services.invites import InviteRefusal
from bot.services.roles import RoleOutcome, RoleRefusal
from bot.services.roll import RollImportRefusal
from bot.services.villages import (
    MAX_CONTACT_LENGTH,
    MAX_NAME_LENGTH,
    VillageLookup,
    VillageLookupRefusal,
    VillageRefusal,
    parse_province,
)


class Translate(Protocol):
    def __call__(self, msgid: str, /, **values: object) -> str: ...


@functools.cache
def _catalogs() -> Catalogs:
    return Catalogs("zh_Hans")


def translator(locale: str) -> Translate:
    """A `_` for one locale: translate the msgid, then fill its {placeholders}."""
    catalogs = _catalogs()

    def translate(msgid: str, /, **values: object) -> str:
        text = catalogs.gettext(msgid, locale=locale)
        return text.format(**values) if values else text

    return translate


def join(_: Translate, items: list[str]) -> str:
    # Chinese lists take the enumeration comma "、".
    return _(", ").join(items)


def file_problem_sentence(reading: RollReading, _: Translate) -> str:
    match reading.file_problem:
        case FileProblem.TOO_LARGE:
            return _(
                "The file is larger than {megabytes} MB. Remove pictures and other sheets from it, "
                "or save it as .csv.",
                megabytes=MAX_FILE_BYTES // (1024 * 1024),
            )
        case FileProblem.NOT_A_SPREADSHEET:
            return _(
                "This file is not a spreadsheet. Save the roll from Excel or WPS as .xlsx (or .csv) "
                "and try again."
            )
        case FileProblem.OLD_EXCEL_FORMAT:
            return _(
                "This is an old Excel file (.xls) or a file with a password. Open it in Excel or WPS, "
                "remove any password and save it as .xlsx."
            )
        case FileProblem.UNREADABLE:
            return _(
                "The file is damaged and cannot be read. Open it in Excel or WPS, save it again as "
                ".xlsx and try again."
            )
        case FileProblem.EMPTY:
            return _("The file has nobody in it.")
        case FileProblem.MISSING_NAME_COLUMN:
            return _(
                "No column of names was found. The row of column titles must have one called "
                "姓名 (name); see docs/roll-format.md."
            )
        case FileProblem.DUPLICATE_COLUMN:
            return _(
                "Two columns mean the same thing: {columns}. Keep one of them and delete the other.",
                columns=reading.file_problem_detail or "",
            )
        case FileProblem.TOO_MANY_ROWS:
            return _("The file has more than {rows} rows: one file holds one village's roll.", rows=MAX_ROWS)
        case None:
            return ""


def row_problem_sentence(problem: RowProblem, _: Translate) -> str:
    value = problem.value or ""
    match problem.reason:
        case RollProblem.MISSING_NAME:
            return _("The name is empty. Write the person's name, or delete the row.")
        case RollProblem.BAD_PHONE:
            return _(
                "“{value}” is not a phone number. Write the 11 digits of a mobile number, "
                "like 13800138000, or leave the cell empty.",
                value=value,
            )
        case RollProblem.LANDLINE_PHONE:
            return _(
                "“{value}” is a landline. Write the person's own mobile number, or leave the cell "
                "empty and put the landline in the notes.",
                value=value,
            )
        case RollProblem.DUPLICATE_PHONE:
            return _(
                "The phone number {value} is also on row {other_row}. Each person needs a number of "
                "their own: leave the cell empty for one of them.",
                value=value,
                other_row=problem.other_row,
            )
        case RollProblem.DUPLICATE_PERSON:
            return _(
                "{value} is also on row {other_row}, in the same household, and without a phone "
                "number the two cannot be told apart. If they are two people, give one of them a "
                "phone number; if it is the same person, delete one of the rows.",
                value=value,
                other_row=problem.other_row,
            )
        case RollProblem.GROUP_SPELLED_TWO_WAYS:
            return _(
                "The group “{value}” is written “{other_value}” on other rows (first on row "
                "{other_row}). Write each group the same way on every row.",
                value=value,
                other_value=problem.other_value or "",
                other_row=problem.other_row,
            )
        case RollProblem.BAD_BIRTH_YEAR:
            return _("“{value}” is not a possible year of birth. Write four digits, like 1965.", value=value)
        case RollProblem.UNKNOWN_GENDER:
            return _("“{value}” is not a gender. Write 男 or 女, or leave the cell empty.", value=value)
        case RollProblem.UNKNOWN_YES_NO:
            return _("“{value}” is neither yes nor no. Write 是 or 否, or leave the cell empty.", value=value)
        case RollProblem.UNKNOWN_PARTY_STATUS:
            return _(
                "“{value}” is not a kind of party member. Write 正式党员 or 预备党员, or leave the "
                "cell empty.",
                value=value,
            )
        case RollProblem.PARTY_STATUS_OF_NON_MEMBER:
            return _(
                "The row says the person is not a party member, but also “{value}”. Correct one of the two.",
                value=value,
            )
        case RollProblem.TOO_LONG:
            return _("The text in this cell is too long. Shorten it.")
        case RollProblem.PHONE_ON_ANOTHER_VILLAGE:
            return _(
                "The phone number {value} is already on the roll of {other_village}. A voter is on "
                "the roll of one village only (Organic Law, art. 13): agree with that village "
                "whether the person votes there or in {village}, and take them off the other roll.",
                value=value,
                village=problem.village or "",
                other_village=problem.other_village or "",
            )


def notice_sentence(notice: RowNotice, _: Translate, *, election_year: int) -> str:
    match notice.reason:
        case RollNotice.UNDER_VOTING_AGE:
            return _(
                "{name}, born in {year_of_birth}, is under 18 in {election_year}: on the roll "
                "without the vote.",
                name=notice.name,
                year_of_birth=notice.value or "",
                election_year=election_year,
            )


def field_name(roll_field: RollField, _: Translate) -> str:
    match roll_field:
        case RollField.NAME:
            return _("name")
        case RollField.PHONE:
            return _("phone")
        case RollField.GROUP:
            return _("villagers' group")
        case RollField.HOUSEHOLD:
            return _("household")
        case RollField.GENDER:
            return _("gender")
        case RollField.BIRTH_YEAR:
            return _("year of birth")
        case RollField.PARTY_MEMBER:
            return _("party member")
        case RollField.PARTY_STATUS:
            return _("kind of party member")
        case RollField.MIGRANT:
            return _("works away from home")
        case RollField.WORKS_IN:
            return _("place of work")
        case RollField.ELIGIBLE_VOTER:
            return _("has the vote")
        case RollField.NOTES:
            return _("notes")


def import_refusal_sentence(refusal: RollImportRefusal, _: Translate) -> str:
    match refusal:
        case RollImportRefusal.VILLAGE_NOT_FOUND:
            return _("The village is no longer there. Nothing was imported.")
        case RollImportRefusal.EMPTY_ROLL:
            return _("The file has nobody in it. Nothing was imported.")
        case RollImportRefusal.ROW_PROBLEMS:
            return _(
                "Nothing was imported. Correct the rows listed above in the file, then import the "
                "whole file again."
            )
        case RollImportRefusal.CONCURRENT_CHANGE:
            return _(
                "Someone changed this roll at the same moment. Nothing was imported: please run the "
                "import again."
            )


def province_name(province: Province | str, _: Translate) -> str:
    match parse_province(province):
        case Province.NATIONAL:
            return _("national rules only")
        case Province.BJ:
            return _("Beijing")
        case Province.SH:
            return _("Shanghai")
        case Province.ZJ:
            return _("Zhejiang")
        case Province.HN:
            return _("Henan")
        case None:
            return str(province)


def village_refusal_sentence(refusal: VillageRefusal, _: Translate, *, name: str, township: str) -> str:
    match refusal:
        case VillageRefusal.EMPTY_NAME:
            return _("The village's name is empty.")
        case VillageRefusal.EMPTY_TOWNSHIP:
            return _("The township is empty: give it with --township.")
        case VillageRefusal.NAME_TOO_LONG:
            return _(
                "A name is too long: at most {name_limit} characters for names, {contact_limit} for "
                "the contact.",
                name_limit=MAX_NAME_LENGTH,
                contact_limit=MAX_CONTACT_LENGTH,
            )
        case VillageRefusal.UNKNOWN_PROVINCE:
            return _(
                "Cunmin has no election rules for that province. Use one of: {choices}.",
                choices=join(_, [province.name for province in Province]),
            )
        case VillageRefusal.ALREADY_EXISTS:
            return _("{township} already has a village called {name}.", township=township, name=name)


def lookup_sentence(lookup: VillageLookup, _: Translate, *, name: str) -> str:
    match lookup.refusal:
        case VillageLookupRefusal.NOT_FOUND:
            return _(
                "There is no village called {name}. See the villages with `cunmin village list`, or "
                "add one with `cunmin village add`.",
                name=name,
            )
        case VillageLookupRefusal.AMBIGUOUS:
            return _(
                "There are villages called {name} in several townships ({townships}). Say which one "
                "with --township.",
                name=name,
                townships=join(_, [village.township for village in lookup.candidates]),
            )
        case None:
            return ""


def role_name(role: RoleName, _: Translate) -> str:
    match role:
        case RoleName.COMMITTEE:
            return _("a member of the election committee")
        case RoleName.SUPERVISOR:
            return _("a member of the supervision committee")
        case RoleName.OBSERVER:
            return _("an observer")


def invite_refusal_sentence(refusal: InviteRefusal, _: Translate, *, phone: str, village: str) -> str:
    match refusal:
        case InviteRefusal.BAD_PHONE:
            return _("“{phone}” is not a phone number.", phone=phone)
        case InviteRefusal.NOT_ON_ROLL:
            return _(
                "Nobody with the phone number {phone} is on the roll of {village}.",
                phone=phone,
                village=village,
            )
        case InviteRefusal.ALREADY_BOUND:
            return _(
                "The person with the phone number {phone} already uses the bot: no invitation is needed.",
                phone=phone,
            )


def role_refusal_sentence(outcome: RoleOutcome, _: Translate, *, phone: str, village: str) -> str:
    role = role_name(outcome.role, _) if outcome.role is not None else ""
    match outcome.refusal:
        case RoleRefusal.VILLAGE_NOT_FOUND:
            return _("The village is no longer there.")
        case RoleRefusal.BAD_PHONE:
            return _("“{phone}” is not a phone number.", phone=phone)
        case RoleRefusal.UNKNOWN_ROLE:
            return _("That is not a role: use committee, supervisor or observer.")
        case RoleRefusal.ALREADY_GRANTED:
            return _(
                "{phone} is already {role} in {village}. Nothing changed.",
                phone=phone,
                role=role,
                village=village,
            )
        case RoleRefusal.NOT_GRANTED:
            return _(
                "{phone} is not {role} in {village}. Nothing changed.",
                phone=phone,
                role=role,
                village=village,
            )
        case None:
            return ""

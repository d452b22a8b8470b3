"""The voter roll as the committee keeps it: an Excel (.xlsx) or CSV file in, checked rows out.

Reading is pure: no database and no clock (the election year is given). A file is read whole
and every row is checked, so the committee gets the full list of problems in one go; the import
that follows is all-or-nothing (bot.services.roll).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

import openpyxl
import phonenumbers
from openpyxl.cell import WriteOnlyCell

from bot.phones import normalize_phone

if TYPE_CHECKING:
    from storage.repositories.roll import RollEntry

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# Blank rows are cheap but not free: a sheet formatted down to Excel's last row must not hang us.
MAX_PHYSICAL_ROWS = 5 * MAX_ROWS
MAX_COLUMNS = 100
# Committees often put a title ("XX村选民名单") above the header: look for it in the first rows.
HEADER_SEARCH_ROWS = 10
# OL art. 13: villagers aged 18 and over have the vote.
VOTING_AGE = 18
EARLIEST_BIRTH_YEAR = 1900
PROGRESS_EVERY = 1_000
# Column lengths of storage.models.Person / VillagerGroup.
MAX_NAME_LENGTH = 100
MAX_GROUP_LENGTH = 100
MAX_HOUSEHOLD_LENGTH = 50
MAX_WORKS_IN_LENGTH = 100

ProgressCallback = Callable[[int, int | None], None]
_T = TypeVar("_T")


class RollField(StrEnum):
    NAME = "name"
    PHONE = "phone"
    GROUP = "group"
    HOUSEHOLD = "household"
    GENDER = "gender"
    BIRTH_YEAR = "birth_year"
    PARTY_MEMBER = "party_member"
    PARTY_STATUS = "party_status"
    MIGRANT = "migrant"
    WORKS_IN = "works_in"
    ELIGIBLE_VOTER = "eligible_voter"
    NOTES = "notes"


# The committee's own headers: what the export writes and the documentation shows.
CHINESE_HEADERS: Mapping[RollField, str] = {
    RollField.NAME: "姓名",
    RollField.PHONE: "手机号",
    RollField.GROUP: "村民小组",
    RollField.HOUSEHOLD: "户号",
    RollField.GENDER: "性别",
    RollField.BIRTH_YEAR: "出生年份",
    RollField.PARTY_MEMBER: "党员",
    RollField.PARTY_STATUS: "党员类别",
    RollField.MIGRANT: "外出务工",
    RollField.WORKS_IN: "务工地",
    RollField.ELIGIBLE_VOTER: "有选举权",
    RollField.NOTES: "备注",
}
# Written by the export so the committee sees who uses the bot; not read back.
BOUND_HEADER = "已绑定"

_HEADER_VARIANTS: Mapping[RollField, tuple[str, ...]] = {
    RollField.NAME: ("姓名", "名字", "选民姓名", "name", "full name"),
    RollField.PHONE: (
        "手机号", "手机", "手机号码", "电话", "电话号码", "联系电话", "联系方式",
        "phone", "phone number", "mobile", "mobile phone", "telephone", "tel",
    ),
    RollField.GROUP: ("村民小组", "小组", "组", "组别", "所在小组", "所属小组", "group", "villagers group"),
    RollField.HOUSEHOLD: ("户号", "户", "户编号", "户籍号", "household", "household number", "household no"),
    RollField.GENDER: ("性别", "gender", "sex"),
    RollField.BIRTH_YEAR: (
        "出生年份", "出生年", "出生年月", "出生日期", "birth year", "year of birth", "born",
    ),
    RollField.PARTY_MEMBER: ("党员", "是否党员", "party member"),
    RollField.PARTY_STATUS: ("党员类别", "党员身份", "党员类型", "party status"),
    RollField.MIGRANT: (
        "外出", "外出务工", "是否外出", "是否外出务工", "外出务工人员", "migrant", "migrant worker",
    ),
    RollField.WORKS_IN: ("务工地", "务工地点", "外出地点", "外出务工地", "works in", "workplace"),
    RollField.ELIGIBLE_VOTER: (
        "选民", "有选举权", "是否选民", "是否有选举权", "eligible voter", "eligible", "voter",
    ),
    RollField.NOTES: ("备注", "说明", "notes", "note", "remarks", "remark"),
}  # fmt: skip
# Columns a committee's sheet commonly has that carry nothing to import: not worth a warning.
_SILENTLY_IGNORED = frozenset({"已绑定", "绑定", "bound", "序号", "编号", "no", "#", "number"})


class Gender(StrEnum):
    MALE = "M"
    FEMALE = "F"


class PartyStatus(StrEnum):
    FULL = "full"
    PROBATIONARY = "probationary"


class FileProblem(StrEnum):
    """Why a whole file was refused before any row was looked at."""

    TOO_LARGE = "too_large"
    NOT_A_SPREADSHEET = "not_a_spreadsheet"
    # .xls, or an .xlsx with a password: both are OLE2 containers openpyxl cannot open.
    OLD_EXCEL_FORMAT = "old_excel_format"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    MISSING_NAME_COLUMN = "missing_name_column"
    DUPLICATE_COLUMN = "duplicate_column"
    TOO_MANY_ROWS = "too_many_rows"


class RollProblem(StrEnum):
    """Why one row cannot be imported as it is."""

    MISSING_NAME = "missing_name"
    BAD_PHONE = "bad_phone"
    LANDLINE_PHONE = "landline_phone"
    DUPLICATE_PHONE = "duplicate_phone"
    DUPLICATE_PERSON = "duplicate_person"
    GROUP_SPELLED_TWO_WAYS = "group_spelled_two_ways"
    BAD_BIRTH_YEAR = "bad_birth_year"
    UNKNOWN_GENDER = "unknown_gender"
    UNKNOWN_YES_NO = "unknown_yes_no"
    UNKNOWN_PARTY_STATUS = "unknown_party_status"
    PARTY_STATUS_OF_NON_MEMBER = "party_status_of_non_member"
    TOO_LONG = "too_long"
    # Found by the import, against the database: OL art. 13, one village only.
    PHONE_ON_ANOTHER_VILLAGE = "phone_on_another_village"


class RollNotice(StrEnum):
    """Something the committee should know about a row that is nevertheless imported."""

    UNDER_VOTING_AGE = "under_voting_age"


@dataclass(frozen=True, slots=True)
class RollRow:
    row_number: int
    name: str
    phone: str | None = None
    group: str | None = None
    household: str | None = None
    gender: Gender | None = None
    birth_year: int | None = None
    party_member: bool = False
    party_status: PartyStatus | None = None
    migrant: bool = False
    works_in: str | None = None
    eligible_voter: bool = True
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    # As the committee sees it in Excel: the header is row 1 (or wherever the file has it).
    row_number: int
    # The header as written in the file; None when the problem is about the row as a whole.
    column: str | None
    reason: RollProblem
    value: str | None = None
    other_row: int | None = None
    # GROUP_SPELLED_TWO_WAYS: the spelling used elsewhere.
    other_value: str | None = None
    # PHONE_ON_ANOTHER_VILLAGE: the village being imported and the one the phone is on.
    village: str | None = None
    other_village: str | None = None


@dataclass(frozen=True, slots=True)
class RowNotice:
    row_number: int
    reason: RollNotice
    name: str
    value: str | None = None


@dataclass(frozen=True)
class RollReading:
    file_problem: FileProblem | None = None
    # DUPLICATE_COLUMN: the headers that mean the same thing.
    file_problem_detail: str | None = None
    # Only the rows without a problem; an import must not start while `problems` is not empty.
    rows: tuple[RollRow, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    notices: tuple[RowNotice, ...] = ()
    headers: Mapping[RollField, str] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        return self.file_problem is None and not self.problems


# --- reading -------------------------------------------------------------------------------------

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# What people type into a cell to say "nothing here".
_BLANK_MARKS = frozenset({"-", "--", "—", "——", "/", "\\", "无", "没有", "暂无", "none", "n/a", "na", "null"})
_YES = frozenset({"是", "yes", "y", "1", "true", "t", "✓", "✔", "√", "☑", "有", "对"})
_NO = frozenset({"否", "no", "n", "0", "false", "f", "×", "✗", "✕", "✘", "无", "不是", "非"})
_GENDERS = {"男": Gender.MALE, "男性": Gender.MALE, "m": Gender.MALE, "male": Gender.MALE}
_GENDERS |= {"女": Gender.FEMALE, "女性": Gender.FEMALE, "f": Gender.FEMALE, "female": Gender.FEMALE}
_PARTY_STATUSES = {
    "正式党员": PartyStatus.FULL,
    "正式": PartyStatus.FULL,
    "full": PartyStatus.FULL,
    "full member": PartyStatus.FULL,
    "预备党员": PartyStatus.PROBATIONARY,
    "预备": PartyStatus.PROBATIONARY,
    "probationary": PartyStatus.PROBATIONARY,
    "probationary member": PartyStatus.PROBATIONARY,
}
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_BIRTH_YEAR_TEXT = re.compile(r"^(\d{4})(?:\d{2}|\d{4}|[^\d].*)?$")


def _text(value: object) -> str:
    """A cell's value as clean text: NFKC (full-width to half-width), single spaces, no invisibles."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    cleaned = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    return " ".join(cleaned.split())


def _header_key(text: str) -> str:
    key = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", _text(text).lower())
    return re.sub(r"[\s_\-*:.'’]", "", key)


_HEADER_LOOKUP: Mapping[str, RollField] = {
    _header_key(variant): roll_field
    for roll_field, variants in _HEADER_VARIANTS.items()
    for variant in variants
}
_IGNORED_KEYS = frozenset(_header_key(header) for header in _SILENTLY_IGNORED)


def _chinese_number(text: str) -> int | None:
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
    digits |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    units = {"十": 10, "百": 100}
    if not text or any(ch not in digits and ch not in units for ch in text):
        return None
    if not any(ch in units for ch in text):  # 一〇 = 10, written digit by digit
        return int("".join(str(digits[ch]) for ch in text))
    total, current = 0, None
    for ch in text:
        if ch in digits:
            if current is not None:
                return None
            current = digits[ch]
        else:
            total += (1 if current is None else current) * units[ch]
            current = None
    return total + (current or 0)


_GROUP_NUMBER = re.compile(r"^第?([0-9]+|[零〇一二两三四五六七八九十百]+)(?:村民小组|小组|组)?$")


def group_spelling(raw: str) -> str:
    """How a group's name is stored: NFKC, no spaces at all (" 一组 " and "一 组" are "一组")."""
    return "".join(_text(raw).split())


def group_key(spelling: str) -> str:
    """What two spellings of one group have in common: "一组", "1组", "第一组" are all group 1."""
    compact = group_spelling(spelling)
    match = _GROUP_NUMBER.match(compact)
    if match:
        number = match.group(1)
        value = int(number) if number.isdigit() else _chinese_number(number)
        if value is not None:
            return f"#{value}"
    return compact.lower()


class _CellProblem(Exception):
    def __init__(self, reason: RollProblem) -> None:
        super().__init__(reason)
        self.reason = reason


def _optional(text: str) -> str | None:
    return None if not text or text.lower() in _BLANK_MARKS else text


def _limited(text: str | None, limit: int) -> str | None:
    if text is not None and len(text) > limit:
        raise _CellProblem(RollProblem.TOO_LONG)
    return text


def _group(text: str) -> str | None:
    return _limited(_optional(group_spelling(text)), MAX_GROUP_LENGTH)


def _name(text: str) -> str:
    # "张  三" is how two-character names are padded to line up with three-character ones.
    return _SPACE_BETWEEN_CJK.sub("", text)


def _phone(raw: object, text: str) -> str | None:
    if isinstance(raw, float) and not raw.is_integer():
        raise _CellProblem(RollProblem.BAD_PHONE)
    if _optional(text) is None:
        return None
    phone = normalize_phone(text)
    if phone is None:
        raise _CellProblem(RollProblem.BAD_PHONE)
    # A landline cannot receive a Telegram account's code and is shared by a whole household.
    if phonenumbers.number_type(phonenumbers.parse(phone)) == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise _CellProblem(RollProblem.LANDLINE_PHONE)
    return phone


def _yes_no(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    if not lowered or lowered in _BLANK_MARKS:
        return None
    raise _CellProblem(RollProblem.UNKNOWN_YES_NO)


def _gender(text: str) -> Gender | None:
    if _optional(text) is None:
        return None
    found = _GENDERS.get(text.lower())
    if found is None:
        raise _CellProblem(RollProblem.UNKNOWN_GENDER)
    return found


def _party_status(text: str) -> PartyStatus | None:
    if _optional(text) is None:
        return None
    found = _PARTY_STATUSES.get(text.lower())
    if found is None:
        raise _CellProblem(RollProblem.UNKNOWN_PARTY_STATUS)
    return found


def _birth_year(raw: object, text: str, this_year: int) -> int | None:
    if isinstance(raw, datetime | date):
        year = raw.year
    elif _optional(text) is None:
        return None
    else:
        match = _BIRTH_YEAR_TEXT.match(text.removesuffix("年"))
        if match is None:
            raise _CellProblem(RollProblem.BAD_BIRTH_YEAR)
        year = int(match.group(1))
    if not EARLIEST_BIRTH_YEAR <= year <= this_year:
        raise _CellProblem(RollProblem.BAD_BIRTH_YEAR)
    return year


@dataclass
class _Layout:
    header_row: int
    columns: dict[RollField, int]
    headers: dict[RollField, str]
    ignored: list[str]


def _find_layout(rows: Sequence[tuple[int, Sequence[object]]]) -> _Layout | FileProblem | tuple[str, str]:
    """The header row: the first of the top rows that has a name column.

    Returns the two headers that mean the same thing when the header row has such a pair.
    """
    for row_number, cells in rows:
        columns: dict[RollField, int] = {}
        headers: dict[RollField, str] = {}
        ignored: list[str] = []
        twice: tuple[str, str] | None = None
        for index, cell in enumerate(cells):
            written = " ".join(str(cell).split()) if cell is not None else ""
            key = _header_key(written)
            if not key:
                continue
            roll_field = _HEADER_LOOKUP.get(key)
            if roll_field is None:
                if key not in _IGNORED_KEYS:
                    ignored.append(written)
            elif roll_field in columns:
                twice = twice or (headers[roll_field], written)
            else:
                columns[roll_field] = index
                headers[roll_field] = written
        if RollField.NAME in columns:
            return twice or _Layout(row_number, columns, headers, ignored)
    return FileProblem.MISSING_NAME_COLUMN


class _Row:
    """One data row's cells, looked up by field, with the problems found so far."""

    def __init__(self, row_number: int, cells: Sequence[object], layout: _Layout) -> None:
        self.row_number = row_number
        self.cells = cells
        self.layout = layout
        self.problems: list[RowProblem] = []

    def raw(self, roll_field: RollField) -> object:
        index = self.layout.columns.get(roll_field)
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def text(self, roll_field: RollField) -> str:
        return _text(self.raw(roll_field))

    def report(self, roll_field: RollField, reason: RollProblem, value: str | None = None) -> None:
        column = self.layout.headers[roll_field]
        self.problems.append(RowProblem(self.row_number, column, reason, value or None))

    def parse(self, roll_field: RollField, parse: Callable[[object, str], _T], default: _T) -> _T:
        raw, text = self.raw(roll_field), self.text(roll_field)
        try:
            return parse(raw, text)
        except _CellProblem as problem:
            self.report(roll_field, problem.reason, text)
            return default


def _parse_row(
    row_number: int,
    cells: Sequence[object],
    layout: _Layout,
    *,
    election_year: int,
    this_year: int,
) -> tuple[RollRow, list[RowProblem], list[RowNotice]]:
    row = _Row(row_number, cells, layout)
    name = _name(row.text(RollField.NAME))
    if not name:
        row.report(RollField.NAME, RollProblem.MISSING_NAME)
    elif len(name) > MAX_NAME_LENGTH:
        row.report(RollField.NAME, RollProblem.TOO_LONG, name)

    def text_of(limit: int) -> Callable[[object, str], str | None]:
        return lambda _raw, text: _limited(_optional(text), limit)

    phone = row.parse(RollField.PHONE, _phone, None)
    group = row.parse(RollField.GROUP, lambda _r, t: _group(t), None)
    household = row.parse(RollField.HOUSEHOLD, text_of(MAX_HOUSEHOLD_LENGTH), None)
    gender = row.parse(RollField.GENDER, lambda _r, t: _gender(t), None)
    birth_year = row.parse(RollField.BIRTH_YEAR, lambda raw, t: _birth_year(raw, t, this_year), None)
    party_status = row.parse(RollField.PARTY_STATUS, lambda _r, t: _party_status(t), None)
    works_in = row.parse(RollField.WORKS_IN, text_of(MAX_WORKS_IN_LENGTH), None)
    notes = row.text(RollField.NOTES) or None
    party_member = row.parse(RollField.PARTY_MEMBER, lambda _r, t: _yes_no(t), None)
    migrant = row.parse(RollField.MIGRANT, lambda _r, t: _yes_no(t), None)
    eligible = row.parse(RollField.ELIGIBLE_VOTER, lambda _r, t: _yes_no(t), None)

    if party_member is False and party_status is not None:
        status_written = row.text(RollField.PARTY_STATUS)
        row.report(RollField.PARTY_STATUS, RollProblem.PARTY_STATUS_OF_NON_MEMBER, status_written)
    notices: list[RowNotice] = []
    if eligible is not False and birth_year is not None and election_year - birth_year < VOTING_AGE:
        notices.append(RowNotice(row_number, RollNotice.UNDER_VOTING_AGE, name, str(birth_year)))
        eligible = False
    parsed = RollRow(
        row_number=row_number,
        name=name,
        phone=phone,
        group=group,
        household=household,
        gender=gender,
        birth_year=birth_year,
        # A status says membership; a place of work says the person is away, unless told otherwise.
        party_member=party_status is not None if party_member is None else party_member,
        party_status=party_status,
        migrant=works_in is not None if migrant is None else migrant,
        works_in=works_in,
        eligible_voter=eligible is not False,
        notes=notes,
    )
    return parsed, row.problems, notices


def cross_row_problems(rows: Iterable[RollRow], headers: Mapping[RollField, str]) -> list[RowProblem]:
    """What only the whole file shows: a phone twice, a person twice, a group spelled two ways."""
    rows = list(rows)
    problems: list[RowProblem] = []

    def header(roll_field: RollField) -> str:
        return headers.get(roll_field) or CHINESE_HEADERS[roll_field]

    first_with_phone: dict[str, RollRow] = {}
    for row in rows:
        if row.phone is None:
            continue
        first = first_with_phone.setdefault(row.phone, row)
        if first is not row:
            problems.append(
                RowProblem(row.row_number, header(RollField.PHONE), RollProblem.DUPLICATE_PHONE,
                           phone_as_written(row.phone), other_row=first.row_number)
            )  # fmt: skip

    # Without a phone a person is told apart by name and household only.
    by_identity: dict[tuple[str, str], list[RollRow]] = {}
    for row in rows:
        if row.name:
            by_identity.setdefault((row.name, row.household or ""), []).append(row)
    for same in by_identity.values():
        if len(same) > 1 and any(row.phone is None for row in same):
            problems.extend(
                RowProblem(row.row_number, header(RollField.NAME), RollProblem.DUPLICATE_PERSON,
                           row.name, other_row=same[0].row_number)
                for row in same[1:]
            )  # fmt: skip

    spellings: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        if row.group is not None:
            spellings.setdefault(group_key(row.group), {}).setdefault(row.group, []).append(row.row_number)
    for written in spellings.values():
        if len(written) < 2:
            continue
        # The spelling most rows use is taken as meant; the others are flagged.
        usual = max(written, key=lambda spelling: (len(written[spelling]), -written[spelling][0]))
        for spelling, row_numbers in written.items():
            if spelling != usual:
                problems.extend(
                    RowProblem(number, header(RollField.GROUP), RollProblem.GROUP_SPELLED_TWO_WAYS,
                               spelling, other_row=written[usual][0], other_value=usual)
                    for number in row_numbers
                )  # fmt: skip
    return problems


class _Unreadable(Exception):
    """The spreadsheet library choked on the file's contents while it was being read."""


def _guarded(rows: Iterable[tuple[int, Sequence[object]]]) -> Iterator[tuple[int, Sequence[object]]]:
    # Only what happens inside the library becomes "unreadable"; our own bugs stay tracebacks.
    try:
        yield from rows
    except Exception as exc:  # openpyxl raises anything on a damaged workbook
        raise _Unreadable from exc


def _read_xlsx(
    data: bytes, election_year: int, this_year: int, on_progress: ProgressCallback | None
) -> RollReading:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it drops
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip may raise anything
        return RollReading(file_problem=_zip_problem(data))
    try:
        for sheet in workbook.worksheets:
            estimate: int | None = sheet.max_row
            # Trust the rows in the file, not its declared dimension: a wrong one either cuts
            # rows off or pads to a million empty ones.
            sheet.reset_dimensions()
            rows = _guarded(enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1))
            reading = _read_sheet(rows, estimate, election_year, this_year, on_progress)
            # The roll may be on any sheet: the first one with a name column is it.
            if reading.file_problem is not FileProblem.MISSING_NAME_COLUMN:
                return reading
        return RollReading(file_problem=FileProblem.MISSING_NAME_COLUMN)
    except _Unreadable:
        return RollReading(file_problem=FileProblem.UNREADABLE)
    finally:
        workbook.close()


def _zip_problem(data: bytes) -> FileProblem:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            is_workbook = "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return FileProblem.UNREADABLE
    # A Word document or a zip of photos is not a roll; a damaged workbook is unreadable.
    return FileProblem.UNREADABLE if is_workbook else FileProblem.NOT_A_SPREADSHEET


def _decode_text(data: bytes) -> str | FileProblem:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return FileProblem.UNREADABLE
    if b"\x00" in data[:65_536]:
        return FileProblem.NOT_A_SPREADSHEET
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of GBK and GB2312
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return FileProblem.NOT_A_SPREADSHEET


def _csv_rows(text: str) -> Iterator[tuple[int, Sequence[object]]]:
    # The separator is whichever splits the top lines most (a title line above has none).
    top = list(itertools.islice((line for line in text.splitlines() if line.strip()), HEADER_SEARCH_ROWS))
    delimiter = max(",\t;", key=lambda candidate: max((line.count(candidate) for line in top), default=0))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield number, cells[:MAX_COLUMNS]


def read_roll(
    source: Path | bytes,
    *,
    election_year: int,
    this_year: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> RollReading:
    """Read and check a roll file (.xlsx, or .csv in UTF-8, GBK/GB18030 or UTF-16).

    `election_year` decides who is under the voting age; `this_year` (default: the election
    year) bounds a believable birth year. `on_progress(rows_read, rows_expected)` is called
    every PROGRESS_EVERY rows and at the end; rows_expected may be None.
    """
    if isinstance(source, Path):
        if source.stat().st_size > MAX_FILE_BYTES:
            return RollReading(file_problem=FileProblem.TOO_LARGE)
        data = source.read_bytes()
    else:
        data = source
    if len(data) > MAX_FILE_BYTES:
        return RollReading(file_problem=FileProblem.TOO_LARGE)
    if not data.strip():
        return RollReading(file_problem=FileProblem.EMPTY)
    if data.startswith(_OLE2_MAGIC):
        return RollReading(file_problem=FileProblem.OLD_EXCEL_FORMAT)
    year = this_year if this_year is not None else election_year
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, election_year, year, on_progress)
    text = _decode_text(data)
    if isinstance(text, FileProblem):
        return RollReading(file_problem=text)
    try:
        return _read_sheet(_csv_rows(text), text.count("\n") + 1, election_year, year, on_progress)
    except csv.Error:  # e.g. a field longer than csv.field_size_limit()
        return RollReading(file_problem=FileProblem.UNREADABLE)


def _is_blank(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _read_sheet(
    rows: Iterator[tuple[int, Sequence[object]]],
    estimate: int | None,
    election_year: int,
    this_year: int,
    on_progress: ProgressCallback | None,
) -> RollReading:
    top: list[tuple[int, Sequence[object]]] = []
    for number, cells in rows:
        if not _is_blank(cells):
            top.append((number, cells))
        if len(top) == HEADER_SEARCH_ROWS or number >= MAX_PHYSICAL_ROWS:
            break
    if not top:
        return RollReading(file_problem=FileProblem.EMPTY)
    layout = _find_layout(top)
    if isinstance(layout, FileProblem):
        return RollReading(file_problem=layout)
    if isinstance(layout, tuple):
        return RollReading(file_problem=FileProblem.DUPLICATE_COLUMN, file_problem_detail=", ".join(layout))

    parsed: list[RollRow] = []
    problems: list[RowProblem] = []
    notices: list[RowNotice] = []
    bad_rows: set[int] = set()
    data_rows = 0

    def take(number: int, cells: Sequence[object]) -> None:
        row, row_problems, row_notices = _parse_row(
            number, cells, layout, election_year=election_year, this_year=this_year
        )
        parsed.append(row)
        problems.extend(row_problems)
        notices.extend(row_notices)
        if row_problems:
            bad_rows.add(number)

    last_number = 0
    for number, cells in itertools.chain(top, rows):
        last_number = number
        if number > MAX_PHYSICAL_ROWS:
            return RollReading(file_problem=FileProblem.TOO_MANY_ROWS)
        if number <= layout.header_row or _is_blank(cells):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            return RollReading(file_problem=FileProblem.TOO_MANY_ROWS)
        take(number, cells)
        if on_progress is not None and data_rows % PROGRESS_EVERY == 0:
            on_progress(number, estimate)
    if on_progress is not None:
        on_progress(last_number, last_number)
    if not parsed:
        return RollReading(file_problem=FileProblem.EMPTY)

    problems.extend(cross_row_problems(parsed, layout.headers))
    bad_rows.update(problem.row_number for problem in problems)
    problems.sort(key=lambda problem: problem.row_number)
    return RollReading(
        rows=tuple(row for row in parsed if row.row_number not in bad_rows),
        problems=tuple(problems),
        notices=tuple(notices),
        headers=dict(layout.headers),
        ignored_columns=tuple(layout.ignored),
        rows_read=len(parsed),
    )


# --- writing -------------------------------------------------------------------------------------

_EXPORT_WIDTHS: Mapping[RollField, int] = {
    RollField.NAME: 12,
    RollField.PHONE: 16,
    RollField.GROUP: 12,
    RollField.HOUSEHOLD: 10,
    RollField.GENDER: 6,
    RollField.BIRTH_YEAR: 10,
    RollField.PARTY_MEMBER: 6,
    RollField.PARTY_STATUS: 10,
    RollField.MIGRANT: 9,
    RollField.WORKS_IN: 16,
    RollField.ELIGIBLE_VOTER: 9,
    RollField.NOTES: 30,
}
_GENDER_WRITTEN = {Gender.MALE.value: "男", Gender.FEMALE.value: "女"}
_STATUS_WRITTEN = {PartyStatus.FULL.value: "正式党员", PartyStatus.PROBATIONARY.value: "预备党员"}


def phone_as_written(e164: str | None) -> str:
    """A mainland number the way the committee writes it (13800138000); others stay international."""
    if not e164:
        return ""
    parsed = phonenumbers.parse(e164)
    return str(parsed.national_number) if parsed.country_code == 86 else e164


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def write_roll_xlsx(
    target: Path | IO[bytes], entries: Iterable[RollEntry], *, sheet_title: str = "选民名单"
) -> int:
    """Write a roll in the committee's format (Chinese headers), readable again by `read_roll`.

    The last column says whether the person has bound a Telegram account; the importer skips it.
    Returns the number of people written.
    """
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    letters = "ABCDEFGHIJKLMN"
    for index, roll_field in enumerate(RollField):
        sheet.column_dimensions[letters[index]].width = _EXPORT_WIDTHS[roll_field]
    sheet.column_dimensions[letters[len(RollField)]].width = 8
    sheet.freeze_panes = "B2"
    sheet.append([*CHINESE_HEADERS.values(), BOUND_HEADER])

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "@"  # keeps Excel from turning 13800138000 into 1.38E+10
        return cell

    written = 0
    for entry in entries:
        person = entry.person
        sheet.append(
            [
                person.name,
                text_cell(phone_as_written(person.phone)),
                entry.group or "",
                text_cell(person.household or ""),
                _GENDER_WRITTEN.get(person.gender or "", ""),
                person.birth_year,
                _yes(person.party_member),
                _STATUS_WRITTEN.get(person.party_status or "", ""),
                _yes(person.migrant),
                person.works_in or "",
                _yes(person.eligible_voter),
                person.notes or "",
                _yes(entry.bound),
            ]
        )
        written += 1
    workbook.save(target)
    return written

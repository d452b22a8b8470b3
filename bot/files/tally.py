"""Paper recommendation counts as the committee types them into Excel, and the roster printed before a
group's meeting. Reading is pure: every row is checked and every problem reported with its row number;
the import that follows is all-or-nothing (bot.services.recommendations.import_paper_tally).

Columns (any order, a title may sit above the header): 村民小组 (group), 会议日期 (date), 职位
(position), 轮次 (round), 姓名 (name), 票数 (count), 参会人数 (participants). docs/election-format.md
describes them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side

from bot.rules.policy import RecommendationRound

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 50
HEADER_SEARCH_ROWS = 10


class TallyField(StrEnum):
    GROUP = "group"
    DATE = "date"
    POSITION = "position"
    ROUND = "round"
    NAME = "name"
    COUNT = "count"
    PARTICIPANTS = "participants"


# The committee's headers, as the documentation and the example show them.
CHINESE_HEADERS: Mapping[TallyField, str] = {
    TallyField.GROUP: "村民小组",
    TallyField.DATE: "会议日期",
    TallyField.POSITION: "职位",
    TallyField.ROUND: "轮次",
    TallyField.NAME: "姓名",
    TallyField.COUNT: "票数",
    TallyField.PARTICIPANTS: "参会人数",
}

_HEADER_VARIANTS: Mapping[TallyField, tuple[str, ...]] = {
    TallyField.GROUP: ("村民小组", "小组", "组", "组别", "group", "villagers group"),
    TallyField.DATE: ("会议日期", "日期", "推荐日期", "date", "meeting date"),
    TallyField.POSITION: ("职位", "职务", "推荐职位", "position"),
    TallyField.ROUND: ("轮次", "推荐轮次", "推荐方式", "round"),
    TallyField.NAME: ("姓名", "被推荐人", "被推荐人姓名", "候选人", "name", "candidate"),
    TallyField.COUNT: ("票数", "推荐票数", "得票数", "count", "votes"),
    TallyField.PARTICIPANTS: ("参会人数", "参加人数", "到会人数", "participants"),
}

_ROUNDS: Mapping[str, RecommendationRound] = {
    "党员推荐": RecommendationRound.PARTY,
    "党员": RecommendationRound.PARTY,
    "党内推荐": RecommendationRound.PARTY,
    "party": RecommendationRound.PARTY,
    "群众推荐": RecommendationRound.PUBLIC,
    "群众": RecommendationRound.PUBLIC,
    "村民推荐": RecommendationRound.PUBLIC,
    "村民": RecommendationRound.PUBLIC,
    "选民提名": RecommendationRound.PUBLIC,
    "public": RecommendationRound.PUBLIC,
}
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


class TallyFileProblem(StrEnum):
    TOO_LARGE = "too_large"
    NOT_A_SPREADSHEET = "not_a_spreadsheet"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    MISSING_COLUMNS = "missing_columns"
    TOO_MANY_ROWS = "too_many_rows"


class TallyCellProblem(StrEnum):
    MISSING = "missing"
    NOT_A_DATE = "not_a_date"
    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    UNKNOWN_ROUND = "unknown_round"


@dataclass(frozen=True, slots=True)
class PaperTallyRow:
    """One line of a paper count: at ``group``'s meeting on ``meeting_date``, ``count`` of the
    ``participants`` recommended ``name`` for ``position`` (as written; the service resolves it)."""

    line: int
    group: str
    meeting_date: date
    position: str
    round: RecommendationRound | None  # None: not written (a village election has one round)
    name: str
    count: int
    participants: int


@dataclass(frozen=True, slots=True)
class TallyCellIssue:
    line: int
    field: TallyField
    reason: TallyCellProblem
    value: str


@dataclass(frozen=True)
class TallyReading:
    file_problem: TallyFileProblem | None = None
    missing_columns: tuple[TallyField, ...] = ()
    rows: tuple[PaperTallyRow, ...] = ()
    problems: tuple[TallyCellIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return self.file_problem is None and not self.problems


def clean_text(value: object) -> str:
    """A cell as text: NFKC (full-width digits and brackets become ASCII), single spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    cleaned = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    return " ".join(cleaned.split())


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-*:.'’()（）]", "", clean_text(text).lower())


_HEADER_LOOKUP: Mapping[str, TallyField] = {
    _header_key(variant): tally_field
    for tally_field, variants in _HEADER_VARIANTS.items()
    for variant in variants
}


def parse_round(text: str) -> RecommendationRound | None:
    return _ROUNDS.get(_header_key(text))


def _date(raw: object) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    match = _DATE_TEXT.match(clean_text(raw))
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _whole(raw: object) -> int | TallyCellProblem:
    if isinstance(raw, bool):
        return TallyCellProblem.NOT_A_NUMBER
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    else:
        text = clean_text(raw)
        if not re.fullmatch(r"-?\d+", text):
            return TallyCellProblem.NOT_A_NUMBER
        value = int(text)
    return TallyCellProblem.NEGATIVE if value < 0 else value


def _find_header(rows: Sequence[tuple[int, Sequence[object]]]) -> tuple[int, dict[TallyField, int]] | None:
    best: tuple[int, dict[TallyField, int]] | None = None
    for number, cells in rows:
        found: dict[TallyField, int] = {}
        for index, cell in enumerate(cells):
            tally_field = _HEADER_LOOKUP.get(_header_key(clean_text(cell)))
            if tally_field is not None and tally_field not in found:
                found[tally_field] = index
        if best is None or len(found) > len(best[1]):
            best = (number, found)
    return best if best is not None and best[1] else None


def read_paper_tally(source: Path | bytes) -> TallyReading:
    """Read and check a paper count spreadsheet (.xlsx); every problem with its row number."""
    if isinstance(source, Path):
        if source.stat().st_size > MAX_FILE_BYTES:
            return TallyReading(file_problem=TallyFileProblem.TOO_LARGE)
        data = source.read_bytes()
    else:
        data = source
    if len(data) > MAX_FILE_BYTES:
        return TallyReading(file_problem=TallyFileProblem.TOO_LARGE)
    if not data.strip():
        return TallyReading(file_problem=TallyFileProblem.EMPTY)
    if not data.startswith(_ZIP_MAGIC):
        return TallyReading(file_problem=TallyFileProblem.NOT_A_SPREADSHEET)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip may raise anything
        return TallyReading(file_problem=TallyFileProblem.UNREADABLE)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = [
            (number, tuple(cells))
            for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
            if number <= MAX_ROWS + HEADER_SEARCH_ROWS + 1
        ]
    except Exception:
        return TallyReading(file_problem=TallyFileProblem.UNREADABLE)
    finally:
        workbook.close()
    return read_rows(rows)


def read_rows(rows: Sequence[tuple[int, Sequence[object]]]) -> TallyReading:
    """Check rows already read (row number, cells): the part of the reader that is not Excel's."""
    content = [(n, cells) for n, cells in rows if any(clean_text(c) for c in cells)]
    if not content:
        return TallyReading(file_problem=TallyFileProblem.EMPTY)
    header = _find_header(content[:HEADER_SEARCH_ROWS])
    required = tuple(TallyField)
    if header is None:
        return TallyReading(file_problem=TallyFileProblem.MISSING_COLUMNS, missing_columns=required)
    header_row, columns = header
    missing = tuple(f for f in required if f not in columns)
    if missing:
        return TallyReading(file_problem=TallyFileProblem.MISSING_COLUMNS, missing_columns=missing)
    body = [(n, cells) for n, cells in content if n > header_row]
    if len(body) > MAX_ROWS:
        return TallyReading(file_problem=TallyFileProblem.TOO_MANY_ROWS)

    parsed: list[PaperTallyRow] = []
    problems: list[TallyCellIssue] = []
    for number, cells in body:
        line = _parse_line(number, cells, columns)
        if isinstance(line, PaperTallyRow):
            parsed.append(line)
        else:
            problems.extend(line)
    return TallyReading(rows=tuple(parsed), problems=tuple(problems))


def _parse_line(
    number: int, cells: Sequence[object], columns: Mapping[TallyField, int]
) -> PaperTallyRow | list[TallyCellIssue]:
    def cell(tally_field: TallyField) -> object:
        index = columns[tally_field]
        return cells[index] if index < len(cells) else None

    issues: list[TallyCellIssue] = []

    def text(tally_field: TallyField, *, required: bool = True) -> str:
        value = clean_text(cell(tally_field))
        if required and not value:
            issues.append(TallyCellIssue(number, tally_field, TallyCellProblem.MISSING, ""))
        return value

    group, position, name = text(TallyField.GROUP), text(TallyField.POSITION), text(TallyField.NAME)
    meeting_date = _date(cell(TallyField.DATE))
    if meeting_date is None:
        written = clean_text(cell(TallyField.DATE))
        reason = TallyCellProblem.NOT_A_DATE if written else TallyCellProblem.MISSING
        issues.append(TallyCellIssue(number, TallyField.DATE, reason, written))
    round_text = text(TallyField.ROUND, required=False)
    round_ = parse_round(round_text) if round_text else None
    if round_text and round_ is None:
        issues.append(TallyCellIssue(number, TallyField.ROUND, TallyCellProblem.UNKNOWN_ROUND, round_text))
    numbers: dict[TallyField, int] = {}
    for tally_field in (TallyField.COUNT, TallyField.PARTICIPANTS):
        raw = cell(tally_field)
        if not clean_text(raw):
            issues.append(TallyCellIssue(number, tally_field, TallyCellProblem.MISSING, ""))
            continue
        value = _whole(raw)
        if isinstance(value, TallyCellProblem):
            issues.append(TallyCellIssue(number, tally_field, value, clean_text(raw)))
        else:
            numbers[tally_field] = value
    if issues or meeting_date is None:
        return issues
    return PaperTallyRow(
        line=number,
        group=group,
        meeting_date=meeting_date,
        position=position,
        round=round_,
        name=name,
        count=numbers[TallyField.COUNT],
        participants=numbers[TallyField.PARTICIPANTS],
    )


def write_paper_tally_template(path: Path, rows: Sequence[Sequence[object]] = ()) -> None:
    """An empty count sheet with the committee's headers (and example rows, if given)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "推荐票统计"
    sheet.append([CHINESE_HEADERS[f] for f in TallyField])
    for row in rows:
        sheet.append(list(row))
    for index, width in enumerate((10, 12, 10, 10, 12, 8, 10), start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = width
    workbook.save(path)


@dataclass(frozen=True)
class RosterSheet:
    """The printed roster of a group before its paper meeting; strings already translated."""

    title: str
    lines: Sequence[str]  # under the title: village, group, election, printed on
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    sheet: str = "roster"


def write_roster_xlsx(roster: RosterSheet, path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", roster.sheet)[:31] or "roster"
    columns = max(len(roster.headers), 1)
    last = openpyxl.utils.get_column_letter(columns)
    top = [(roster.title, Font(bold=True, size=14))] + [(line, Font(size=11)) for line in roster.lines]
    for number, (text, font) in enumerate(top, start=1):
        cell = sheet.cell(row=number, column=1, value=text)
        cell.font = font
        if columns > 1:
            sheet.merge_cells(f"A{number}:{last}{number}")
    header_row = len(top) + 2
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for index, header in enumerate(roster.headers, start=1):
        cell = sheet.cell(row=header_row, column=index, value=header)
        cell.font = Font(bold=True)
        cell.border = border
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for r, row in enumerate(roster.rows, start=header_row + 1):
        for index, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=index, value=value)
            cell.data_type = "s"
            cell.border = border
        sheet.row_dimensions[r].height = 22  # room for a signature
    for index, header in enumerate(roster.headers, start=1):
        widest = max(
            [len(header) * 2, *(len(row[index - 1]) * 2 for row in roster.rows if index <= len(row))]
        )
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = min(max(widest + 2, 8), 40)
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    workbook.save(path)

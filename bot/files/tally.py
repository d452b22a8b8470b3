"""Paper counts as the committee types them into Excel, and the roster printed before a group's
meeting. Reading is pure: every row is checked and every problem reported with its row number; the
import that follows is all-or-nothing (bot.services.recommendations.import_paper_tally,
bot.services.trust_votes.import_trust_paper).

Two sheets, columns in any order, a title may sit above the header (docs/election-format.md):
- recommendations: 村民小组 (group), 会议日期 (date), 职位 (position), 轮次 (round), 姓名 (name),
  票数 (count), 参会人数 (participants);
- the trust vote (两票制): 村民小组, 会议日期, 姓名, 信任 (trust), 不信任 (no trust), 弃权 (abstain),
  投票人数 (ballots cast at the meeting).
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

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
    TRUST = "trust"
    NO_TRUST = "no_trust"
    ABSTAIN = "abstain"
    BALLOTS = "ballots"


# The columns of each sheet, in the order of the documentation and the templates.
RECOMMENDATION_FIELDS: tuple[TallyField, ...] = (
    TallyField.GROUP,
    TallyField.DATE,
    TallyField.POSITION,
    TallyField.ROUND,
    TallyField.NAME,
    TallyField.COUNT,
    TallyField.PARTICIPANTS,
)
TRUST_FIELDS: tuple[TallyField, ...] = (
    TallyField.GROUP,
    TallyField.DATE,
    TallyField.NAME,
    TallyField.TRUST,
    TallyField.NO_TRUST,
    TallyField.ABSTAIN,
    TallyField.BALLOTS,
)

# The committee's headers, as the documentation and the example show them.
CHINESE_HEADERS: Mapping[TallyField, str] = {
    TallyField.GROUP: "村民小组",
    TallyField.DATE: "会议日期",
    TallyField.POSITION: "职位",
    TallyField.ROUND: "轮次",
    TallyField.NAME: "姓名",
    TallyField.COUNT: "票数",
    TallyField.PARTICIPANTS: "参会人数",
    TallyField.TRUST: "信任",
    TallyField.NO_TRUST: "不信任",
    TallyField.ABSTAIN: "弃权",
    TallyField.BALLOTS: "投票人数",
}

_HEADER_VARIANTS: Mapping[TallyField, tuple[str, ...]] = {
    TallyField.GROUP: ("村民小组", "小组", "组", "组别", "group", "villagers group"),
    TallyField.DATE: ("会议日期", "日期", "推荐日期", "date", "meeting date"),
    TallyField.POSITION: ("职位", "职务", "推荐职位", "position"),
    TallyField.ROUND: ("轮次", "推荐轮次", "推荐方式", "round"),
    TallyField.NAME: ("姓名", "被推荐人", "被推荐人姓名", "候选人", "name", "candidate"),
    TallyField.COUNT: ("票数", "推荐票数", "得票数", "count", "votes"),
    TallyField.PARTICIPANTS: ("参会人数", "参加人数", "到会人数", "participants"),
    TallyField.TRUST: ("信任", "信任票", "信任票数", "trust"),
    TallyField.NO_TRUST: ("不信任", "不信任票", "不信任票数", "no trust", "distrust"),
    TallyField.ABSTAIN: ("弃权", "弃权票", "弃权票数", "abstain"),
    TallyField.BALLOTS: ("投票人数", "参加投票人数", "收回选票", "收回票数", "ballots", "ballots cast"),
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
class TrustTallyRow:
    """One line of a paper trust vote: at ``group``'s meeting on ``meeting_date``, ``ballots`` ballots
    were cast, and ``name`` got ``trust``, ``no_trust`` and ``abstain`` marks on them."""

    line: int
    group: str
    meeting_date: date
    name: str
    trust: int
    no_trust: int
    abstain: int
    ballots: int


RowT = TypeVar("RowT", PaperTallyRow, TrustTallyRow)


@dataclass(frozen=True, slots=True)
class TallyCellIssue:
    line: int
    field: TallyField
    reason: TallyCellProblem
    value: str


@dataclass(frozen=True)
class TallyReading(Generic[RowT]):
    file_problem: TallyFileProblem | None = None
    missing_columns: tuple[TallyField, ...] = ()
    rows: tuple[RowT, ...] = ()
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


Rows = list[tuple[int, tuple[object, ...]]]


def _sheet_rows(source: Path | bytes) -> Rows | TallyFileProblem:
    """The first sheet's rows (row number, cells), or why the file cannot be read."""
    if isinstance(source, Path):
        if source.stat().st_size > MAX_FILE_BYTES:
            return TallyFileProblem.TOO_LARGE
        data = source.read_bytes()
    else:
        data = source
    if len(data) > MAX_FILE_BYTES:
        return TallyFileProblem.TOO_LARGE
    if not data.strip():
        return TallyFileProblem.EMPTY
    if not data.startswith(_ZIP_MAGIC):
        return TallyFileProblem.NOT_A_SPREADSHEET
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip may raise anything
        return TallyFileProblem.UNREADABLE
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        return [
            (number, tuple(cells))
            for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
            if number <= MAX_ROWS + HEADER_SEARCH_ROWS + 1
        ]
    except Exception:
        return TallyFileProblem.UNREADABLE
    finally:
        workbook.close()


def read_paper_tally(source: Path | bytes) -> TallyReading[PaperTallyRow]:
    """Read and check a paper recommendation count (.xlsx); every problem with its row number."""
    rows = _sheet_rows(source)
    if isinstance(rows, TallyFileProblem):
        return TallyReading(file_problem=rows)
    return read_rows(rows)


def read_trust_tally(source: Path | bytes) -> TallyReading[TrustTallyRow]:
    """Read and check a paper trust-vote count (.xlsx); every problem with its row number."""
    rows = _sheet_rows(source)
    if isinstance(rows, TallyFileProblem):
        return TallyReading(file_problem=rows)
    return _read_body(rows, TRUST_FIELDS, _parse_trust_line)


def read_rows(rows: Sequence[tuple[int, Sequence[object]]]) -> TallyReading[PaperTallyRow]:
    """Check recommendation rows already read (row number, cells): the part that is not Excel's."""
    return _read_body(rows, RECOMMENDATION_FIELDS, _parse_line)


def _read_body(
    rows: Sequence[tuple[int, Sequence[object]]],
    required: tuple[TallyField, ...],
    parse: Callable[[int, Sequence[object], Mapping[TallyField, int]], RowT | list[TallyCellIssue]],
) -> TallyReading[RowT]:
    content = [(n, cells) for n, cells in rows if any(clean_text(c) for c in cells)]
    if not content:
        return TallyReading(file_problem=TallyFileProblem.EMPTY)
    header = _find_header(content[:HEADER_SEARCH_ROWS])
    if header is None:
        return TallyReading(file_problem=TallyFileProblem.MISSING_COLUMNS, missing_columns=required)
    header_row, columns = header
    missing = tuple(f for f in required if f not in columns)
    if missing:
        return TallyReading(file_problem=TallyFileProblem.MISSING_COLUMNS, missing_columns=missing)
    body = [(n, cells) for n, cells in content if n > header_row]
    if len(body) > MAX_ROWS:
        return TallyReading(file_problem=TallyFileProblem.TOO_MANY_ROWS)

    parsed: list[RowT] = []
    problems: list[TallyCellIssue] = []
    for number, cells in body:
        line = parse(number, cells, columns)
        if isinstance(line, list):
            problems.extend(line)
        else:
            parsed.append(line)
    return TallyReading(rows=tuple(parsed), problems=tuple(problems))


class _Cells:
    """One body row's cells by column, collecting what is wrong with them."""

    def __init__(self, number: int, cells: Sequence[object], columns: Mapping[TallyField, int]) -> None:
        self.number = number
        self._cells = cells
        self._columns = columns
        self.issues: list[TallyCellIssue] = []

    def raw(self, tally_field: TallyField) -> object:
        index = self._columns[tally_field]
        return self._cells[index] if index < len(self._cells) else None

    def text(self, tally_field: TallyField, *, required: bool = True) -> str:
        value = clean_text(self.raw(tally_field))
        if required and not value:
            self.issues.append(TallyCellIssue(self.number, tally_field, TallyCellProblem.MISSING, ""))
        return value

    def day(self) -> date | None:
        meeting_date = _date(self.raw(TallyField.DATE))
        if meeting_date is None:
            written = clean_text(self.raw(TallyField.DATE))
            reason = TallyCellProblem.NOT_A_DATE if written else TallyCellProblem.MISSING
            self.issues.append(TallyCellIssue(self.number, TallyField.DATE, reason, written))
        return meeting_date

    def whole(self, tally_field: TallyField) -> int | None:
        raw = self.raw(tally_field)
        if not clean_text(raw):
            self.issues.append(TallyCellIssue(self.number, tally_field, TallyCellProblem.MISSING, ""))
            return None
        value = _whole(raw)
        if isinstance(value, TallyCellProblem):
            self.issues.append(TallyCellIssue(self.number, tally_field, value, clean_text(raw)))
            return None
        return value


def _parse_line(
    number: int, cells: Sequence[object], columns: Mapping[TallyField, int]
) -> PaperTallyRow | list[TallyCellIssue]:
    row = _Cells(number, cells, columns)
    group, position, name = (
        row.text(TallyField.GROUP),
        row.text(TallyField.POSITION),
        row.text(TallyField.NAME),
    )
    meeting_date = row.day()
    round_text = row.text(TallyField.ROUND, required=False)
    round_ = parse_round(round_text) if round_text else None
    if round_text and round_ is None:
        row.issues.append(
            TallyCellIssue(number, TallyField.ROUND, TallyCellProblem.UNKNOWN_ROUND, round_text)
        )
    count, participants = row.whole(TallyField.COUNT), row.whole(TallyField.PARTICIPANTS)
    if row.issues or meeting_date is None or count is None or participants is None:
        return row.issues
    return PaperTallyRow(
        line=number,
        group=group,
        meeting_date=meeting_date,
        position=position,
        round=round_,
        name=name,
        count=count,
        participants=participants,
    )


def _parse_trust_line(
    number: int, cells: Sequence[object], columns: Mapping[TallyField, int]
) -> TrustTallyRow | list[TallyCellIssue]:
    row = _Cells(number, cells, columns)
    group, name = row.text(TallyField.GROUP), row.text(TallyField.NAME)
    meeting_date = row.day()
    trust, no_trust = row.whole(TallyField.TRUST), row.whole(TallyField.NO_TRUST)
    abstain, ballots = row.whole(TallyField.ABSTAIN), row.whole(TallyField.BALLOTS)
    if row.issues or meeting_date is None or trust is None or no_trust is None:
        return row.issues
    if abstain is None or ballots is None:
        return row.issues
    return TrustTallyRow(
        line=number,
        group=group,
        meeting_date=meeting_date,
        name=name,
        trust=trust,
        no_trust=no_trust,
        abstain=abstain,
        ballots=ballots,
    )


def write_paper_tally_template(
    path: Path, rows: Sequence[Sequence[object]] = (), *, trust: bool = False
) -> None:
    """An empty count sheet with the committee's headers (and example rows, if given): recommendations,
    or with ``trust`` the trust vote."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "信任票统计" if trust else "推荐票统计"
    sheet.append([CHINESE_HEADERS[f] for f in (TRUST_FIELDS if trust else RECOMMENDATION_FIELDS)])
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

"""The results count from a spreadsheet (`cunmin results import FILE --election ID`).

One row per name and position; the ballots of a position repeat on each of its rows:

| 职位 | 发出选票 | 收回选票 | 有效票 | 无效票 | 姓名 | 票数 | 另选 |
|------|---------|---------|-------|-------|------|-----|-----|
| 主任 | 18      | 16      | 15    | 1     | 王伟 | 11  |     |
| 委员 | 18      | 16      | 16    | 0     | 赵六 | 2   | 是  |

"另选" (written in) marks a name the voters wrote on the ballot themselves; any text there but 否/no
counts as yes. English headers (position, issued, returned, valid, invalid, name, votes, write-in)
work too. Problems name the row and the column as written.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import openpyxl

from bot.files.tally import MAX_FILE_BYTES, TallyFileProblem, clean_text


class SheetField(StrEnum):
    POSITION = "position"
    ISSUED = "issued"
    RETURNED = "returned"
    VALID = "valid"
    INVALID = "invalid"
    NAME = "name"
    VOTES = "votes"
    WRITE_IN = "write_in"


HEADERS: Mapping[SheetField, tuple[str, ...]] = {
    SheetField.POSITION: ("职位", "职务", "position"),
    SheetField.ISSUED: ("发出选票", "发出票数", "发票数", "issued"),
    SheetField.RETURNED: ("收回选票", "收回票数", "收票数", "returned"),
    SheetField.VALID: ("有效票", "有效票数", "有效选票", "valid"),
    SheetField.INVALID: ("无效票", "无效票数", "无效选票", "invalid"),
    SheetField.NAME: ("姓名", "候选人", "name"),
    SheetField.VOTES: ("票数", "得票", "得票数", "votes"),
    SheetField.WRITE_IN: ("另选", "另选他人", "write-in", "writein", "write in"),
}
REQUIRED = tuple(f for f in SheetField if f is not SheetField.WRITE_IN)
_NO = {"", "否", "不是", "no", "n", "false", "0"}
MAX_ROWS = 2_000
HEADER_SEARCH_ROWS = 10


def _key(text: str) -> str:
    return re.sub(r"[\s_\-*:.()（）]", "", clean_text(text).lower())


_LOOKUP = {_key(v): f for f, variants in HEADERS.items() for v in variants}


class CellProblem(StrEnum):
    MISSING = "missing"
    NOT_A_NUMBER = "not_a_number"
    BALLOTS_DIFFER = "ballots_differ"  # a position's ballots are not the same on all its rows


@dataclass(frozen=True)
class SheetProblem:
    row: int
    column: str  # the header as written
    problem: CellProblem
    value: str


@dataclass(frozen=True)
class SheetVote:
    row: int
    name: str
    votes: int
    write_in: bool


@dataclass
class SheetPosition:
    position: str  # as written; the service resolves it
    row: int  # its first row
    ballots: tuple[int, int, int, int]  # issued, returned, valid, invalid
    votes: list[SheetVote] = field(default_factory=list)


@dataclass(frozen=True)
class ResultsSheet:
    file_problem: TallyFileProblem | None = None
    missing: tuple[SheetField, ...] = ()
    problems: tuple[SheetProblem, ...] = ()
    positions: tuple[SheetPosition, ...] = ()


def _whole(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, float) and raw.is_integer() and raw >= 0:
        return int(raw)
    text = clean_text(raw)
    return int(text) if re.fullmatch(r"\d+", text) else None


def _rows(data: bytes) -> list[tuple[object, ...]] | TallyFileProblem:
    if len(data) > MAX_FILE_BYTES:
        return TallyFileProblem.TOO_LARGE
    if not data.strip():
        return TallyFileProblem.EMPTY
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return TallyFileProblem.NOT_A_SPREADSHEET
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip may raise anything
        return TallyFileProblem.UNREADABLE
    try:
        rows = [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True, max_col=20)]
    except Exception:
        return TallyFileProblem.UNREADABLE
    finally:
        book.close()
    if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
        return TallyFileProblem.TOO_MANY_ROWS
    return rows


def read_results_sheet(source: Path | bytes) -> ResultsSheet:
    data = source.read_bytes() if isinstance(source, Path) else source
    rows = _rows(data)
    if isinstance(rows, TallyFileProblem):
        return ResultsSheet(file_problem=rows)
    header_row = 0
    columns: dict[SheetField, int] = {}
    written: dict[SheetField, str] = {}
    for number, cells in enumerate(rows[:HEADER_SEARCH_ROWS], start=1):
        found: dict[SheetField, int] = {}
        names: dict[SheetField, str] = {}
        for index, cell in enumerate(cells):
            sheet_field = _LOOKUP.get(_key(clean_text(cell)))
            if sheet_field is not None and sheet_field not in found:
                found[sheet_field], names[sheet_field] = index, clean_text(cell)
        if len(found) > len(columns):
            header_row, columns, written = number, found, names
    missing = tuple(f for f in REQUIRED if f not in columns)
    if missing:
        return ResultsSheet(file_problem=TallyFileProblem.MISSING_COLUMNS, missing=missing)

    problems: list[SheetProblem] = []
    positions: dict[str, SheetPosition] = {}
    for number, cells in enumerate(rows[header_row:], start=header_row + 1):

        def cell(f: SheetField, cells: tuple[object, ...] = cells) -> object:
            index = columns.get(f)
            return cells[index] if index is not None and index < len(cells) else None

        if all(clean_text(c) == "" for c in cells):
            continue
        values: dict[SheetField, int] = {}
        for f in (
            SheetField.ISSUED,
            SheetField.RETURNED,
            SheetField.VALID,
            SheetField.INVALID,
            SheetField.VOTES,
        ):
            raw = cell(f)
            whole = _whole(raw)
            if whole is None:
                reason = CellProblem.MISSING if clean_text(raw) == "" else CellProblem.NOT_A_NUMBER
                problems.append(SheetProblem(number, written[f], reason, clean_text(raw)))
            else:
                values[f] = whole
        position, name = clean_text(cell(SheetField.POSITION)), clean_text(cell(SheetField.NAME))
        for f, text in ((SheetField.POSITION, position), (SheetField.NAME, name)):
            if not text:
                problems.append(SheetProblem(number, written[f], CellProblem.MISSING, ""))
        if len(values) < 5 or not position or not name:
            continue
        ballots = (
            values[SheetField.ISSUED],
            values[SheetField.RETURNED],
            values[SheetField.VALID],
            values[SheetField.INVALID],
        )
        held = positions.setdefault(position, SheetPosition(position, number, ballots))
        if held.ballots != ballots:
            problems.append(
                SheetProblem(number, written[SheetField.ISSUED], CellProblem.BALLOTS_DIFFER, position)
            )
            continue
        write_in = clean_text(cell(SheetField.WRITE_IN)).lower() not in _NO
        held.votes.append(SheetVote(number, name, values[SheetField.VOTES], write_in))
    return ResultsSheet(problems=tuple(problems), positions=tuple(positions.values()))


def write_results_template(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """A sheet with the Chinese headers and the given rows (tests and examples)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([HEADERS[f][0] for f in SheetField])
    for row in rows:
        sheet.append(list(row))
    book.save(path)

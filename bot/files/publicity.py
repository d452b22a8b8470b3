"""The documents of a publicity list (公示): the spreadsheet for the committee, the PDF for phones.

Every list the committee publishes carries its publication date, its objection deadline where a
window applies, and the SHA-256 fingerprint (指纹) of its canonical form (RULES.md, "Publicity and
supervision"). The fingerprint is printed in full on every page of the PDF and in the
spreadsheet, so the paper copy on the village notice board, the chat copy and the committee's
file can be compared by reading 64 hex digits aloud. It can be recomputed from the .xlsx alone
(:func:`read_publicity_xlsx`), and it does not depend on the language the list is shown in:
column *keys* are fingerprinted, not their translated headers.

This module takes already-translated strings (:class:`PublicityLabels`): no gettext here.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

import openpyxl
from fpdf import FPDF
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from bot.files.fonts import CjkFont, find_cjk_fonts, font_codepoints
from bot.rules.fingerprint import fingerprint, format_fingerprint

__all__ = [
    "XLSX_FORMAT",
    "PublicityKind",
    "PublicityLabels",
    "PublicityList",
    "PublicityXlsxError",
    "read_publicity_xlsx",
    "read_stated_fingerprint",
    "render_publicity_pdf",
    "write_publicity_xlsx",
]

log = logging.getLogger(__name__)

# Written in the metadata sheet; a reader refuses a format it does not know.
XLSX_FORMAT = "cunmin-publicity/1"
METADATA_SHEET = "metadata"
# Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
MAX_XLSX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 50
# XML 1.0 cannot hold these control characters, so neither can an .xlsx.
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class PublicityKind(StrEnum):
    VOTERS = "voters"  # 选民名单
    CANDIDATES = "candidates"  # 候选人名单 (with resumes)
    PROXIES = "proxies"  # 委托投票名单
    MOBILE_BOX_VOTERS = "mobile_box_voters"  # 流动票箱投票名单
    RESULTS = "results"  # 选举结果


def _clean(text: str, what: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string, not {type(text).__name__}")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _FORBIDDEN_CONTROLS.search(text):
        raise ValueError(f"{what} contains a control character")
    if len(text) > MAX_CELL_CHARS:
        raise ValueError(f"{what} is longer than {MAX_CELL_CHARS} characters")
    return text


@dataclass(frozen=True)
class PublicityList:
    """One published list, exactly as published.

    On construction every string is put in its normal form: Unicode NFC, line breaks ``\\n``
    (``\\r\\n`` and ``\\r`` become ``\\n``); other control characters are refused, since a
    spreadsheet cannot hold them. ``columns`` are stable keys (``"name"``, ``"group"``), not
    headers; ``rows`` keep the order in which they are published, one string per column
    (``""`` for an empty cell). Both are stored as tuples.
    """

    village: str
    township: str
    title: str
    kind: PublicityKind
    published_on: date
    objection_deadline: date | None
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]

    def __post_init__(self) -> None:
        for name in ("village", "township", "title"):
            object.__setattr__(self, name, _clean(getattr(self, name), name))
        if not self.village.strip() or not self.title.strip():
            raise ValueError("a publicity list needs a village and a title")
        object.__setattr__(self, "kind", PublicityKind(self.kind))
        if self.objection_deadline is not None and self.objection_deadline < self.published_on:
            raise ValueError("the objection deadline is before the publication date")
        columns = tuple(_clean(key, "column key") for key in self.columns)
        if not columns or len(columns) > MAX_COLUMNS:
            raise ValueError(f"a publicity list has 1 to {MAX_COLUMNS} columns")
        if len(set(columns)) != len(columns) or any(not key.strip() for key in columns):
            raise ValueError("column keys must be distinct and not blank")
        rows: list[tuple[str, ...]] = []
        for number, row in enumerate(self.rows, start=1):
            if isinstance(row, str) or len(row) != len(columns):
                raise ValueError(f"row {number} does not have {len(columns)} cells")
            rows.append(tuple(_clean(cell, f"row {number}") for cell in row))
        if len(rows) > MAX_ROWS:
            raise ValueError(f"a publicity list has at most {MAX_ROWS} rows")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "rows", tuple(rows))

    def canonical(self) -> dict[str, object]:
        """What is fingerprinted (bot.rules.fingerprint, normal form version 1).

        An object with exactly these keys: ``kind`` (the :class:`PublicityKind` value, e.g.
        ``"voters"``), ``village``, ``title``, ``published_on`` (``"YYYY-MM-DD"``),
        ``objection_deadline`` (``"YYYY-MM-DD"`` or ``null``), ``columns`` (the column keys in
        order) and ``rows`` (an array of arrays of strings, in the order published). Strings are
        NFC; the JSON has sorted keys and no whitespace, encoded as UTF-8. The township, the
        translated headers and the layout are not part of it.
        """
        return {
            "kind": self.kind,
            "village": self.village,
            "title": self.title,
            "published_on": self.published_on,
            "objection_deadline": self.objection_deadline,
            "columns": list(self.columns),
            "rows": [list(row) for row in self.rows],
        }

    def fingerprint(self) -> str:
        """SHA-256 hex digest (64 lowercase hex) of :meth:`canonical`'s canonical JSON."""
        return fingerprint(self.canonical())


@dataclass(frozen=True)
class PublicityLabels:
    """Strings already translated by the caller; ``{placeholders}`` are filled here.

    ``published_on`` and ``objection_deadline`` take ``{date}``; ``date_format`` takes ``{year}``,
    ``{month}``, ``{day}`` (ints); ``page`` takes ``{page}`` and ``{pages}``; ``fingerprint`` takes
    ``{fingerprint}`` (the 64 hex digits in groups of four); ``place`` takes ``{township}`` and
    ``{village}``. ``columns`` maps a column key to its header (the key itself if missing).
    ``sheet`` names the spreadsheet's readable sheet.
    """

    published_on: str  # "公示日期：{date}"
    objection_deadline: str  # "异议截止：{date}"
    no_objection_window: str  # "本名单不设异议期"
    page: str  # "第 {page} / {pages} 页"
    fingerprint: str  # "指纹（SHA-256）：{fingerprint}"
    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "{year:04d}-{month:02d}-{day:02d}"  # "{year}年{month}月{day}日"
    place: str = "{township} {village}"  # "{township}{village}"
    sheet: str = "公示"

    def header(self, key: str) -> str:
        return self.columns.get(key, key)

    def format_date(self, day: date) -> str:
        return self.date_format.format(year=day.year, month=day.month, day=day.day)

    def lines(self, plist: PublicityList) -> tuple[str, str, str]:
        """The place, the publication line and the objection line, as printed."""
        place = self.place.format(township=plist.township, village=plist.village).strip()
        published = self.published_on.format(date=self.format_date(plist.published_on))
        if plist.objection_deadline is None:
            objection = self.no_objection_window
        else:
            objection = self.objection_deadline.format(date=self.format_date(plist.objection_deadline))
        return place, published, objection


# --------------------------------------------------------------------------------------------
# Spreadsheet


class PublicityXlsxError(ValueError):
    """The file is not a publicity spreadsheet written by :func:`write_publicity_xlsx`."""


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _sheet_name(name: str) -> str:
    name = _SHEET_NAME_FORBIDDEN.sub(" ", name).strip().strip("'")[:31] or "list"
    return "list" if name.lower() == METADATA_SHEET else name


def _excel_escape(text: str) -> str:
    return text.replace("&", "&&")


def _as_text(cell: Any, value: str) -> None:
    """Store ``value`` as text, never as a formula or a number (``=…`` and ``0012`` stay)."""
    cell.value = value
    cell.data_type = "s"


_HEADER_ROW_XLSX = 7
_MAX_XLSX_WIDTH = 50


def write_publicity_xlsx(plist: PublicityList, path: str | Path, labels: PublicityLabels) -> None:
    """The list as a spreadsheet: a readable, printable first sheet, and a ``metadata`` sheet.

    The first sheet has the title, place, dates and fingerprint above the table (bold headers,
    frozen, repeated on every printed page; landscape, fitted to the page width; the footer of
    each printed page carries the fingerprint). The ``metadata`` sheet holds what
    :func:`read_publicity_xlsx` needs to rebuild the list and recompute the fingerprint.
    """
    digest = plist.fingerprint()
    grouped = format_fingerprint(digest)
    ncols = len(plist.columns)
    last = get_column_letter(ncols)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _sheet_name(labels.sheet)

    headers = [labels.header(key) for key in plist.columns]
    widths = [_display_width(h) for h in headers]
    for row in plist.rows:
        for i, cell in enumerate(row):
            longest = max((_display_width(part) for part in cell.split("\n")), default=0)
            if longest > widths[i]:
                widths[i] = longest
    widths = [min(max(w + 2, 6), _MAX_XLSX_WIDTH) for w in widths]
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    total_width = max(sum(widths), 1)

    place, published, objection = labels.lines(plist)
    top = [
        (plist.title, Font(bold=True, size=14), 22),
        (place, Font(size=11), 16),
        (published, Font(size=11), 16),
        (objection, Font(size=11), 16),
        (labels.fingerprint.format(fingerprint=grouped), Font(size=10, name="Courier New"), 15),
    ]
    for number, (text, font, line_height) in enumerate(top, start=1):
        cell = sheet.cell(row=number, column=1)
        _as_text(cell, text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center" if number == 1 else "left", wrap_text=True)
        if ncols > 1:
            sheet.merge_cells(f"A{number}:{last}{number}")
        # Excel does not grow a merged row to fit wrapped text: estimate the lines.
        scale = 1.3 if number == 1 else 1.0
        lines = sum(max(1, math.ceil(_display_width(p) * scale / total_width)) for p in text.split("\n"))
        sheet.row_dimensions[number].height = line_height * lines + 4

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="E8E8E8")
    bold = Font(bold=True)
    centered = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, header in enumerate(headers, start=1):
        cell = sheet.cell(row=_HEADER_ROW_XLSX, column=i)
        _as_text(cell, header)
        cell.font = bold
        cell.fill = header_fill
        cell.border = border
        cell.alignment = centered
    wrapping = Alignment(vertical="top", wrap_text=True)
    for r, row in enumerate(plist.rows, start=_HEADER_ROW_XLSX + 1):
        for i, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=i)
            if value:
                _as_text(cell, value)
            cell.border = border
            cell.alignment = wrapping

    sheet.freeze_panes = f"A{_HEADER_ROW_XLSX + 1}"
    sheet.print_title_rows = f"{_HEADER_ROW_XLSX}:{_HEADER_ROW_XLSX}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.bottom = 0.9
    sheet.oddFooter.left.text = _excel_escape(labels.fingerprint.format(fingerprint=grouped))
    sheet.oddFooter.left.size = 8
    sheet.oddFooter.right.text = _excel_escape(labels.page.format(page="\x00P", pages="\x00N")).replace(
        "\x00", "&"
    )
    sheet.oddFooter.right.size = 8

    meta = workbook.create_sheet(METADATA_SHEET)
    entries: list[tuple[str, list[str]]] = [
        ("format", [XLSX_FORMAT]),
        ("kind", [plist.kind.value]),
        ("village", [plist.village]),
        ("township", [plist.township]),
        ("title", [plist.title]),
        ("published_on", [plist.published_on.isoformat()]),
        ("objection_deadline", [plist.objection_deadline.isoformat() if plist.objection_deadline else ""]),
        ("columns", list(plist.columns)),
        ("sheet", [sheet.title]),
        ("first_row", [str(_HEADER_ROW_XLSX + 1)]),
        ("row_count", [str(len(plist.rows))]),
        ("fingerprint", [digest]),
        (
            "canonical_form",
            [
                "SHA-256 of the UTF-8 JSON object {kind, village, title, published_on, "
                "objection_deadline (null if none), columns (the keys above), rows (the table of the "
                'first sheet, one array of strings per row, empty cells as "")}: keys sorted, no '
                "whitespace, strings in Unicode NFC, not ASCII-escaped."
            ],
        ),
    ]
    for r, (key, values) in enumerate(entries, start=1):
        _as_text(meta.cell(row=r, column=1), key)
        meta.cell(row=r, column=1).font = bold
        for c, value in enumerate(values, start=2):
            if value:
                _as_text(meta.cell(row=r, column=c), value)
    meta.column_dimensions["A"].width = 20
    meta.column_dimensions["B"].width = 40
    workbook.save(path)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PublicityXlsxError(f"{what} is not a date: {value!r}") from None


def _read_metadata(workbook: Any) -> dict[str, list[str]]:
    if METADATA_SHEET not in workbook.sheetnames:
        raise PublicityXlsxError(f"no {METADATA_SHEET!r} sheet: not a publicity spreadsheet")
    meta: dict[str, list[str]] = {}
    for row in workbook[METADATA_SHEET].iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
        if not row or row[0] is None:
            continue
        values = [_text(v) for v in row[1:]]
        while values and values[-1] == "":
            values.pop()
        meta[_text(row[0])] = values
    if meta.get("format") != [XLSX_FORMAT]:
        raise PublicityXlsxError(f"unknown format {meta.get('format')!r}, expected {XLSX_FORMAT!r}")
    return meta


def _one(meta: Mapping[str, list[str]], key: str, *, optional: bool = False) -> str:
    values = meta.get(key, [])
    if len(values) > 1 or (not values and not optional):
        raise PublicityXlsxError(f"metadata {key!r} is missing or has several values")
    return values[0] if values else ""


def _open_workbook(path: str | Path) -> Any:
    path = Path(path)
    if path.stat().st_size > MAX_XLSX_BYTES:
        raise PublicityXlsxError(f"the file is larger than {MAX_XLSX_BYTES // (1024 * 1024)} MB")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise PublicityXlsxError(f"not a readable .xlsx file: {error}") from None


def read_publicity_xlsx(path: str | Path) -> PublicityList:
    """Rebuild the list from a spreadsheet written by :func:`write_publicity_xlsx`.

    The metadata (kind, village, title, dates, column keys) comes from the ``metadata`` sheet;
    the rows from the table as it stands on the readable sheet, so an edited cell shows up as a
    different fingerprint.
    """
    workbook = _open_workbook(path)
    try:
        meta = _read_metadata(workbook)
        columns = meta.get("columns", [])
        sheet_name = _one(meta, "sheet")
        if sheet_name not in workbook.sheetnames:
            raise PublicityXlsxError(f"the sheet {sheet_name!r} named in the metadata is missing")
        try:
            first_row = int(_one(meta, "first_row"))
            row_count = int(_one(meta, "row_count"))
        except ValueError:
            raise PublicityXlsxError("first_row and row_count must be whole numbers") from None
        if first_row < 1 or not 0 <= row_count <= MAX_ROWS or not columns:
            raise PublicityXlsxError("the metadata's table position is out of range")
        rows: list[tuple[str, ...]] = []
        if row_count:
            for row in workbook[sheet_name].iter_rows(
                min_row=first_row,
                max_row=first_row + row_count - 1,
                max_col=len(columns),
                values_only=True,
            ):
                cells = [_text(v) for v in row] + [""] * (len(columns) - len(row))
                rows.append(tuple(cells))
        rows.extend(tuple([""] * len(columns)) for _ in range(row_count - len(rows)))
        deadline = _one(meta, "objection_deadline", optional=True)
        try:
            kind = PublicityKind(_one(meta, "kind"))
            return PublicityList(
                village=_one(meta, "village"),
                township=_one(meta, "township", optional=True),
                title=_one(meta, "title"),
                kind=kind,
                published_on=_parse_date(_one(meta, "published_on"), "published_on"),
                objection_deadline=_parse_date(deadline, "objection_deadline") if deadline else None,
                columns=columns,
                rows=rows,
            )
        except (ValueError, TypeError) as error:
            if isinstance(error, PublicityXlsxError):
                raise
            raise PublicityXlsxError(str(error)) from None
    finally:
        workbook.close()


def read_stated_fingerprint(path: str | Path) -> str:
    """The fingerprint the spreadsheet states (to compare with the one recomputed from it)."""
    workbook = _open_workbook(path)
    try:
        return _one(_read_metadata(workbook), "fingerprint")
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------
# PDF

_MM_PER_PT = 25.4 / 72
_MARGIN = 12.0
_FOOTER_SPACE = 17.0  # below the table: a rule, the fingerprint line and the page line
_BODY_PT = 10.0
_LINE = 5.0  # mm per line of a table cell at _BODY_PT
_PAD_X = 1.5
_PAD_Y = 1.0
_MIN_COLUMN = 12.0
_NO_FONT = -1
# No line starts with closing punctuation; none ends with opening punctuation (禁则).
_CLOSING = frozenset("，。、；：？！）》」』】〕〉”’…—·,.;:?!)]}%")
_OPENING = frozenset("（《「『【〔〈“‘([{")


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _tokens(text: str) -> list[str]:
    """Pieces that a line may break between: each CJK character, each Latin word, each space."""
    tokens: list[str] = []
    for char in text:
        if char == " ":
            tokens.append(char)
            continue
        if tokens and tokens[-1] != " ":
            previous = tokens[-1][-1]
            if (
                char in _CLOSING
                or previous in _OPENING
                or (not _wide(char) and not _wide(previous) and previous != " ")
            ):
                tokens[-1] += char
                continue
        tokens.append(char)
    return tokens


class _PublicityPdf(FPDF):
    def __init__(self, fonts: Sequence[CjkFont], orientation: str) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(False)
        self.families: list[str] = []
        self.coverage: list[frozenset[int]] = []
        for number, font in enumerate(fonts):
            family = f"cjk{number}"
            self.add_font(family, "", str(font.path), collection_font_number=font.index)
            self.families.append(family)
            self.coverage.append(font_codepoints(font))
        self.missing: set[str] = set()
        self._font_of: dict[str, int] = {}
        self._widths: dict[tuple[int, float, str], float] = {}
        # The fingerprint label's text before and after the digits, the digits, the page template.
        self.footer_lines: tuple[str, str, str, str] = ("", "", "", "")
        self.running_title = ""

    # -- text in runs of one font, so that a rare character can come from a fallback font

    def _font_index(self, char: str) -> int:
        """The first font that has ``char``; ``_NO_FONT`` if none has it."""
        index = self._font_of.get(char)
        if index is None:
            index = 0
            code = ord(char)
            if not char.isspace():
                for number, covered in enumerate(self.coverage):
                    if code in covered:
                        index = number
                        break
                else:
                    index = _NO_FONT
                    self.missing.add(char)
            self._font_of[char] = index
        return index

    def _runs(self, text: str) -> list[tuple[int, str]]:
        runs: list[tuple[int, str]] = []
        for char in text:
            index = self._font_index(char)
            if runs and runs[-1][0] == index:
                runs[-1] = (index, runs[-1][1] + char)
            else:
                runs.append((index, char))
        return runs

    def char_width(self, char: str, size: float) -> float:
        index = self._font_index(char)
        key = (index, size, char)
        width = self._widths.get(key)
        if width is None:
            if index == _NO_FONT:
                width = size * _MM_PER_PT
            else:
                self.set_font(self.families[index], size=size)
                width = self.get_string_width(char)
            self._widths[key] = width
        return width

    def width(self, text: str, size: float) -> float:
        return sum(self.char_width(c, size) for c in text)

    def draw(self, x: float, baseline: float, text: str, size: float) -> None:
        for index, run in self._runs(text):
            if index == _NO_FONT:
                # A visible box, never a silent gap in somebody's name.
                em = size * _MM_PER_PT
                for _ in run:
                    with self.local_context(line_width=0.2):
                        self.rect(x + em * 0.1, baseline - em * 0.8, em * 0.8, em * 0.9)
                    x += em
                continue
            self.set_font(self.families[index], size=size)
            self.text(x, baseline, run)
            x += self.width(run, size)

    def wrap(self, text: str, width: float, size: float) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            if self.width(paragraph, size) <= width:
                lines.append(paragraph)
                continue
            current, current_width = "", 0.0
            for token in _tokens(paragraph):
                token_width = self.width(token, size)
                if token == " ":
                    if current:
                        current, current_width = current + token, current_width + token_width
                    continue
                if current_width + token_width <= width:
                    current, current_width = current + token, current_width + token_width
                    continue
                if current.strip():
                    lines.append(current.rstrip())
                current, current_width = "", 0.0
                if token_width <= width:
                    current, current_width = token, token_width
                    continue
                for char in token:  # a word longer than the line: break it anywhere
                    char_width = self.char_width(char, size)
                    if current and current_width + char_width > width:
                        lines.append(current)
                        current, current_width = "", 0.0
                    current, current_width = current + char, current_width + char_width
            lines.append(current.rstrip())
        return lines

    def fit(self, text: str, width: float, size: float) -> str:
        """``text`` on one line, cut with an ellipsis if it is too long."""
        text = " ".join(text.split())
        if self.width(text, size) <= width:
            return text
        low, high = 0, len(text)  # the longest prefix that fits with the ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            if self.width(text[:middle] + "…", size) <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low] + "…"

    # -- page furniture

    def header(self) -> None:
        if self.page_no() > 1 and self.running_title:
            self.set_text_color(110)
            size = 8.0
            self.draw(self.l_margin, self.t_margin - 4.5, self.fit(self.running_title, self.epw, size), size)
            self.set_text_color(0)

    def footer(self) -> None:
        before, grouped, after, page_template = self.footer_lines
        page = page_template.format(page=self.page_no(), pages="{nb}")
        top = self.h - _FOOTER_SPACE + 3.0
        self.set_draw_color(160)
        self.set_line_width(0.2)
        self.line(self.l_margin, top, self.w - self.r_margin, top)
        size = 8.0
        hex_size = 8.5
        self.set_font("Courier", size=hex_size)
        hex_width = self.get_string_width(grouped)
        before_width, after_width = self.width(before, size), self.width(after, size)
        x = (self.w - before_width - hex_width - after_width) / 2
        baseline = top + 5.0
        self.draw(x, baseline, before, size)
        # The digits in a monospaced PDF core font: nothing to embed, 0/O and 1/l stay distinct.
        self.set_font("Courier", size=hex_size)
        self.text(x + before_width, baseline, grouped)
        self.draw(x + before_width + hex_width, baseline, after, size)
        # cell(), not text(): only cell() fills in the total page count ({nb}) at the end.
        self.set_font(self.families[0], size=size)
        self.set_xy(self.l_margin, baseline + 1.5)
        self.cell(w=self.epw, h=4.0, text=page, align="C")


def _column_widths(pdf: _PublicityPdf, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[float]:
    """Natural widths (widest line of each column), then shrunk to the page: the widest wrap."""
    natural = [pdf.width(h, _BODY_PT) for h in headers]
    minimum = [
        max([pdf.width(t, _BODY_PT) for t in _tokens(h) if t != " "] + [0.0]) + 2 * _PAD_X for h in headers
    ]
    for row in rows:
        for i, cell in enumerate(row):
            if cell:
                for part in cell.split("\n"):
                    w = pdf.width(part, _BODY_PT)
                    if w > natural[i]:
                        natural[i] = w
    natural = [max(w + 2 * _PAD_X, _MIN_COLUMN, m) for w, m in zip(natural, minimum, strict=True)]
    minimum = [min(max(_MIN_COLUMN, m), pdf.epw / len(headers)) for m in minimum]
    available = pdf.epw
    if sum(natural) <= available:
        scale = available / sum(natural)
        return [w * scale for w in natural]
    # Water-filling: cap every column at the same width ``cap`` so that the table fits.
    low, high = 0.0, max(natural)
    for _ in range(40):
        cap = (low + high) / 2
        if sum(max(min(w, cap), m) for w, m in zip(natural, minimum, strict=True)) > available:
            high = cap
        else:
            low = cap
    widths = [max(min(w, low), m) for w, m in zip(natural, minimum, strict=True)]
    spare = available - sum(widths)
    if spare > 0:
        widths = [w + spare * w / sum(widths) for w in widths]
    return widths


def _landscape(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bool:
    """Many columns: turn the page rather than wrap every cell (estimated in character widths)."""
    cap = 24  # a column wider than this wraps anyway
    natural = [_display_width(h) for h in headers]
    for row in rows[:500]:
        for i, cell in enumerate(row):
            natural[i] = max(natural[i], min(cap, _display_width(cell)))
    # A4 portrait gives about 186 mm, ~100 half-width characters of 10 pt with padding.
    return sum(min(cap, n) + 2 for n in natural) > 110


def _fonts_for(fonts: Sequence[CjkFont] | None) -> Sequence[CjkFont]:
    return fonts if fonts else _default_fonts()


@functools.lru_cache(maxsize=1)
def _default_fonts() -> tuple[CjkFont, ...]:
    return tuple(find_cjk_fonts())


def render_publicity_pdf(
    plist: PublicityList, labels: PublicityLabels, *, fonts: Sequence[CjkFont] | None = None
) -> bytes:
    """The list as an A4 PDF for phones and for the notice board.

    The first page opens with the title, the place, the publication date and the objection
    deadline (or the absence of a window); the table's header row is repeated on every page; each
    page's footer carries the whole fingerprint and "page n of m". ``fonts`` (the first one
    preferred, the others for characters it lacks) defaults to :func:`find_cjk_fonts`, which
    raises ``CjkFontMissing`` when the machine has no CJK font.
    """
    headers = [labels.header(key) for key in plist.columns]
    orientation = "landscape" if _landscape(headers, plist.rows) else "portrait"
    pdf = _PublicityPdf(_fonts_for(fonts), orientation)
    pdf.set_title(plist.title)
    pdf.set_creator("Cunmin")
    # The same list gives the same bytes: the date is the publication date, not the clock.
    pdf.set_creation_date(datetime.combine(plist.published_on, time(0), tzinfo=UTC))
    digest = plist.fingerprint()
    label_before, _, label_after = labels.fingerprint.partition("{fingerprint}")
    # "{nb}" is fpdf2's alias for the page count, filled in when the document is complete.
    pdf.footer_lines = (label_before, format_fingerprint(digest), label_after, labels.page)
    place, published, objection = labels.lines(plist)
    pdf.running_title = f"{place} · {plist.title}" if place else plist.title
    pdf.add_page()
    bottom = pdf.h - _FOOTER_SPACE

    def centered(y: float, text: str, size: float, line_height: float) -> float:
        for line in pdf.wrap(text, pdf.epw, size):
            if y + line_height > bottom:
                pdf.add_page()
                y = pdf.t_margin
            x = pdf.l_margin + (pdf.epw - pdf.width(line, size)) / 2
            y += line_height
            pdf.draw(x, y - line_height * 0.24, line, size)
        return y

    with pdf.local_context(text_mode="FILL_STROKE", line_width=0.25):  # a bold title
        y = centered(pdf.t_margin, plist.title, 16.0, 16.0 * _MM_PER_PT * 1.35) + 2.0
    info_size = 10.5
    both = f"{published}    {objection}"
    info = [place] if place else []
    info += [both] if pdf.width(both, info_size) <= pdf.epw else [published, objection]
    for text in info:
        y = centered(y, text, info_size, info_size * _MM_PER_PT * 1.5)
    y += 3.0

    widths = _column_widths(pdf, headers, plist.rows)
    x_positions = [pdf.l_margin + sum(widths[:i]) for i in range(len(widths))]
    size = _BODY_PT
    ascent = size * _MM_PER_PT * 0.8
    baseline_offset = _PAD_Y + (_LINE - size * _MM_PER_PT) / 2 + ascent
    header_lines = [pdf.wrap(h, w - 2 * _PAD_X, size) for h, w in zip(headers, widths, strict=True)]
    header_height = max(len(lines) for lines in header_lines) * _LINE + 2 * _PAD_Y
    pdf.set_draw_color(120)
    pdf.set_line_width(0.15)

    table_width = sum(widths)

    def grid(top: float, height: float) -> None:
        # One outline per row and one line between cells: shared borders are drawn once.
        pdf.rect(pdf.l_margin, top, table_width, height)
        for x in x_positions[1:]:
            pdf.line(x, top, x, top + height)

    def draw_header(top: float) -> float:
        pdf.set_fill_color(232)
        with pdf.local_context(text_mode="FILL_STROKE", line_width=0.15):
            pdf.rect(pdf.l_margin, top, table_width, header_height, style="F")
            grid(top, header_height)
            for x, w, lines in zip(x_positions, widths, header_lines, strict=True):
                for n, line in enumerate(lines):
                    lx = x + (w - pdf.width(line, size)) / 2
                    pdf.draw(lx, top + baseline_offset + n * _LINE, line, size)
        return top + header_height

    y = draw_header(y)
    at_top = False
    fresh_page_lines = int((bottom - pdf.t_margin - header_height - 2 * _PAD_Y) // _LINE)
    for row in plist.rows:
        cells = [
            pdf.wrap(cell, w - 2 * _PAD_X, size)
            if "\n" in cell or pdf.width(cell, size) > w - 2 * _PAD_X
            else [cell]
            for cell, w in zip(row, widths, strict=True)
        ]
        remaining = max(len(lines) for lines in cells)
        start = 0
        while remaining > 0:
            fits = int((bottom - y - 2 * _PAD_Y) // _LINE)
            # A row moves to the next page whole, unless it is taller than a page: then it is split.
            if fits < remaining and (remaining <= fresh_page_lines or fits < 1) and not at_top:
                pdf.add_page()
                y = draw_header(pdf.t_margin)
                at_top = True
                continue
            take = min(remaining, max(fits, 1))
            height = take * _LINE + 2 * _PAD_Y
            grid(y, height)
            for x, lines in zip(x_positions, cells, strict=True):
                for n, line in enumerate(lines[start : start + take]):
                    if line:
                        pdf.draw(x + _PAD_X, y + baseline_offset + n * _LINE, line, size)
            y += height
            start += take
            remaining -= take
            at_top = False
    if pdf.missing:
        log.warning(
            "publicity list %s: no font has %s (printed as boxes); install fonts-noto-cjk",
            digest[:16],
            "".join(sorted(pdf.missing)),
        )
    return bytes(pdf.output())


def write_publicity_files(
    plist: PublicityList, labels: PublicityLabels, pdf_path: Path, xlsx_path: Path
) -> None:
    """Write the list's PDF and XLSX side by side (blocking: call it off the event loop)."""
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(render_publicity_pdf(plist, labels))
    write_publicity_xlsx(plist, xlsx_path, labels)

"""The results announcement as villagers see it on a phone and on the notice board: a bar chart (PNG,
matplotlib with the Agg backend) and a PDF (fpdf2), both in one language, both carrying the whole
fingerprint of the canonical tally. The words are the caller's (already translated)."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import matplotlib

matplotlib.use("Agg")  # no display on a server; must come before pyplot

import matplotlib.pyplot as plt
from fpdf import FPDF
from fpdf.fonts import FontFace
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from bot.files.fonts import CjkFont, add_fonts_with_fallbacks, find_cjk_fonts
from bot.rules.fingerprint import format_fingerprint


@dataclass(frozen=True)
class ResultsRow:
    name: str
    votes: int
    share: str  # "52.3%"
    decision: str  # "elected (Organic Law …, art. 15, para. 2)"
    elected: bool


@dataclass(frozen=True)
class ResultsSection:
    heading: str  # "Director — 1 seat"
    lines: Sequence[str]  # ballots, validity, what decided it
    headers: tuple[str, str, str, str]  # name, votes, share, decision
    rows: Sequence[ResultsRow]
    needed: int | None  # the fewest votes that elect (None when the vote is void)
    notes: Sequence[str] = ()  # run-off, second round


@dataclass(frozen=True)
class ResultsDocument:
    title: str
    summary: str  # the notice's body
    lines: Sequence[str]  # place, status (provisional until … / final), date, turnout
    sections: Sequence[ResultsSection]
    closing: Sequence[str]  # women's seat, superseded versions
    fingerprint: str
    fingerprint_label: str  # "Fingerprint (SHA-256) of the count: {fingerprint}"
    chart_title: str
    votes_label: str  # x axis
    needed_label: str  # "needed: {needed}"
    published_on: date


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[CjkFont, ...]:
    return tuple(find_cjk_fonts())


# --- the chart ------------------------------------------------------------------------------------

_ELECTED = "#2e7d32"
_OTHER = "#90a4ae"


@functools.lru_cache(maxsize=8)
def _chart_families(faces: tuple[CjkFont, ...]) -> tuple[str, ...]:
    """matplotlib's family names of the fonts, the first preferred: matplotlib (3.6+) takes a glyph the
    first lacks (a rare character of a name) from the next. It reads the first face of a collection."""
    families: list[str] = []
    for face in faces:
        font_manager.fontManager.addfont(str(face.path))
        name = FontProperties(fname=str(face.path)).get_name()
        if name not in families:
            families.append(name)
    return tuple(families)


def render_results_chart(document: ResultsDocument, *, fonts: Sequence[CjkFont] | None = None) -> bytes:
    """Horizontal bars per position, names large enough for a phone; PNG bytes (1080 px wide)."""
    families = _chart_families(tuple(fonts or _fonts()))
    prop = FontProperties(family=list(families), size=15)
    small = FontProperties(family=list(families), size=12)
    title = FontProperties(family=list(families), size=18)
    sections = [s for s in document.sections if s.rows] or list(document.sections)
    heights = [max(1, len(s.rows)) * 0.65 + 1.1 for s in sections]
    figure, axes = plt.subplots(
        len(sections) or 1,
        1,
        figsize=(7.2, sum(heights) + 1.4),
        dpi=150,
        gridspec_kw={"height_ratios": heights or [1]},
        squeeze=False,
    )
    try:
        for axis, section in zip(axes[:, 0], sections, strict=False):
            rows = list(reversed(section.rows))
            names = [r.name for r in rows]
            votes = [r.votes for r in rows]
            colours = [_ELECTED if r.elected else _OTHER for r in rows]
            bars = axis.barh(range(len(rows)), votes, color=colours, height=0.6)
            axis.set_yticks(range(len(rows)))
            axis.set_yticklabels(names, fontproperties=prop)
            top = max([*votes, section.needed or 0, 1])
            axis.set_xlim(0, top * 1.22)
            for bar, row in zip(bars, rows, strict=True):
                axis.text(
                    bar.get_width() + top * 0.015,
                    bar.get_y() + bar.get_height() / 2,
                    f"{row.votes}  ({row.share})",
                    va="center",
                    fontproperties=small,
                )
            heading = section.heading
            if section.needed is not None:
                axis.axvline(section.needed, color="#c62828", linestyle="--", linewidth=1.2)
                heading += "   ┊ " + document.needed_label.format(needed=section.needed)
            axis.set_title(heading, fontproperties=prop, loc="left")
            axis.spines[["top", "right"]].set_visible(False)
            axis.tick_params(axis="x", labelsize=11)
        axes[-1, 0].set_xlabel(document.votes_label, fontproperties=small)
        figure.suptitle(document.chart_title, fontproperties=title, x=0.02, ha="left")
        figure.text(
            0.02,
            0.008,
            document.fingerprint_label.format(fingerprint=format_fingerprint(document.fingerprint)),
            fontproperties=FontProperties(family=list(families), size=7.5),
            ha="left",
            va="bottom",
            wrap=True,
        )
        figure.tight_layout(rect=(0, 0.05, 1, 0.96))
        out = io.BytesIO()
        figure.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        plt.close(figure)


# --- the PDF --------------------------------------------------------------------------------------


class _ResultsPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        # The whole fingerprint on every page: a page torn off the board can still be checked.
        self.set_y(-14)
        self.set_font("cjk", size=7.5)
        self.multi_cell(0, 3.6, self.footer_text, align="C")


def render_results_pdf(
    document: ResultsDocument, chart_png: bytes, *, fonts: Sequence[CjkFont] | None = None
) -> bytes:
    """A4: title, status and turnout, a table per position with what decided each line, the chart,
    and the whole fingerprint on every page."""
    faces = tuple(fonts or _fonts())
    pdf = _ResultsPdf(document.fingerprint_label.format(fingerprint=format_fingerprint(document.fingerprint)))
    add_fonts_with_fallbacks(pdf, faces)
    pdf.set_title(document.title)
    pdf.set_creator("Cunmin")
    # The same count gives the same bytes: the date is the publication date, not the clock.
    pdf.set_creation_date(datetime.combine(document.published_on, time(0), tzinfo=UTC))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("cjk", size=17)
    pdf.multi_cell(0, 9, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10.5)
    for line in document.lines:
        pdf.multi_cell(0, 6, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for section in document.sections:
        pdf.set_font("cjk", size=13)
        pdf.multi_cell(0, 8, section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        for line in section.lines:
            pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
        if section.rows:
            pdf.ln(1)
            with pdf.table(
                col_widths=(30, 14, 16, 60),
                text_align=("LEFT", "RIGHT", "RIGHT", "LEFT"),
                headings_style=FontFace(fill_color=(232, 232, 232)),
                line_height=6,
            ) as table:
                header = table.row()
                for text in section.headers:
                    header.cell(text)
                for row in section.rows:
                    cells = table.row()
                    cells.cell(row.name)
                    cells.cell(str(row.votes))
                    cells.cell(row.share)
                    cells.cell(row.decision)
        for note in section.notes:
            pdf.multi_cell(0, 5.5, note, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    for line in document.closing:
        pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    width = pdf.epw * 0.85
    if pdf.get_y() + width * 0.9 > pdf.h - 22:
        pdf.add_page()
    pdf.image(io.BytesIO(chart_png), x=pdf.l_margin + (pdf.epw - width) / 2, w=width)
    return bytes(pdf.output())

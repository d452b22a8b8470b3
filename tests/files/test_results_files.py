"""The results chart and PDF draw every character of a name: what the first font lacks comes from the
next installed font (the way a rare character of a name is printed)."""

from __future__ import annotations

import re
import warnings
from datetime import date
from pathlib import Path

import pytest

from bot.files.fonts import CjkFont
from bot.files.results import (
    ResultsDocument,
    ResultsRow,
    ResultsSection,
    render_results_chart,
    render_results_pdf,
)
from tests.files.test_publicity import _cjk_font_or_skip, _poppler

LATIN = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _latin_font_or_skip() -> CjkFont:
    if not LATIN.is_file():
        pytest.skip("DejaVu Sans is not installed")
    return CjkFont(LATIN, 0, "DejaVu Sans")


def _document() -> ResultsDocument:
    rows = [
        ResultsRow(name="欧阳明", votes=801, share="50.1%", decision="elected", elected=True),
        ResultsRow(name="歐陽德", votes=700, share="43.8%", decision="not elected", elected=False),
    ]
    return ResultsDocument(
        title="Results 选举结果",
        summary="",
        lines=["青山村"],
        sections=[
            ResultsSection(
                heading="Director 主任",
                lines=["1600 ballots"],
                headers=("Name", "Votes", "Share", "Result"),
                rows=rows,
                needed=801,
            )
        ],
        closing=[],
        fingerprint="ab" * 32,
        fingerprint_label="Fingerprint: {fingerprint}",
        chart_title="Results 选举结果",
        votes_label="Votes",
        needed_label="needed: {needed}",
        published_on=date(2026, 12, 20),
    )


def _missing_glyph_warnings(fonts: list[CjkFont]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_results_chart(_document(), fonts=fonts)
    assert png.startswith(b"\x89PNG")
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_chart_takes_what_the_first_font_lacks_from_the_next() -> None:
    cjk, latin = _cjk_font_or_skip(), _latin_font_or_skip()
    assert _missing_glyph_warnings([latin]), "DejaVu Sans alone cannot draw the Chinese names"
    assert _missing_glyph_warnings([latin, cjk]) == []


def test_the_pdf_takes_what_the_first_font_lacks_from_the_next(tmp_path: Path) -> None:
    cjk, latin = _cjk_font_or_skip(), _latin_font_or_skip()
    document = _document()
    path = tmp_path / "results.pdf"
    path.write_bytes(
        render_results_pdf(document, render_results_chart(document, fonts=[cjk]), fonts=[latin, cjk])
    )
    text = re.sub(r"\s+", "", _poppler("pdftotext", str(path), "-"))
    assert "欧阳明" in text and "歐陽德" in text and "Director主任" in text

"""The committee's count sheets read back: recommendations and the trust vote, every problem named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl

from bot.files.tally import (
    TallyCellProblem,
    TallyField,
    TallyFileProblem,
    TrustTallyRow,
    read_paper_tally,
    read_trust_tally,
    write_paper_tally_template,
)


def _sheet(path: Path, *rows: list[object]) -> Path:
    workbook = openpyxl.Workbook()
    for values in rows:
        workbook.active.append(values)
    workbook.save(path)
    return path


def test_a_trust_sheet_with_a_title_above_its_header(tmp_path: Path) -> None:
    path = _sheet(
        tmp_path / "trust.xlsx",
        ["青山村党支部信任投票统计"],
        ["村民小组", "会议日期", "候选人", "信任票", "不信任票", "弃权票", "投票人数"],
        ["一组", "2026年11月14日", "王建军（二组）", "３", 1, 0, 4],
        [None, None, None, None, None, None, None],
        ["二组", date(2026, 11, 15), "钱党员", 2.0, 0, 0, 2],
    )
    reading = read_trust_tally(path)
    assert reading.ok, reading
    assert reading.rows == (
        TrustTallyRow(3, "一组", date(2026, 11, 14), "王建军(二组)", 3, 1, 0, 4),
        TrustTallyRow(5, "二组", date(2026, 11, 15), "钱党员", 2, 0, 0, 2),
    )


def test_english_headers_and_every_bad_cell_named(tmp_path: Path) -> None:
    path = _sheet(
        tmp_path / "trust.xlsx",
        ["group", "date", "name", "trust", "no trust", "abstain", "ballots"],
        ["一组", "14/11/2026", "王建军", -1, "two", None, 4],
    )
    reading = read_trust_tally(path)
    assert reading.rows == ()
    assert [(i.line, i.field, i.reason) for i in reading.problems] == [
        (2, TallyField.DATE, TallyCellProblem.NOT_A_DATE),
        (2, TallyField.TRUST, TallyCellProblem.NEGATIVE),
        (2, TallyField.NO_TRUST, TallyCellProblem.NOT_A_NUMBER),
        (2, TallyField.ABSTAIN, TallyCellProblem.MISSING),
    ]


def test_a_recommendation_sheet_is_not_a_trust_sheet(tmp_path: Path) -> None:
    path = tmp_path / "counts.xlsx"
    write_paper_tally_template(path, [["一组", "2026-11-14", "书记", "党员推荐", "王建军", 3, 4]])
    assert read_paper_tally(path).ok
    wrong = read_trust_tally(path)
    assert wrong.file_problem is TallyFileProblem.MISSING_COLUMNS
    assert wrong.missing_columns == (
        TallyField.TRUST,
        TallyField.NO_TRUST,
        TallyField.ABSTAIN,
        TallyField.BALLOTS,
    )
    template = tmp_path / "trust.xlsx"
    write_paper_tally_template(template, trust=True)
    headers = next(openpyxl.load_workbook(template).active.iter_rows(values_only=True))
    assert headers == ("村民小组", "会议日期", "姓名", "信任", "不信任", "弃权", "投票人数")
    empty = read_trust_tally(template)  # headers only: the import then says the file has no counts
    assert empty.ok and empty.rows == ()


def test_not_a_spreadsheet(tmp_path: Path) -> None:
    garbage = tmp_path / "trust.xlsx"
    garbage.write_bytes(b"\x00garbage" * 100)
    assert read_trust_tally(garbage).file_problem is TallyFileProblem.NOT_A_SPREADSHEET
    assert read_trust_tally(b"").file_problem is TallyFileProblem.EMPTY

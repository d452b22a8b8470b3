"""Publicity lists (公示): the fingerprint, the spreadsheet round trip, the PDF people read.

The PDF checks use poppler-utils (pdfinfo, pdftotext, pdftoppm) and a CJK font (Debian's
fonts-wqy-microhei); without them these tests are skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from bot.files import fonts as fonts_module
from bot.files.fonts import CjkFontMissing, find_cjk_font, find_cjk_fonts, matplotlib_font_path, uncovered
from bot.files.publicity import (
    PublicityKind,
    PublicityLabels,
    PublicityList,
    PublicityXlsxError,
    read_publicity_xlsx,
    read_stated_fingerprint,
    render_publicity_pdf,
    write_publicity_xlsx,
)
from bot.rules.fingerprint import canonical_json, fingerprint, format_fingerprint

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳"
GIVEN = "建国秀英伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰堃喆赟淼"
COLUMNS = ("seq", "name", "gender", "group", "household", "notes")
LABELS = PublicityLabels(
    published_on="公示日期：{date}",
    objection_deadline="异议截止：{date}",
    no_objection_window="本名单不设异议期",
    page="第 {page} / {pages} 页",
    fingerprint="指纹（SHA-256）：{fingerprint}",
    columns={
        "seq": "序号",
        "name": "姓名",
        "gender": "性别",
        "group": "村民小组",
        "household": "户号",
        "notes": "备注",
    },
    date_format="{year}年{month}月{day}日",
    place="{township}{village}",
    sheet="选民名单",
)
TITLE = "青山村第十二届村民委员会选举选民名单"
LONG_TITLE = (
    "青山村第十二届村民委员会选举选民名单（经村民选举委员会审核确认，现予以公示，"
    "请广大村民认真核对本人及家庭成员信息，如有遗漏、错误或异议，请于公示期内向村民选举委员会提出）"
)
# Forty characters in one cell: it must wrap inside its column.
FORTY = "外出务工：广东省深圳市宝安区西乡街道固戍社区某某电子厂员工宿舍三栋五楼五二一房间"
assert len(FORTY) == 40


def voter_rows(count: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for n in range(count):
        name = SURNAMES[n % 20] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 13) % len(GIVEN)]
        notes = "外出务工（浙江省宁波市）" if n % 40 == 0 else ""
        rows.append(
            (str(n + 1), name, "男" if n % 2 else "女", f"第{n % 9 + 1}村民小组", f"H{n + 1:05d}", notes)
        )
    return rows


def make_list(**changes: object) -> PublicityList:
    fields: dict[str, object] = {
        "village": "青山村",
        "township": "青龙镇",
        "title": TITLE,
        "kind": PublicityKind.VOTERS,
        "published_on": date(2026, 11, 22),
        "objection_deadline": date(2026, 11, 27),
        "columns": COLUMNS,
        "rows": voter_rows(5),
    }
    fields.update(changes)
    return PublicityList(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- the fingerprint


def test_fingerprint_is_the_sha256_of_the_documented_canonical_form() -> None:
    plist = make_list(rows=[("1", "王建国", "男", "第1村民小组", "H00001", "")])
    assert set(plist.canonical()) == {
        "kind",
        "village",
        "title",
        "published_on",
        "objection_deadline",
        "columns",
        "rows",
    }
    assert canonical_json(plist.canonical()) == (
        '{"columns":["seq","name","gender","group","household","notes"],'
        '"kind":"voters","objection_deadline":"2026-11-27","published_on":"2026-11-22",'
        '"rows":[["1","王建国","男","第1村民小组","H00001",""]],'
        '"title":"青山村第十二届村民委员会选举选民名单","village":"青山村"}'
    )
    assert plist.fingerprint() == fingerprint(plist.canonical())
    # Pinned: lists already posted on notice boards carry this digest; it must never move.
    assert plist.fingerprint() == "f2632fdc3b6e611d0b07338e7f95294edc75e47c0ee587bf0b96c0783836404d"


def test_fingerprint_is_stable_across_equal_lists_and_input_forms() -> None:
    rows = voter_rows(30)
    assert make_list(rows=rows).fingerprint() == make_list(rows=[list(r) for r in rows]).fingerprint()
    decomposed = [tuple(unicodedata.normalize("NFD", c) for c in r) for r in rows]
    assert make_list(rows=decomposed).fingerprint() == make_list(rows=rows).fingerprint()
    with_crlf = make_list(rows=[("1", "王建国", "男", "一组", "H1", "第一行\r\n第二行")])
    with_lf = make_list(rows=[("1", "王建国", "男", "一组", "H1", "第一行\n第二行")])
    assert with_crlf == with_lf and with_crlf.fingerprint() == with_lf.fingerprint()
    # Neither the township nor the language of the headers is fingerprinted.
    assert make_list(township="另一个镇").fingerprint() == make_list().fingerprint()


def test_fingerprint_changes_when_one_cell_changes() -> None:
    rows = voter_rows(3000)
    base = make_list(rows=rows).fingerprint()
    changed = list(rows)
    changed[1234] = (*rows[1234][:1], "王建图", *rows[1234][2:])
    assert make_list(rows=changed).fingerprint() != base
    swapped = list(rows)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert make_list(rows=swapped).fingerprint() != base
    assert make_list(rows=rows[:-1]).fingerprint() != base
    for change in (
        {"title": TITLE + "（更正）"},
        {"village": "青水村"},
        {"kind": PublicityKind.PROXIES},
        {"published_on": date(2026, 11, 23)},
        {"objection_deadline": None},
        {"objection_deadline": date(2026, 11, 28)},
    ):
        assert make_list(rows=rows, **change).fingerprint() != base, change


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rows": [("1", "王")]}, "row 1 does not have 6 cells"),
        ({"rows": [("1", "王\x07", "男", "", "", "")]}, "control character"),
        ({"columns": ("name", "name", "gender", "group", "household", "notes")}, "distinct"),
        ({"columns": ()}, "columns"),
        ({"objection_deadline": date(2026, 11, 1)}, "before the publication date"),
        ({"title": "  "}, "village and a title"),
    ],
)
def test_a_malformed_list_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_list(**changes)


# ---------------------------------------------------------------------------- the spreadsheet

TRICKY_ROWS = [
    ("1", "=SUM(A1:A9)", "男", "第1村民小组", "0012", ""),
    ("2", "  前后空格  ", "女", "", "H2", "第一行\n第二行"),
    ("3", unicodedata.normalize("NFD", "Zoë 王"), "", "", "+86 138", FORTY),
]


def test_xlsx_round_trip_recomputes_the_same_fingerprint(tmp_path: Path) -> None:
    plist = make_list(rows=TRICKY_ROWS + voter_rows(200), title=LONG_TITLE)
    path = tmp_path / "publicity.xlsx"
    write_publicity_xlsx(plist, path, LABELS)

    again = read_publicity_xlsx(path)
    assert again == plist
    assert again.fingerprint() == plist.fingerprint() == read_stated_fingerprint(path)


def test_xlsx_round_trip_without_a_window_and_without_rows(tmp_path: Path) -> None:
    plist = make_list(rows=[], objection_deadline=None, kind=PublicityKind.RESULTS)
    path = tmp_path / "empty.xlsx"
    write_publicity_xlsx(plist, path, LABELS)
    assert read_publicity_xlsx(path).fingerprint() == plist.fingerprint() == read_stated_fingerprint(path)


def test_an_edited_cell_shows_as_a_different_fingerprint(tmp_path: Path) -> None:
    plist = make_list(rows=voter_rows(20))
    path = tmp_path / "publicity.xlsx"
    write_publicity_xlsx(plist, path, LABELS)
    workbook = openpyxl.load_workbook(path)
    workbook["选民名单"]["B15"] = "李四"  # row 8 of the table: the header is on row 7
    workbook.save(path)

    edited = read_publicity_xlsx(path)
    assert edited.rows[7][1] == "李四"
    assert edited.fingerprint() != read_stated_fingerprint(path) == plist.fingerprint()


def test_xlsx_is_readable_and_printable(tmp_path: Path) -> None:
    plist = make_list(rows=TRICKY_ROWS + voter_rows(50))
    path = tmp_path / "publicity.xlsx"
    write_publicity_xlsx(plist, path, LABELS)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["选民名单", "metadata"]
    sheet = workbook["选民名单"]
    texts = [sheet.cell(row=r, column=1).value for r in range(1, 6)]
    assert texts == [
        TITLE,
        "青龙镇青山村",
        "公示日期：2026年11月22日",
        "异议截止：2026年11月27日",
        f"指纹（SHA-256）：{format_fingerprint(plist.fingerprint())}",
    ]
    headers = [sheet.cell(row=7, column=c) for c in range(1, 7)]
    assert [h.value for h in headers] == ["序号", "姓名", "性别", "村民小组", "户号", "备注"]
    assert all(h.font.bold for h in headers)
    assert sheet["B8"].value == "=SUM(A1:A9)" and sheet["B8"].data_type == "s"  # never a formula
    assert sheet.freeze_panes == "A8"
    assert sheet.print_title_rows == "$7:$7"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert format_fingerprint(plist.fingerprint()) in (sheet.oddFooter.left.text or "")
    assert "&P" in (sheet.oddFooter.right.text or "") and "&N" in (sheet.oddFooter.right.text or "")
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEF"}
    assert widths["B"] > widths["A"] and widths["F"] <= 50
    assert sheet["F10"].alignment.wrap_text


def test_a_spreadsheet_that_is_not_a_publicity_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "手机号"])
    workbook.save(path)
    with pytest.raises(PublicityXlsxError, match="metadata"):
        read_publicity_xlsx(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(PublicityXlsxError):
        read_publicity_xlsx(path)


# ---------------------------------------------------------------------------- fonts


def test_a_cjk_font_is_found_and_usable_for_matplotlib() -> None:
    font = _cjk_font_or_skip()
    assert font.path.is_file()
    assert not uncovered("青山村村民委员会選舉王建国欧阳", [font])
    assert matplotlib_font_path().is_file()
    assert find_cjk_font(font.path) == font  # a setting pointing at it is accepted


def test_no_cjk_font_says_which_package_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(CjkFontMissing, match="fonts-wqy-microhei"):
        find_cjk_font(tmp_path / "missing.ttc")
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"\0" * 64)
    with pytest.raises(CjkFontMissing, match="no Chinese characters"):
        find_cjk_font(not_a_font)
    monkeypatch.setattr(fonts_module, "_KNOWN_PATHS", ())
    monkeypatch.setattr(fonts_module, "_fontconfig", lambda traditional: iter(()))
    with pytest.raises(CjkFontMissing, match="apt-get install fonts-wqy-microhei"):
        find_cjk_fonts()


# ---------------------------------------------------------------------------- the PDF


def _required(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is not installed")


def _cjk_font_or_skip() -> fonts_module.CjkFont:
    try:
        return find_cjk_font()
    except CjkFontMissing:
        _required("a CJK font (apt-get install fonts-wqy-microhei)")
        raise


def _poppler(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        _required(f"{tool} (apt-get install poppler-utils)")
    result = subprocess.run([tool, *args], capture_output=True, text=True, check=True, timeout=60)
    return result.stdout


def _page_count(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", _poppler("pdfinfo", str(pdf)), re.MULTILINE)
    assert match
    return int(match.group(1))


@pytest.fixture(scope="module")
def roll_pdf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PublicityList, Path]]:
    _cjk_font_or_skip()
    rows = voter_rows(3000)
    rows[1] = ("2", "欧阳堃", "男", "第1村民小组", "H00002", FORTY)
    plist = make_list(rows=rows, title=LONG_TITLE)
    path = tmp_path_factory.mktemp("publicity") / "roll.pdf"
    path.write_bytes(render_publicity_pdf(plist, LABELS))
    yield plist, path


def test_pdf_of_a_3000_row_roll_has_every_row_once_and_every_page_numbered(
    roll_pdf: tuple[PublicityList, Path],
) -> None:
    plist, path = roll_pdf
    assert path.read_bytes().startswith(b"%PDF-")
    pages = _page_count(path)
    assert 60 <= pages <= 110  # about 36 rows of a voter roll on an A4 page
    texts = _poppler("pdftotext", str(path), "-").split("\f")[:pages]
    assert len(texts) == pages
    digits = format_fingerprint(plist.fingerprint())
    households = []
    for number, text in enumerate(texts, start=1):
        assert f"第 {number} / {pages} 页" in text
        assert f"指纹（SHA-256）：{digits}" in text  # the whole digest on every page
        assert "户号" in text and "姓名" in text  # the header row is repeated
        households += re.findall(r"\bH\d{5}\b", text)
    assert households == [f"H{n:05d}" for n in range(1, 3001)]


def test_pdf_text_has_the_title_dates_and_chinese_names(roll_pdf: tuple[PublicityList, Path]) -> None:
    plist, path = roll_pdf
    first = _poppler("pdftotext", "-f", "1", "-l", "1", str(path), "-")
    flat = re.sub(r"\s+", "", first)
    assert re.sub(r"\s+", "", LONG_TITLE) in flat
    assert "青龙镇青山村" in flat
    assert "公示日期：2026年11月22日" in flat and "异议截止：2026年11月27日" in flat
    for name in ("欧阳堃", plist.rows[0][1], plist.rows[2][1], plist.rows[30][1]):
        assert name in first
    assert FORTY in flat


def test_long_title_and_a_40_character_cell_wrap_inside_the_page(
    roll_pdf: tuple[PublicityList, Path],
) -> None:
    _, path = roll_pdf
    html = _poppler("pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(path), "-")
    root = ET.fromstring(
        re.sub(r"<!DOCTYPE[^>]*>", "", html).replace('xmlns="http://www.w3.org/1999/xhtml"', "")
    )
    page = root.find(".//page")
    assert page is not None
    width = float(page.get("width", "0"))
    words = [
        (word.text or "", float(word.get("xMin", "0")), float(word.get("xMax", "0")))
        for word in root.iter("word")
    ]
    assert words
    margin = 12 / 25.4 * 72
    for text, x_min, x_max in words:
        assert x_min >= margin - 1 and x_max <= width - margin + 1, text
    title_parts = [text for text, _, _ in words if len(text) > 1 and text in LONG_TITLE]
    assert len(title_parts) >= 2 and "".join(title_parts) == LONG_TITLE  # wrapped, nothing lost
    cell_parts = [text for text, _, _ in words if len(text) > 1 and text in FORTY]
    assert len(cell_parts) >= 2 and "".join(cell_parts) == FORTY


def test_first_page_as_png(roll_pdf: tuple[PublicityList, Path]) -> None:
    _, path = roll_pdf
    prefix = path.parent / "roll-page"
    _poppler("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), str(prefix))
    png = prefix.with_suffix(".png")
    print(f"\nfirst page of the 3000-row roll: {png}")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (497, 702)  # A4 portrait at 60 dpi


def test_pdf_is_reproducible_and_says_when_there_is_no_objection_window() -> None:
    _cjk_font_or_skip()
    plist = make_list(objection_deadline=None)
    data = render_publicity_pdf(plist, LABELS)
    assert data == render_publicity_pdf(plist, LABELS)
    assert data != render_publicity_pdf(make_list(), LABELS)


def test_no_objection_window_is_printed(tmp_path: Path) -> None:
    _cjk_font_or_skip()
    path = tmp_path / "results.pdf"
    path.write_bytes(render_publicity_pdf(make_list(objection_deadline=None), LABELS))
    text = _poppler("pdftotext", str(path), "-")
    assert "本名单不设异议期" in text and "异议截止" not in text


def test_a_row_taller_than_a_page_continues_on_the_next(tmp_path: Path) -> None:
    _cjk_font_or_skip()
    resume = "\n".join(
        f"{year}年—{year + 1}年 在青山村第{year % 9 + 1}村民小组务农，任村民小组长。"
        for year in range(1950, 2030)
    )
    plist = make_list(
        kind=PublicityKind.CANDIDATES,
        columns=("name", "resume"),
        rows=[("王建国", resume), ("李秀英", "简历略")],
    )
    labels = replace(LABELS, columns={"name": "姓名", "resume": "简历"})
    path = tmp_path / "candidates.pdf"
    path.write_bytes(render_publicity_pdf(plist, labels))
    assert _page_count(path) >= 2
    text = _poppler("pdftotext", str(path), "-")
    for year in (1950, 1990, 2029):
        assert f"{year}年—{year + 1}年" in text
    assert "李秀英" in text


def test_many_columns_turn_the_page_and_english_labels_work(tmp_path: Path) -> None:
    _cjk_font_or_skip()
    columns = tuple(f"c{n}" for n in range(12))
    rows = [tuple(f"第{n}行第{c}列内容" for c in range(12)) for n in range(40)]
    plist = make_list(columns=columns, rows=rows, kind=PublicityKind.RESULTS)
    labels = PublicityLabels(
        published_on="Published on {date}",
        objection_deadline="Objections until {date}",
        no_objection_window="No objection window",
        page="Page {page} of {pages}",
        fingerprint="Fingerprint (SHA-256): {fingerprint}",
        columns={c: f"Registration column {c}" for c in columns},
    )
    path = tmp_path / "wide.pdf"
    path.write_bytes(render_publicity_pdf(plist, labels))
    info = _poppler("pdfinfo", str(path))
    assert re.search(r"Page size:\s+841\.89 x 595\.28", info)  # A4 landscape
    text = _poppler("pdftotext", str(path), "-")
    assert "Published on 2026-11-22" in text and "Page 1 of" in text


def test_a_character_no_font_has_is_a_visible_box_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    fonts = find_cjk_fonts() if _cjk_font_or_skip() else []
    rare = [c for c in "\U00030edd\U0002b81d\U0002a6a5" if uncovered(c, fonts)]
    if not rare:
        pytest.skip("every candidate rare character is covered by the installed fonts")
    plist = make_list(rows=[("1", f"王{rare[0]}", "男", "", "", "")])
    with caplog.at_level(logging.WARNING, logger="bot.files.publicity"):
        data = render_publicity_pdf(plist, LABELS)
    assert data.startswith(b"%PDF-")
    assert any(rare[0] in record.getMessage() for record in caplog.records)

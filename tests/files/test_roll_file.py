"""Reading the committee's roll file: formats, headers, every row problem and every file problem."""

from __future__ import annotations

import csv
import io
import os
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from bot.files import roll as roll_file
from bot.files.roll import (
    CHINESE_HEADERS,
    FileProblem,
    Gender,
    PartyStatus,
    RollField,
    RollNotice,
    RollProblem,
    RollReading,
    RollRow,
    group_key,
    read_roll,
    write_roll_xlsx,
)
from storage.models import Person
from storage.repositories.roll import RollEntry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
YEAR = 2026


def read(data: bytes | Path, **options: int) -> RollReading:
    return read_roll(data, election_year=YEAR, **options)


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], title: str = "Sheet1") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = [
    "姓名",
    "手机号",
    "村民小组",
    "户号",
    "性别",
    "出生年份",
    "党员",
    "党员类别",
    "外出务工",
    "务工地",
    "备注",
]


def row(**cells: object) -> list[object]:
    defaults: dict[str, object] = {"姓名": "张三", "手机号": "", "村民小组": "一组", "户号": "0101"}
    merged = {**defaults, **cells}
    return [merged.get(header, "") for header in HEADER]


# --- formats ---------------------------------------------------------------------------------


def test_chinese_headers_in_xlsx_are_read_with_every_field() -> None:
    reading = read(EXAMPLES / "roll.xlsx")
    assert reading.ok, reading
    assert len(reading.rows) == 20
    assert reading.headers[RollField.PHONE] == "手机号"
    first = reading.rows[0]
    assert first == RollRow(
        row_number=2, name="王建国", phone="+8613800138001", group="一组", household="0101",
        gender=Gender.MALE, birth_year=1958, party_member=True, party_status=PartyStatus.FULL,
        migrant=False, works_in=None, eligible_voter=True, notes="原村会计",
    )  # fmt: skip
    by_name = {row.name: row for row in reading.rows}
    assert by_name["张桂兰"].phone is None  # an elderly villager without a phone is fine
    assert by_name["王磊"].migrant and by_name["王磊"].works_in == "杭州"
    assert by_name["黄海涛"].party_status is PartyStatus.PROBATIONARY
    assert {row.group for row in reading.rows} == {"一组", "二组", "三组"}


def test_the_three_example_files_say_the_same() -> None:
    xlsx = read(EXAMPLES / "roll.xlsx")
    utf8 = read(EXAMPLES / "roll.csv")
    gbk = read(EXAMPLES / "roll-gbk.csv")
    assert xlsx.rows == utf8.rows == gbk.rows
    assert (EXAMPLES / "roll.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        (EXAMPLES / "roll-gbk.csv").read_bytes().decode("utf-8")


def test_english_headers_in_csv_in_any_case_and_spelling() -> None:
    data = csv_bytes(
        [
            ["NAME", "Phone", "group", "Household", "Gender", "Birth_Year", "party member",
             "Party_Status", "Migrant", "works_in", "Eligible_Voter", "Notes"],
            ["Li Wei", "+86 138-0013-8000", "Group 1", "7", "M", "1970", "yes", "full", "no", "", "Y", ""],
            ["Wang Fang", "13800138001", "Group 1", "7", "female", "1972", "N", "", "1", "Shenzhen", "", "x"],
            ["Zhao Lei", "", "Group 2", "8", "f", "", "Y", "probationary", "", "", "0", ""],
        ]
    )  # fmt: skip
    reading = read(data)
    assert reading.ok, reading
    li, wang, zhao = reading.rows
    assert (li.phone, li.gender, li.party_member, li.party_status) == (
        "+8613800138000",
        Gender.MALE,
        True,
        "full",
    )
    assert (wang.gender, wang.party_member, wang.migrant, wang.works_in) == (
        Gender.FEMALE,
        False,
        True,
        "Shenzhen",
    )
    assert wang.eligible_voter is True  # empty means yes
    assert (zhao.party_status, zhao.eligible_voter) == (PartyStatus.PROBATIONARY, False)


def test_gbk_and_gb18030_and_utf16_and_utf8_without_bom() -> None:
    rows = [["姓名", "手机", "小组"], ["欧阳娜娜", "13800138000", "第三组"], ["䶮", "", "第三组"]]
    for encoding in ("gbk", "utf-8"):
        reading = read(csv_bytes(rows[:2], encoding))
        assert reading.ok and reading.rows[0].name == "欧阳娜娜", encoding
    gb18030 = read(csv_bytes(rows, "gb18030"))  # 䶮 is outside GBK
    assert gb18030.ok and gb18030.rows[1].name == "䶮"
    utf16 = "\t".join(rows[0]) + "\r\n" + "\t".join(rows[1]) + "\r\n"
    reading = read(utf16.encode("utf-16"))  # Excel's "Unicode text": tab-separated UTF-16
    assert reading.ok and reading.rows[0].group == "第三组"


def test_semicolon_csv_and_a_title_row_above_the_header() -> None:
    data = "东山村选民名单\n\n姓名;手机号\n张三;13800138000\n".encode()
    reading = read(data)
    assert reading.ok, reading
    assert reading.rows[0].row_number == 4  # as Excel numbers it: title, blank, header, data
    assert reading.rows[0].phone == "+8613800138000"


def test_xlsx_numbers_dates_and_a_second_sheet() -> None:
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "说明"
    cover.append(["本表为东山村2026年选民名单"])
    sheet = workbook.create_sheet("名单")
    sheet.append(["序号", "姓名", "联系电话", "出生日期", "身份证号", "户号"])
    sheet.append([1, "张 三", 13800138000, "1965-03-01", "330000196503010000", 12])
    sheet.append([2, "李  四", 13800138001.0, 1966.0, "", 12.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reading = read(buffer.getvalue())
    assert reading.ok, reading
    zhang, li = reading.rows
    assert (zhang.name, zhang.phone, zhang.birth_year, zhang.household) == (
        "张三",
        "+8613800138000",
        1965,
        "12",
    )
    assert (li.name, li.phone, li.birth_year, li.household) == ("李四", "+8613800138001", 1966, "12")
    # The ID number is not kept (it is not needed, and it is sensitive); 序号 needs no mention.
    assert reading.ignored_columns == ("身份证号",)


def test_yes_no_and_blank_marks() -> None:
    rows = [["姓名", "党员", "外出", "有选举权", "手机号", "性别"]]
    rows += [[f"人{i}", yes, no, blank, blank, blank] for i, (yes, no, blank) in enumerate(
        [("是", "否", ""), ("✓", "×", "-"), ("√", "0", "/"), ("Y", "n", "--"), ("1", "No", "—")]
    )]  # fmt: skip
    reading = read(csv_bytes(rows))
    assert reading.ok, reading
    assert all(
        r.party_member and not r.migrant and r.eligible_voter and r.phone is None for r in reading.rows
    )


def test_progress_is_reported() -> None:
    rows = [["姓名"], *([f"村民{i}"] for i in range(2_500))]
    seen: list[tuple[int, int | None]] = []
    reading = read_roll(
        csv_bytes(rows), election_year=YEAR, on_progress=lambda done, total: seen.append((done, total))
    )
    assert len(reading.rows) == 2_500
    assert len(seen) >= 3 and seen[-1][0] == seen[-1][1] == 2_501


# --- row problems ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "column", "reason", "value"),
    [
        ({"姓名": "  "}, "姓名", RollProblem.MISSING_NAME, None),
        ({"手机号": "1380013"}, "手机号", RollProblem.BAD_PHONE, "1380013"),
        (
            {"手机号": "13800138000 / 13800138001"},
            "手机号",
            RollProblem.BAD_PHONE,
            "13800138000 / 13800138001",
        ),
        ({"手机号": "0571-88888888"}, "手机号", RollProblem.LANDLINE_PHONE, "0571-88888888"),
        ({"出生年份": "1899"}, "出生年份", RollProblem.BAD_BIRTH_YEAR, "1899"),
        ({"出生年份": "2027"}, "出生年份", RollProblem.BAD_BIRTH_YEAR, "2027"),
        ({"出生年份": "六五年"}, "出生年份", RollProblem.BAD_BIRTH_YEAR, "六五年"),
        ({"性别": "未知"}, "性别", RollProblem.UNKNOWN_GENDER, "未知"),
        ({"党员": "也许"}, "党员", RollProblem.UNKNOWN_YES_NO, "也许"),
        ({"外出务工": "maybe"}, "外出务工", RollProblem.UNKNOWN_YES_NO, "maybe"),
        ({"党员类别": "入党积极分子"}, "党员类别", RollProblem.UNKNOWN_PARTY_STATUS, "入党积极分子"),
        (
            {"党员": "否", "党员类别": "正式党员"},
            "党员类别",
            RollProblem.PARTY_STATUS_OF_NON_MEMBER,
            "正式党员",
        ),
        ({"姓名": "名" * 101}, "姓名", RollProblem.TOO_LONG, "名" * 101),
        ({"户号": "9" * 51}, "户号", RollProblem.TOO_LONG, "9" * 51),
    ],
)
def test_each_row_problem_names_row_column_and_value(
    cells: dict[str, object], column: str, reason: RollProblem, value: str | None
) -> None:
    reading = read(csv_bytes([HEADER, row(姓名="李四"), row(**cells)]))
    assert not reading.ok
    assert [(p.row_number, p.column, p.reason, p.value) for p in reading.problems] == [
        (3, column, reason, value)
    ]
    assert [r.row_number for r in reading.rows] == [2]  # the bad row is never handed on


def test_a_row_can_have_several_problems() -> None:
    reading = read(csv_bytes([HEADER, row(手机号="abc", 性别="?", 出生年份="1800")]))
    assert {p.reason for p in reading.problems} == {
        RollProblem.BAD_PHONE, RollProblem.UNKNOWN_GENDER, RollProblem.BAD_BIRTH_YEAR,
    }  # fmt: skip


def test_duplicate_phone_names_both_rows() -> None:
    data = csv_bytes([HEADER, row(姓名="甲", 手机号="13800138000"), row(姓名="乙"),
                      row(姓名="丙", 手机号="+86 138 0013 8000")])  # fmt: skip
    [problem] = read(data).problems
    assert (problem.row_number, problem.other_row, problem.reason) == (4, 2, RollProblem.DUPLICATE_PHONE)
    assert (problem.column, problem.value) == ("手机号", "13800138000")


def test_same_name_in_one_household_without_phones_cannot_be_told_apart() -> None:
    data = csv_bytes([HEADER, row(姓名="张三"), row(姓名="张三", 户号="0102"), row(姓名="张三")])
    [problem] = read(data).problems
    assert (problem.row_number, problem.other_row, problem.reason) == (4, 2, RollProblem.DUPLICATE_PERSON)
    with_phones = csv_bytes(
        [HEADER, row(姓名="张三", 手机号="13800138000"), row(姓名="张三", 手机号="13800138001")]
    )
    assert read(with_phones).ok  # two people of one name, told apart by their phones


def test_one_group_written_several_ways_is_flagged_but_spaces_and_full_width_are_not() -> None:
    groups = [
        "一组",
        " 一组 ",
        "一 组",
        "一组",
        "1组",
        "第一组",
        "第1组",
        "１组",
        "一村民小组",
        "二组",
        "东头组",
    ]
    data = csv_bytes([HEADER, *(row(姓名=f"人{i}", 村民小组=g) for i, g in enumerate(groups))])
    reading = read(data)
    flagged = {(p.row_number, p.value) for p in reading.problems}
    # "一组" is the usual spelling (4 rows once spaces are gone); each other spelling of group 1 is named.
    assert flagged == {(6, "1组"), (7, "第一组"), (8, "第1组"), (9, "1组"), (10, "一村民小组")}
    assert all(p.reason is RollProblem.GROUP_SPELLED_TWO_WAYS for p in reading.problems)
    assert all((p.other_value, p.other_row) == ("一组", 2) for p in reading.problems)
    assert {r.group for r in reading.rows} == {"一组", "二组", "东头组"}


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (
            ["一组", "1组", "第一组", "第1组", " 一组 ", "１组", "01组", "一", "1", "一小组", "第一村民小组"],
            "#1",
        ),
        (["十二组", "12组", "第十二组", "一二组"], "#12"),
        (["二十组", "20组"], "#20"),
        (["东头组", "东头 组"], "东头组"),
    ],
)
def test_group_keys(spellings: list[str], key: str) -> None:
    assert {group_key(s) for s in spellings} == {key}


def test_under_eighteen_in_the_election_year_is_not_an_error_but_has_no_vote() -> None:
    data = csv_bytes([HEADER, row(姓名="小明", 出生年份="2009"), row(姓名="小红", 出生年份="2008")])
    reading = read(data)
    assert reading.ok
    ming, hong = reading.rows
    assert ming.eligible_voter is False and hong.eligible_voter is True
    [notice] = reading.notices
    assert (notice.row_number, notice.reason, notice.name, notice.value) == (
        2, RollNotice.UNDER_VOTING_AGE, "小明", "2009",
    )  # fmt: skip


# --- file problems ---------------------------------------------------------------------------


def test_garbage_is_refused_fast() -> None:
    garbage = os.urandom(5 * 1024 * 1024)
    started = time.perf_counter()
    reading = read(garbage)
    assert reading.file_problem is FileProblem.NOT_A_SPREADSHEET
    assert time.perf_counter() - started < 2


def test_text_garbage_without_a_name_column() -> None:
    assert read(b"lorem ipsum dolor\nsit amet\n" * 1000).file_problem is FileProblem.MISSING_NAME_COLUMN


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(roll_file.MAX_FILE_BYTES + 1)
    assert read(path).file_problem is FileProblem.TOO_LARGE
    assert read(b"x" * (roll_file.MAX_FILE_BYTES + 1)).file_problem is FileProblem.TOO_LARGE


def test_old_excel_and_damaged_and_foreign_zips() -> None:
    assert (
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096).file_problem is FileProblem.OLD_EXCEL_FORMAT
    )
    assert read(b"PK\x03\x04" + os.urandom(4096)).file_problem is FileProblem.UNREADABLE
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not really a workbook")
        archive.writestr("[Content_Types].xml", "<Types/>")
    assert read(damaged.getvalue()).file_problem is FileProblem.UNREADABLE
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("photo.jpg", os.urandom(100))
    assert read(photos.getvalue()).file_problem is FileProblem.NOT_A_SPREADSHEET


def test_truncated_xlsx_is_unreadable() -> None:
    data = xlsx_bytes([["姓名"], *([f"村民{i}"] for i in range(2000))])
    assert read(data[: len(data) // 2]).file_problem is FileProblem.UNREADABLE


def test_empty_files() -> None:
    assert read(b"").file_problem is FileProblem.EMPTY
    assert read(b" \r\n\r\n").file_problem is FileProblem.EMPTY
    assert read(b"\xef\xbb\xbf\xe5\xa7\x93\xe5\x90\x8d\n").file_problem is FileProblem.EMPTY  # "姓名" only
    assert read(xlsx_bytes([])).file_problem is FileProblem.EMPTY
    assert read(xlsx_bytes([["姓名", "手机号"], [None, None]])).file_problem is FileProblem.EMPTY


def test_missing_name_column() -> None:
    reading = read(csv_bytes([["手机号", "小组"], ["13800138000", "一组"]]))
    assert reading.file_problem is FileProblem.MISSING_NAME_COLUMN
    assert read(xlsx_bytes([["手机号"], ["13800138000"]])).file_problem is FileProblem.MISSING_NAME_COLUMN


def test_two_columns_for_one_field() -> None:
    reading = read(csv_bytes([["姓名", "手机", "联系电话"], ["张三", "13800138000", ""]]))
    assert reading.file_problem is FileProblem.DUPLICATE_COLUMN
    assert reading.file_problem_detail == "手机, 联系电话"


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roll_file, "MAX_ROWS", 10)
    assert read(csv_bytes([["姓名"], *([f"人{i}"] for i in range(10))])).ok
    assert (
        read(csv_bytes([["姓名"], *([f"人{i}"] for i in range(11))])).file_problem
        is FileProblem.TOO_MANY_ROWS
    )
    sheet = xlsx_bytes([["姓名"], *([f"人{i}"] for i in range(11))])
    assert read(sheet).file_problem is FileProblem.TOO_MANY_ROWS


# --- writing ---------------------------------------------------------------------------------


def test_written_roll_reads_back_the_same(tmp_path: Path) -> None:
    reading = read(EXAMPLES / "roll.xlsx")
    entries = [
        RollEntry(
            person=Person(
                id=index, village_id=1, name=r.name, phone=r.phone, household=r.household,
                gender=r.gender.value if r.gender else None, birth_year=r.birth_year,
                party_member=r.party_member, party_status=r.party_status.value if r.party_status else None,
                migrant=r.migrant, works_in=r.works_in, eligible_voter=r.eligible_voter, notes=r.notes,
            ),
            group=r.group,
            bound=index % 2 == 0,
        )
        for index, r in enumerate(reading.rows)
    ]  # fmt: skip
    entries.append(RollEntry(Person(village_id=1, name="Tom", phone="+14155550123"), group=None, bound=False))
    path = tmp_path / "roll.xlsx"
    assert write_roll_xlsx(path, entries) == 21
    again = read(path)
    assert again.ok, again
    assert list(again.rows[:20]) == list(reading.rows)
    assert replace(again.rows[20], row_number=0) == RollRow(row_number=0, name="Tom", phone="+14155550123")
    sheet = openpyxl.load_workbook(path).active
    assert [cell.value for cell in sheet[1]] == [*CHINESE_HEADERS.values(), "已绑定"]
    assert sheet["B2"].value == "13800138001" and sheet["B2"].number_format == "@"
    assert [sheet.cell(row=r, column=13).value for r in (2, 3)] == ["是", "否"]

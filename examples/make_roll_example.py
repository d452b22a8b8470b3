"""Write the example roll of 东山村 in the committee's three formats, side by side with this script:

    roll.xlsx      Excel, Chinese headers (what most committees have)
    roll.csv       the same as CSV in UTF-8 (with the byte-order mark Excel needs to see Chinese)
    roll-gbk.csv   the same as CSV in GBK (what older Excel and WPS save on a Chinese Windows)

The people are made up; the phone numbers are in the 138 0013 8xxx series used as a placeholder.
Run: .venv/bin/python examples/make_roll_example.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent

HEADERS = [
    "姓名", "手机号", "村民小组", "户号", "性别", "出生年份",
    "党员", "党员类别", "外出务工", "务工地", "有选举权", "备注",
]  # fmt: skip

ROWS = [
    ["王建国", "13800138001", "一组", "0101", "男", 1958, "是", "正式党员", "否", "", "是", "原村会计"],
    ["李秀英", "13800138002", "一组", "0101", "女", 1961, "否", "", "否", "", "是", ""],
    ["王磊", "13800138003", "一组", "0101", "男", 1986, "否", "", "是", "杭州", "是", "在杭州开出租车"],
    ["张桂兰", "", "一组", "0102", "女", 1939, "否", "", "否", "", "是", "无手机，由儿子代为联系"],
    ["张伟", "13800138005", "一组", "0102", "男", 1968, "是", "正式党员", "否", "", "是", ""],
    ["陈静", "13800138006", "一组", "0103", "女", 1990, "否", "", "是", "宁波", "是", ""],
    ["陈小宇", "", "一组", "0103", "男", 2010, "否", "", "否", "", "否", "未满十八周岁"],
    ["刘洋", "13800138008", "二组", "0201", "男", 1979, "否", "", "是", "上海", "是", "春节回村"],
    ["赵敏", "13800138009", "二组", "0201", "女", 1981, "否", "", "否", "", "是", ""],
    ["黄海涛", "13800138010", "二组", "0202", "男", 1965, "是", "预备党员", "否", "", "是", ""],
    ["周丽", "13800138011", "二组", "0202", "女", 1967, "否", "", "否", "", "是", ""],
    ["吴强", "13800138012", "二组", "0203", "男", 1993, "否", "", "是", "深圳", "是", "电子厂"],
    ["徐芳", "13800138013", "二组", "0203", "女", 1995, "否", "", "否", "", "是", ""],
    ["孙志刚", "13800138014", "二组", "0204", "男", 1950, "否", "", "否", "", "是", ""],
    ["胡桂英", "", "三组", "0301", "女", 1942, "否", "", "否", "", "是", "行动不便，需流动票箱"],
    ["朱明", "13800138016", "三组", "0301", "男", 1972, "是", "正式党员", "否", "", "是", "村民小组长"],
    ["高红梅", "13800138017", "三组", "0302", "女", 1975, "否", "", "是", "义乌", "是", ""],
    ["林德华", "13800138018", "三组", "0302", "男", 1974, "否", "", "否", "", "是", ""],
    ["何小燕", "13800138019", "三组", "0303", "女", 1998, "否", "", "否", "", "是", ""],
    ["郭永强", "13800138020", "三组", "0303", "男", 1955, "否", "", "否", "", "是", ""],
]  # fmt: skip


def write_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "选民名单"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in ROWS:
        sheet.append(row)
    for row_cells in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row_cells:
            cell.number_format = "@"  # phone numbers as text, not 1.38E+10
    for letter, width in zip("ABCDEFGHIJKL", (10, 15, 9, 7, 6, 9, 6, 10, 9, 8, 9, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "B2"
    workbook.save(path)


def write_csv(path: Path, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(ROWS)


def main() -> None:
    write_xlsx(HERE / "roll.xlsx")
    write_csv(HERE / "roll.csv", "utf-8-sig")
    write_csv(HERE / "roll-gbk.csv", "gbk")


if __name__ == "__main__":
    main()

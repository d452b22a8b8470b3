"""How long a village's voter roll takes to render as the publicity PDF (公示) villagers receive.

    .venv/bin/python bench/publicity_pdf.py [--rows 3000]

Prints one line, e.g.
    publicity_pdf rows=3000 seconds=0.9 bytes=306000
`seconds` is one call of render_publicity_pdf (font parsing and subsetting included; the font
look-up, done once per process, is not); `bytes` the size of the PDF.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from bot.files.fonts import find_cjk_fonts
from bot.files.publicity import PublicityKind, PublicityLabels, PublicityList, render_publicity_pdf

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰"
LABELS = PublicityLabels(
    published_on="公示日期：{date}",
    objection_deadline="异议截止：{date}",
    no_objection_window="本名单不设异议期",
    page="第 {page} / {pages} 页",
    fingerprint="指纹（SHA-256）：{fingerprint}",
    columns={"seq": "序号", "name": "姓名", "gender": "性别", "group": "村民小组", "notes": "备注"},
    date_format="{year}年{month}月{day}日",
    place="{township}{village}",
)


def roll(count: int) -> PublicityList:
    rows = []
    for n in range(count):
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 13) % len(GIVEN)]
        notes = "外出务工（广东省深圳市宝安区西乡街道某某电子厂，已委托其父代为投票）" if n % 50 == 0 else ""
        rows.append((str(n + 1), name, "男" if n % 2 else "女", f"第{n % 9 + 1}村民小组", notes))
    return PublicityList(
        village="青山村",
        township="青龙镇",
        title="青山村第十二届村民委员会选举选民名单",
        kind=PublicityKind.VOTERS,
        published_on=date(2026, 11, 22),
        objection_deadline=date(2026, 11, 27),
        columns=("seq", "name", "gender", "group", "notes"),
        rows=rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    plist = roll(args.rows)
    fonts = find_cjk_fonts()
    started = time.perf_counter()
    data = render_publicity_pdf(plist, LABELS, fonts=fonts)
    seconds = time.perf_counter() - started
    print(f"publicity_pdf rows={args.rows} seconds={seconds:.2f} bytes={len(data)}")


if __name__ == "__main__":
    main()

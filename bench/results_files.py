"""How long the results announcement's chart (PNG) and PDF take to draw, for a large ballot.

    .venv/bin/python bench/results_files.py [--candidates 12]

Prints one line, e.g.
    results_files candidates=12 chart_seconds=0.6 chart_bytes=90000 pdf_seconds=0.3 pdf_bytes=200000
Three positions (1, 2 and 4 seats) share the candidates. The first drawing in a process also loads
matplotlib's font; `cold_seconds` is that first chart, the other figures the mean of three more.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from bot.files.fonts import find_cjk_fonts
from bot.files.results import (
    ResultsDocument,
    ResultsRow,
    ResultsSection,
    render_results_chart,
    render_results_pdf,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰"


def document(candidates: int) -> ResultsDocument:
    sections = []
    per = max(1, candidates // 3)
    for index, (title, seats) in enumerate((("主任", 1), ("副主任", 2), ("委员", 4))):
        rows = [
            ResultsRow(
                name=SURNAMES[(index * per + n) % 20] + GIVEN[n % 26] + GIVEN[(n * 7) % 26],
                votes=900 - n * 60,
                share=f"{(900 - n * 60) / 16:.1f}%",
                decision="当选（《村民委员会组织法》第15条第2款）" if n < seats else "未当选：票数不够",
                elected=n < seats,
            )
            for n in range(per)
        ]
        sections.append(
            ResultsSection(
                heading=f"{title} — {seats} 个名额",
                lines=["发出选票 1650 张，收回 1600 张，有效 1580 张，无效 20 张。"],
                headers=("姓名", "票数", "比例", "结果"),
                rows=rows,
                needed=801,
            )
        )
    return ResultsDocument(
        title="选举结果：青山村第十二届村民委员会选举",
        summary="",
        lines=["城关镇 · 青山村", "2026年12月20日公布", "暂定结果：2026年12月25日之前可以提出异议。"],
        sections=sections,
        closing=["至少要有 1 名妇女当选：已做到。"],
        fingerprint="ab" * 32,
        fingerprint_label="计票结果指纹（SHA-256）：{fingerprint}",
        chart_title="选举结果：青山村第十二届村民委员会选举",
        votes_label="票数",
        needed_label="当选需要：{needed} 票",
        published_on=date(2026, 12, 20),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=12)
    args = parser.parse_args()
    doc = document(args.candidates)
    fonts = find_cjk_fonts()
    started = time.perf_counter()
    render_results_chart(doc, fonts=fonts)
    cold = time.perf_counter() - started
    chart_times, pdf_times = [], []
    for _ in range(3):
        started = time.perf_counter()
        png = render_results_chart(doc, fonts=fonts)
        chart_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        pdf = render_results_pdf(doc, png, fonts=fonts)
        pdf_times.append(time.perf_counter() - started)
    print(
        f"results_files candidates={args.candidates} cold_seconds={cold:.2f} "
        f"chart_seconds={sum(chart_times) / 3:.2f} chart_bytes={len(png)} "
        f"pdf_seconds={sum(pdf_times) / 3:.2f} pdf_bytes={len(pdf)}"
    )


if __name__ == "__main__":
    main()

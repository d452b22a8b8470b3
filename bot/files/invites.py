"""The sheet of invitations a committee prints and hands out, one row per person."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import openpyxl


def write_invites_xlsx(
    target: Path | IO[bytes],
    rows: Iterable[Sequence[str]],
    *,
    headers: Sequence[str],
    sheet_title: str,
    widths: Sequence[int] = (12, 12, 70, 14),
) -> int:
    """One row per invitation (the caller's columns, e.g. name, group, link, valid until)."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])  # Excel's limit on a sheet's name
    for index, width in enumerate(widths[: len(headers)]):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(list(headers))
    written = 0
    for row in rows:
        sheet.append(list(row))
        written += 1
    workbook.save(target)
    return written

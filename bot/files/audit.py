"""The audit trail written out for the township: XLSX or CSV, one row per entry, oldest first.

The columns carry everything the hash covers, so the chain can be checked from the file alone.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook


@dataclass(frozen=True)
class AuditSheetRow:
    seq: int
    at: datetime
    actor: str
    action: str
    details: str
    prev_hash: str
    hash: str


def _cells(row: AuditSheetRow) -> list[object]:
    at = row.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [row.seq, at, row.actor, row.action, row.details, row.prev_hash, row.hash]


def write_audit(path: Path, headers: Sequence[str], rows: Sequence[AuditSheetRow]) -> None:
    """XLSX when the name ends in .xlsx, CSV (UTF-8 with BOM, for Excel) otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(headers))
        for row in rows:
            sheet.append(_cells(row))
        for letter, width in zip("ABCDEFG", (6, 22, 18, 24, 60, 66, 66), strict=True):
            sheet.column_dimensions[letter].width = width
        book.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(_cells(row) for row in rows)

"""The proxy-vote authorization form (委托投票委托书), pre-filled for the principal to print and sign.

The written authorization is the binding act (OL 15 ¶4); this PDF only saves the principal the
writing: names, relationship, election, date and the verification code the committee matches to its
record. It takes already-translated strings: no gettext here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF

from bot.files.fonts import CjkFont, add_fonts_with_fallbacks, find_cjk_fonts

__all__ = ["ProxyForm", "render_proxy_form"]

_MARGIN = 20.0


@dataclass(frozen=True)
class ProxyForm:
    """What the form says, every line already in the principal's language."""

    title: str
    place: str  # "城关镇 青山村"
    election: str
    fields: Sequence[tuple[str, str]]  # (label, value): principal, holder, relationship, code, date
    statement: str  # "I authorize ... to vote for me in ..."
    signatures: Sequence[str]  # "Principal (signature):", "Holder (signature):", "Date:"
    note: str  # what to do with the paper


def render_proxy_form(form: ProxyForm, fonts: Sequence[CjkFont] | None = None) -> bytes:
    """One A4 page; raises bot.files.fonts.CjkFontMissing when the server has no Chinese font.
    The first font draws the text, the others stand in for a rare character it lacks."""
    faces = tuple(fonts or find_cjk_fonts())
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_MARGIN)
    add_fonts_with_fallbacks(pdf, faces)
    pdf.add_page()
    width = pdf.w - 2 * _MARGIN

    pdf.set_font("cjk", size=18)
    pdf.multi_cell(width, 10, form.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(width, 7, form.place, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 7, form.election, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("cjk", size=12)
    label_width = 55.0
    for label, value in form.fields:
        pdf.cell(label_width, 10, label, border=1)
        pdf.multi_cell(width - label_width, 10, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.multi_cell(width, 8, form.statement, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    for line in form.signatures:
        pdf.cell(width, 14, f"{line} ______________________", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(width, 6, form.note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

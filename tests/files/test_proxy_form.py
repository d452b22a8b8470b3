"""The proxy authorization form: one A4 page whose Chinese text a PDF reader gets back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.files.fonts import CjkFont
from bot.files.proxy_form import ProxyForm, render_proxy_form
from tests.files.test_publicity import _cjk_font_or_skip, _poppler


def test_the_form_renders_simplified_and_traditional_names(tmp_path: Path) -> None:
    _cjk_font_or_skip()
    form = ProxyForm(
        title="委托投票委托书",
        place="城关镇 青山村",
        election="青山村第十二届村民委员会选举",
        fields=[("委托人", "欧阳明"), ("受委托人", "歐陽德"), ("关系", "父亲或母亲"), ("验证码", "K7PX2QMA")],
        statement="本人欧阳明不能亲自投票，委托我的父亲或母亲歐陽德替我投票。",
        signatures=["委托人（签字）：", "受委托人（签字）：", "日期："],
        note="请在选举日前把签好字的委托书交给村民选举委员会。",
    )
    path = tmp_path / "form.pdf"
    path.write_bytes(render_proxy_form(form))
    assert re.search(r"^Pages:\s+1$", _poppler("pdfinfo", str(path)), re.MULTILINE)
    text = re.sub(r"\s+", "", _poppler("pdftotext", str(path), "-"))
    for expected in ("委托投票委托书", "欧阳明", "歐陽德", "K7PX2QMA", "城关镇青山村", "受委托人（签字）："):
        assert expected in text, expected


def test_a_character_the_first_font_lacks_comes_from_a_fallback_font(tmp_path: Path) -> None:
    """With a Latin-only font first (DejaVu Sans has no Chinese), every Chinese character must come
    from the installed CJK font behind it: the mechanism a rare character of a name relies on."""
    cjk = _cjk_font_or_skip()
    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not latin.is_file():
        pytest.skip("DejaVu Sans is not installed")
    form = ProxyForm(
        title="Proxy form 委托书",
        place="青山村",
        election="Election 选举",
        fields=[("Principal", "欧阳明"), ("Holder", "歐陽德")],
        statement="欧阳明 authorizes 歐陽德.",
        signatures=["Signature:"],
        note="Note.",
    )
    path = tmp_path / "form.pdf"
    path.write_bytes(render_proxy_form(form, fonts=[CjkFont(latin, 0, "DejaVu Sans"), cjk]))
    text = re.sub(r"\s+", "", _poppler("pdftotext", str(path), "-"))
    assert "欧阳明" in text and "歐陽德" in text and "Proxyform委托书" in text
    fonts = _poppler("pdffonts", str(path))
    assert "DejaVuSans" in fonts and cjk.family.replace(" ", "") in fonts, fonts

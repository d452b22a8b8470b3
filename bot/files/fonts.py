"""Where the CJK font is: the PDFs (and later the charts) that villagers see need Chinese glyphs.

The project depends on Debian's ``fonts-wqy-microhei`` (文泉驿微米黑, 5 MB installed): one
TrueType collection with the whole CJK Unified Ideographs block (20,932 characters), so all of
GB 2312, GBK and Big5 (Traditional characters for zh_Hant) plus Latin; outlines in ``glyf``,
which fpdf2 subsets to a few hundred kilobytes. ``fonts-noto-cjk`` (Noto Sans CJK, 91 MB
installed) is nicer and also covers Extension A and the 通用规范汉字表 additions that some names
use (䶮, 𬌗): when it is installed it is preferred and the others become fallbacks (the publicity
lists, the results chart and PDF, the proxy form: a character the first font lacks comes from the next).

Look-up order: a path given by a setting, then the well-known paths of Debian/Ubuntu, Fedora,
macOS and Windows, then fontconfig (``fc-match :lang=zh-cn``). A candidate counts only if its
character map really has Chinese (``fc-match`` always answers something, DejaVu if need be).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont, TTLibError  # type: ignore[import-untyped]
from fpdf import FPDF

__all__ = [
    "FONT_PACKAGE",
    "CjkFont",
    "CjkFontMissing",
    "find_cjk_font",
    "find_cjk_fonts",
    "font_codepoints",
    "matplotlib_font_path",
    "uncovered",
]

# The Debian package the project installs (scripts/setup --system, CI).
FONT_PACKAGE = "fonts-wqy-microhei"
# A font must have all of these to count as a Chinese font: common Simplified and Traditional.
_REQUIRED = "村民委员会选举名单公示村民委員會選舉名單公示"

# Preferred first. Collections (.ttc/.otc) hold several faces: the face is chosen by name.
_KNOWN_PATHS: tuple[str, ...] = (
    # fonts-noto-cjk (Debian, Ubuntu), Fedora, Arch
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    # fonts-wqy-microhei, fonts-wqy-zenhei (Debian, Ubuntu); Fedora's wqy packages
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    # fonts-arphic-uming, fonts-arphic-ukai (Debian, Ubuntu)
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    # fonts-droid-fallback
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    # macOS
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    # Windows (微软雅黑, 宋体)
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
# Face names that mark the Simplified or Traditional face of a collection (Noto "… CJK SC",
# PingFang SC, Hiragino Sans GB); without one, the first face that is not monospaced wins.
_SIMPLIFIED_TAGS = (" SC", " GB", "简")
_TRADITIONAL_TAGS = (" TC", " HK", "繁")


class CjkFontMissing(RuntimeError):
    """No usable CJK font: Chinese text would print as empty boxes."""


@dataclass(frozen=True)
class CjkFont:
    """One face of a font file; ``index`` is the face's number inside a .ttc/.otc collection."""

    path: Path
    index: int
    family: str


@contextlib.contextmanager
def _open_faces(path: Path) -> Iterator[list[TTFont]]:
    with path.open("rb") as stream:
        magic = stream.read(4)
    if magic == b"ttcf":
        with TTCollection(str(path), lazy=True) as collection:
            yield list(collection.fonts)
    else:
        with TTFont(str(path), lazy=True) as face:
            yield [face]


def _family(face: TTFont) -> str:
    names = face["name"]
    for name_id in (16, 1):
        name = names.getName(name_id, 3, 1, 0x409) or names.getName(name_id, 1, 0, 0)
        if name is not None:
            return str(name.toUnicode())
    return "?"


def _score(family: str, traditional: bool) -> int:
    wanted, other = (
        (_TRADITIONAL_TAGS, _SIMPLIFIED_TAGS) if traditional else (_SIMPLIFIED_TAGS, _TRADITIONAL_TAGS)
    )
    score = 0
    if any(tag in family for tag in wanted):
        score += 4
    if any(tag in family for tag in other):
        score += 2
    if "Mono" not in family:
        score += 1
    return score


@functools.lru_cache(maxsize=32)
def _usable_face(path: Path, traditional: bool, index: int | None) -> CjkFont | None:
    """The best Chinese face of ``path`` (or face ``index``), ``None`` if it has no Chinese."""
    best: tuple[int, int, str] | None = None
    try:
        with _open_faces(path) as faces:
            for number, face in enumerate(faces):
                if index is not None and number != index:
                    continue
                cmap = face.getBestCmap() or {}
                if not all(ord(c) in cmap for c in _REQUIRED):
                    continue
                family = _family(face)
                score = _score(family, traditional)
                if best is None or score > best[0]:
                    best = (score, number, family)
    except (OSError, TTLibError, AssertionError, KeyError, ValueError, IndexError):
        return None
    return None if best is None else CjkFont(path=path, index=best[1], family=best[2])


def _fontconfig(traditional: bool) -> Iterator[tuple[Path, int]]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return
    lang = "zh-tw" if traditional else "zh-cn"
    try:
        result = subprocess.run(
            [fc_match, "--format=%{file}\n%{index}\n", f":lang={lang}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return
    lines = result.stdout.splitlines()
    if result.returncode == 0 and len(lines) >= 2 and lines[0] and lines[1].isdigit():
        yield Path(lines[0]), int(lines[1])


def _missing_message(detail: str) -> str:
    return (
        f"{detail} Chinese text cannot be printed. Install a CJK font: "
        f"`apt-get install {FONT_PACKAGE}` on Debian/Ubuntu (or fonts-noto-cjk), "
        "or give the path of a .ttf/.ttc/.otf font with Chinese characters."
    )


def find_cjk_fonts(
    override: str | os.PathLike[str] | None = None, *, traditional: bool = False
) -> list[CjkFont]:
    """Every usable CJK font found, the preferred one first (the others serve as fallbacks).

    ``override`` (a setting) must be usable when it is given: a wrong path is an error, never a
    silent fallback. ``traditional`` prefers the Traditional face of a collection (zh_Hant).
    """
    if override is not None and str(override) != "":
        path = Path(override).expanduser()
        if not path.is_file():
            raise CjkFontMissing(_missing_message(f"The configured CJK font {path} does not exist."))
        font = _usable_face(path.resolve(), traditional, None)
        if font is None:
            raise CjkFontMissing(_missing_message(f"The configured font {path} has no Chinese characters."))
        return [font]
    found: list[CjkFont] = []
    seen: set[Path] = set()
    candidates: list[tuple[Path, int | None]] = [(Path(p), None) for p in _KNOWN_PATHS]
    candidates.extend(_fontconfig(traditional))
    for path, index in candidates:
        if not path.is_file():
            continue
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        font = _usable_face(resolved, traditional, index)
        if font is not None:
            found.append(font)
    if not found:
        raise CjkFontMissing(_missing_message("No CJK font was found on this machine."))
    return found


def find_cjk_font(override: str | os.PathLike[str] | None = None, *, traditional: bool = False) -> CjkFont:
    """The preferred CJK font; raises :class:`CjkFontMissing` (saying what to install) if none."""
    return find_cjk_fonts(override, traditional=traditional)[0]


def matplotlib_font_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The font file for matplotlib (``font_manager.fontManager.addfont(path)``).

    matplotlib reads the first face of a collection: for Noto Sans CJK that is the Japanese
    face, whose glyphs differ slightly from Chinese ones; wqy-microhei's first face is Chinese.
    """
    return find_cjk_font(override).path


@functools.lru_cache(maxsize=16)
def font_codepoints(font: CjkFont) -> frozenset[int]:
    """The characters the face can draw (to print a rare name with a fallback font)."""
    with _open_faces(font.path) as faces:
        return frozenset(int(cp) for cp in (faces[font.index].getBestCmap() or {}))


def uncovered(text: str, fonts: Sequence[CjkFont]) -> set[str]:
    """The characters of ``text`` that none of ``fonts`` can draw (whitespace aside)."""
    sets = [font_codepoints(font) for font in fonts]
    return {c for c in set(text) if not c.isspace() and not any(ord(c) in s for s in sets)}


def add_fonts_with_fallbacks(pdf: FPDF, faces: Sequence[CjkFont]) -> None:
    """Register the first face as the PDF's family "cjk" and the others as fpdf2's fallback fonts,
    so that a rare character in a name that the first lacks is drawn from another installed font."""
    first, *others = faces
    pdf.add_font("cjk", "", str(first.path), collection_font_number=first.index)
    fallbacks = []
    for number, face in enumerate(others, start=1):
        family = f"cjk-fallback-{number}"
        pdf.add_font(family, "", str(face.path), collection_font_number=face.index)
        fallbacks.append(family)
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks)

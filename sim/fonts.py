"""The CJK font for figures and the HTML report: Noto Sans CJK SC (思源黑体), from the
``mplfonts`` package (a font manager made for matplotlib that ships Noto Sans/Serif CJK SC),
so a fresh machine without system CJK fonts renders Chinese. Nothing relies on system
fonts."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

__all__ = ["CJK_FAMILY", "cjk_font_path", "embedded_font_css", "missing_glyphs", "use_cjk_font"]

CJK_FAMILY = "Noto Sans CJK SC"


@cache
def cjk_font_path() -> Path:
    """Path of the bundled CJK font file."""
    path = Path(str(resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"))
    if not path.is_file():  # pragma: no cover - broken installation
        raise FileNotFoundError(f"CJK font missing from the installed package: {path}")
    return path


@cache
def use_cjk_font() -> str:
    """Register the CJK font with matplotlib (once) and make it the default family."""
    import matplotlib as mpl
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(cjk_font_path()))
    mpl.rcParams["font.family"] = [CJK_FAMILY, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["pdf.fonttype"] = 42
    return CJK_FAMILY


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` the CJK font has no glyph for (whitespace ignored)."""
    from matplotlib.ft2font import FT2Font

    charmap = FT2Font(str(cjk_font_path())).get_charmap()
    return sorted({c for c in text if not c.isspace() and ord(c) not in charmap})


def embedded_font_css(text: str, family: str = "ReliefsimCJK") -> str:
    """An ``@font-face`` rule embedding the CJK font subset to the characters of ``text``
    (base64 WOFF), so an HTML page shows Chinese without any system font or network.
    Subsetting the CFF font takes seconds, so subsets are kept per character set."""
    chars = frozenset(text) | frozenset("0123456789%.,:;–-–[]()≤≥ ")
    return f'@font-face{{font-family:"{family}";src:url(data:font/woff;base64,' \
           f'{_subset_woff(chars)}) format("woff");}}'


@cache
def _subset_woff(chars: frozenset[str]) -> str:
    """The font cut down to ``chars``, as base64 WOFF."""
    import base64
    import io
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(str(cjk_font_path()))
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")

"""The fonts of official papers, and what stands in for them where they are not installed.

GB/T 9704-2012 sets the title in 小标宋, the text in 仿宋, level-1 headings in 黑体 and level-2 in
楷体. A Chinese Windows or WPS has most of these; Word finds a substitute for a missing one through
the font table's ``w:altName`` (方正小标宋简体 → 宋体, 仿宋_GB2312 → 仿宋, 楷体_GB2312 → 楷体).

LibreOffice asks fontconfig instead, which knows none of these names: every face falls back to
one sans font, in the glyph forms of whatever language it guesses. ``fontconfig_file`` writes a
configuration that maps each official name to a free look-alike (Debian's ``fonts-noto-cjk``:
Noto Serif CJK SC for 宋体/仿宋, its Bold for 小标宋, Noto Sans CJK SC for 黑体; and
``fonts-arphic-ukai`` for 楷体), on top of the system's own configuration; the documents also
declare their East Asian language as zh-CN, so the glyphs are the Simplified Chinese forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OfficialFont:
    name: str  # as written in w:eastAsia
    alt_name: str  # the substitute Word and WPS take when ``name`` is missing
    panose: str  # of the substitute, so a font matcher finds its kind
    family: str  # w:family: roman (serif), modern (fixed pitch CJK), swiss (sans)
    look_alikes: tuple[str, ...]  # free fonts LibreOffice should use, in order
    bold: bool = False  # the look-alike's weight: 小标宋 is a heavy Song


TITLE = OfficialFont("方正小标宋简体", "宋体", "02010600030101010101", "roman",
                     ("Noto Serif CJK SC",), bold=True)
BODY = OfficialFont("仿宋_GB2312", "仿宋", "02010609060101010101", "modern", ("Noto Serif CJK SC",))
HEADING_1 = OfficialFont("黑体", "SimHei", "02010609060101010101", "modern", ("Noto Sans CJK SC",))
HEADING_2 = OfficialFont("楷体_GB2312", "楷体", "02010609060101010101", "modern",
                         ("AR PL UKai CN", "Noto Serif CJK SC"))
SONG = OfficialFont("宋体", "SimSun", "02010600030101010101", "roman", ("Noto Serif CJK SC",))
LATIN = "Times New Roman"  # digits and Latin letters in the text

OFFICIAL_FONTS: tuple[OfficialFont, ...] = (TITLE, BODY, HEADING_1, HEADING_2, SONG)
# Names offices' own templates often use for the same faces, mapped the same way.
SYNONYMS: dict[str, OfficialFont] = {
    "仿宋": BODY, "FangSong": BODY, "楷体": HEADING_2, "KaiTi": HEADING_2, "SimHei": HEADING_1,
    "SimSun": SONG, "小标宋": TITLE, "方正小标宋_GBK": TITLE,
}


def _alias(name: str, font: OfficialFont) -> str:
    prefer = "".join(f"<string>{look}</string>" for look in font.look_alikes)
    weight = '<edit name="weight" mode="assign"><const>bold</const></edit>' if font.bold else ""
    return (f'  <match target="pattern"><test name="family"><string>{name}</string></test>'
            f'<edit name="family" mode="prepend" binding="strong">{prefer}</edit>{weight}</match>\n')


def fontconfig_rules() -> str:
    """A fontconfig file mapping every official font name to its look-alikes."""
    names = [(font.name, font) for font in OFFICIAL_FONTS] + list(SYNONYMS.items())
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            + "".join(_alias(name, font) for name, font in names) + "</fontconfig>\n")


def fontconfig_file(folder: Path, system: Path = Path("/etc/fonts/fonts.conf")) -> Path:
    """Write ``fonts.conf`` (the system configuration plus our rules) into ``folder``; point
    ``FONTCONFIG_FILE`` at it for a LibreOffice conversion."""
    rules = folder / "official-fonts.conf"
    rules.write_text(fontconfig_rules(), encoding="utf-8")
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    f'  <include ignore_missing="yes">{system}</include>\n'
                    f"  <include>{rules}</include>\n</fontconfig>\n", encoding="utf-8")
    return conf

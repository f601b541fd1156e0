"""Word papers in the layout of GB/T 9704-2012 党政机关公文格式.

A4 (210 × 297 mm), margins top 37 mm, bottom 35, left 28, right 26; title in 小标宋 2号 (22 pt)
centred; text in 仿宋 3号 (16 pt), a first-line indent of two characters, fixed 28 pt line spacing
(22 lines a page); level-1 headings "一、" in 黑体, level-2 "（一）" in 楷体, level-3 "1．" in bold
仿宋; the page number "— 1 —" in 4号 宋体 at the foot, on the outer side (odd pages right, even
pages left, one character in).

Every style is our own (named in Chinese, with ASCII ids), so nothing inherits Word's blue
"Heading" styles, and every run names its East Asian font (``w:eastAsia``) with the font table
saying what to use when it is missing (see ``fonts``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from handlers.reports.documents.fonts import (
    BODY,
    HEADING_1,
    HEADING_2,
    LATIN,
    OFFICIAL_FONTS,
    SONG,
    TITLE,
    OfficialFont,
)

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
BODY_SIZE = Pt(16)  # 3号
TITLE_SIZE = Pt(22)  # 2号
PAGE_NUMBER_SIZE = Pt(14)  # 4号
TABLE_SIZE = Pt(14)  # 4号: tables are set a size smaller than the text
LINE = Pt(28)  # fixed line spacing: 22 lines in the 225 mm text height
TITLE_LINE = Pt(36)  # the 2号 title needs more than 28 pt not to be clipped
INDENT_CHARS = 2


@dataclass(frozen=True)
class StyleSpec:
    name: str  # what Word and WPS show
    style_id: str
    font: OfficialFont
    size: Pt
    bold: bool = False
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY
    indent: bool = True  # two characters in on the first line
    line: Pt = LINE
    outline_level: int | None = None  # shown in the navigation pane
    keep_with_next: bool = False


BODY_STYLE = "公文正文"  # the document's Normal style, renamed: what python-docx and docxtpl add
TITLE_STYLE = StyleSpec("公文标题", "OfficialTitle", TITLE, TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                        indent=False, line=TITLE_LINE, keep_with_next=True)
SUBTITLE_STYLE = StyleSpec("公文副标题", "OfficialSubtitle", HEADING_2, BODY_SIZE,
                           align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, keep_with_next=True)
HEADING_STYLES: dict[int, StyleSpec] = {
    1: StyleSpec("公文一级标题", "OfficialHeading1", HEADING_1, BODY_SIZE, outline_level=0,
                 keep_with_next=True),
    2: StyleSpec("公文二级标题", "OfficialHeading2", HEADING_2, BODY_SIZE, outline_level=1,
                 keep_with_next=True),
    3: StyleSpec("公文三级标题", "OfficialHeading3", BODY, BODY_SIZE, bold=True, outline_level=2,
                 keep_with_next=True),
}
# A heading that runs on into its paragraph, as in "1．开展读书班集中学。局党组……".
LEAD_STYLES: dict[int, StyleSpec] = {
    2: StyleSpec("公文二级标题字符", "OfficialLead2", HEADING_2, BODY_SIZE),
    3: StyleSpec("公文三级标题字符", "OfficialLead3", BODY, BODY_SIZE, bold=True),
}
TABLE_STYLE = StyleSpec("公文表格", "OfficialTable", BODY, TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                        indent=False, line=Pt(20))
FOOTER_STYLE = StyleSpec("公文页码", "OfficialPageNumber", SONG, PAGE_NUMBER_SIZE,
                         align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, line=Pt(18))


def set_fonts(rpr: Any, font: OfficialFont) -> None:
    """Name the East Asian font and the Latin one on a run's (or style's) properties, dropping
    theme fonts, which would win over the names."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN)
    fonts.set(qn("w:eastAsia"), font.name)
    # No w:hint="eastAsia": LibreOffice would then treat digits as CJK and break "13" over two lines.
    fonts.attrib.pop(qn("w:hint"), None)


def _first_line_chars(pf_element: Any, chars: int) -> None:
    """Word measures the indent in characters when ``w:firstLineChars`` is there (hundredths)."""
    ind = pf_element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _paragraph_format(style: Any, spec: StyleSpec) -> None:
    pf = style.paragraph_format
    pf.alignment = spec.align
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = spec.line
    pf.space_before = pf.space_after = Pt(0)
    pf.keep_with_next = spec.keep_with_next
    pf.widow_control = False  # fixed-pitch official text: no lines pushed to the next page
    if spec.indent:
        pf.first_line_indent = Pt(spec.size.pt * INDENT_CHARS)
        _first_line_chars(style.element, INDENT_CHARS)
    else:  # also in characters: what a style inherits from the text's 2 characters would win
        pf.first_line_indent = Pt(0)
        _first_line_chars(style.element, 0)
    if spec.outline_level is not None:
        outline = OxmlElement("w:outlineLvl")
        outline.set(qn("w:val"), str(spec.outline_level))
        style.element.get_or_add_pPr().append(outline)


def _run_format(style: Any, spec: StyleSpec) -> None:
    style.font.size = spec.size
    style.font.bold = spec.bold
    style.font.italic = False
    style.font.color.rgb = None
    set_fonts(style.element.get_or_add_rPr(), spec.font)


def _paragraph_style(doc: Any, spec: StyleSpec) -> Any:
    style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = spec.style_id
    style.base_style = doc.styles[BODY_STYLE]
    style.next_paragraph_style = doc.styles[BODY_STYLE]
    style.quick_style = True
    _paragraph_format(style, spec)
    _run_format(style, spec)
    return style


def _character_style(doc: Any, spec: StyleSpec) -> Any:
    style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.CHARACTER)
    style.style_id = spec.style_id
    style.quick_style = True
    _run_format(style, spec)
    return style


def _defaults(doc: Any) -> None:
    """The document defaults and Normal: the body text, in zh-CN (LibreOffice then takes the
    Simplified Chinese glyph forms of a fallback font)."""
    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr_default, BODY)
    lang = rpr_default.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr_default.append(lang)
    lang.set(qn("w:val"), "en-US")  # digits and "%" keep the Western line-break rules
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.name = BODY_STYLE
    body = StyleSpec(BODY_STYLE, "Normal", BODY, BODY_SIZE)
    _paragraph_format(normal, body)
    _run_format(normal, body)


def _font_table(doc: Any) -> None:
    """Our fonts in the font table, each with the substitute Word takes when it is missing."""
    part = next(rel.target_part for rel in doc.part.rels.values()
                if rel.reltype.endswith("/fontTable"))
    entries = "".join(
        f'<w:font w:name="{font.name}"><w:altName w:val="{font.alt_name}"/>'
        f'<w:panose1 w:val="{font.panose}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{font.family}"/><w:pitch w:val="variable"/></w:font>'
        for font in OFFICIAL_FONTS)
    latin = (f'<w:font w:name="{LATIN}"><w:panose1 w:val="02020603050405020304"/>'
             '<w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>')
    xml = (f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           f"<w:fonts {nsdecls('w')}>{latin}{entries}</w:fonts>")
    part._blob = xml.encode("utf-8")


def _page_field(paragraph: Any) -> None:
    """"— 1 —": the PAGE field between em dashes, the number as Word would have left it."""
    def run(text: str | None = None, field: str | None = None, instr: str | None = None) -> None:
        r = paragraph.add_run(text)
        if field:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), field)
            r._r.append(char)
        if instr:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = instr
            r._r.append(code)

    run("— ")
    run(field="begin")
    run(instr=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


def _footers(doc: Any) -> None:
    """Page numbers on the outer side: odd pages right, even pages left, one character in."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    one_char = PAGE_NUMBER_SIZE
    for footer, align, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
                                (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left")):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = doc.styles[FOOTER_STYLE.name]
        paragraph.alignment = align
        if side == "right":
            paragraph.paragraph_format.right_indent = one_char
        else:
            paragraph.paragraph_format.left_indent = one_char
        _page_field(paragraph)


def _page(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = Mm(15)
    # The number's line (18 pt, about 6 mm) sits 7 mm below the text block: 35 − 7 − 6 mm.
    section.footer_distance = Mm(22)


def new_document(title: str = "", author: str = "") -> Any:
    """An empty document with the official page, styles, font table and page numbers."""
    doc = Document()
    body = doc.paragraphs[0]._p if doc.paragraphs else None
    if body is not None:  # the default template's empty first paragraph
        body.getparent().remove(body)
    _defaults(doc)
    for spec in (TITLE_STYLE, SUBTITLE_STYLE, *HEADING_STYLES.values(), TABLE_STYLE, FOOTER_STYLE):
        _paragraph_style(doc, spec)
    for spec in LEAD_STYLES.values():
        _character_style(doc, spec)
    _font_table(doc)
    _page(doc)
    _footers(doc)
    doc.core_properties.title = title
    doc.core_properties.author = author
    doc.core_properties.language = "zh-CN"
    return doc


def add_title(doc: Any, text: str) -> Any:
    return doc.add_paragraph(text, style=TITLE_STYLE.name)


def add_subtitle(doc: Any, text: str) -> Any:
    """The line under the title, e.g. "（2023年11月9日）"."""
    return doc.add_paragraph(text, style=SUBTITLE_STYLE.name)


def add_heading(doc: Any, level: int, text: str) -> Any:
    return doc.add_paragraph(text, style=HEADING_STYLES[level].name)


def add_body(doc: Any, text: str, *, lead: str = "", lead_level: int = 3) -> Any:
    """A paragraph of text, optionally opened by a run-in heading (``lead``) of level 2 or 3."""
    paragraph = doc.add_paragraph(style=BODY_STYLE)
    if lead:
        paragraph.add_run(lead, style=LEAD_STYLES[lead_level].name)
    if text:
        paragraph.add_run(text)
    return paragraph


def add_blank(doc: Any) -> Any:
    """An empty line of the text's height (under the title, before a signature)."""
    return doc.add_paragraph(style=BODY_STYLE)


def _cell_margins(table: Any) -> None:
    margins = parse_xml(f'<w:tblCellMar {nsdecls("w")}><w:left w:w="80" w:type="dxa"/>'
                        '<w:right w:w="80" w:type="dxa"/></w:tblCellMar>')
    table._tbl.tblPr.append(margins)


def _borders(table: Any) -> None:
    sides = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                    for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    table._tbl.tblPr.append(parse_xml(f'<w:tblBorders {nsdecls("w")}>{sides}</w:tblBorders>'))


def add_table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float]) -> Any:
    """A bordered table in 4号 仿宋, header row in bold and repeated on every page; ``widths`` are
    the columns' shares of the text width."""
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _borders(table)
    _cell_margins(table)
    total = sum(widths)
    grid = table._tbl.tblGrid.findall(qn("w:gridCol"))
    for i, share in enumerate(widths):
        width = int(TEXT_WIDTH * share / total)
        grid[i].set(qn("w:w"), str(int(width / 635)))  # EMU → twips: LibreOffice reads the grid
        for cell in table.columns[i].cells:
            cell.width = width
    header_row = table.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_row._tr.get_or_add_trPr().append(repeat)
    for row, values, bold in [(header_row, header, True)] + [(table.rows[i + 1], r, False)
                                                           for i, r in enumerate(rows)]:
        for cell, value in zip(row.cells, values, strict=True):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            paragraph = cell.paragraphs[0]
            paragraph.style = doc.styles[TABLE_STYLE.name]
            run = paragraph.add_run(value)
            run.bold = bold
    return table


def to_bytes(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()

"""The blank paper every archive document starts from: ``official_docx.new_document``'s page,
styles and fonts, made once and kept as bytes, with the styles it never uses taken out.

python-docx looks a style up by scanning every style of the document, for each paragraph; the
default template's 160 styles made one meeting record take half a second, which over a year of
meetings is most of the archive's time. Loading these bytes and keeping a few dozen styles
makes it a tenth of that."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

from docx import Document
from docx.oxml.ns import qn

from handlers.reports.documents import official_docx as paper

_USED = {paper.BODY_STYLE, paper.TITLE_STYLE.name, paper.SUBTITLE_STYLE.name,
         paper.TABLE_STYLE.name, paper.FOOTER_STYLE.name,
         *(spec.name for spec in paper.HEADING_STYLES.values()),
         *(spec.name for spec in paper.LEAD_STYLES.values()),
         "Normal", "Default Paragraph Font", "Normal Table", "No List", "Table Grid", "Caption"}


@cache
def _blank() -> bytes:
    doc = paper.new_document()
    styles = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    keep: set[str] = set()
    todo = [sid for sid, s in by_id.items()
            if s.get(qn("w:default")) == "1" or _name(s) in _USED]
    while todo:
        sid = todo.pop()
        if sid in keep or sid not in by_id:
            continue
        keep.add(sid)
        for link in ("w:basedOn", "w:next", "w:link"):
            ref = by_id[sid].find(qn(link))
            if ref is not None:
                todo.append(ref.get(qn("w:val")))
    for sid, style in by_id.items():
        if sid not in keep:
            styles.remove(style)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    return paper.to_bytes(doc)


def _name(style: Any) -> str | None:
    name = style.find(qn("w:name"))
    return None if name is None else name.get(qn("w:val"))


def new_paper(title: str) -> Any:
    """A fresh official document (title in its properties), ready for ``official_docx``'s
    ``add_*``."""
    doc = Document(io.BytesIO(_blank()))
    doc.core_properties.title = title
    return doc

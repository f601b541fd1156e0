"""Rendering a .docx template (ours, or an office's own) with docxtpl, and saying in Chinese what
is wrong with a template: which placeholder, in which paragraph.

An office's template is untrusted input: it renders in Jinja's sandbox, with autoescaping (a
branch named "A&B" must not break the XML) and strict undefined names (a misspelt placeholder is
an error, not an empty gap in the paper).

Before rendering, the template's paragraphs are checked as plain text, one line a paragraph, so
the line Jinja reports is the paragraph's number as the office counts it in Word (docxtpl's own
XML lines would not be).
"""

from __future__ import annotations

import io
import re
import traceback
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from handlers.core.i18n import Translator

# docxtpl's tag forms ({%p …%}, {%tr …%}, {{r …}} …) as plain Jinja, for the text check.
_DOCXTPL_TAG = re.compile(r"(\{%|\{\{)(?:p|tr|tc|r)\s")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_UNDEFINED = re.compile(r"'([^']+)' is undefined")
_NO_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")
_PARAGRAPH_TAG = re.compile(r"\{%-?\s*(?:p|tr|tc)\s.*?%\}")  # docxtpl replaces the whole paragraph (row, cell)
_BLOCK = re.compile(r"\{%-?\s*(?:p|tr|tc|r)?\s*(for|if|endfor|endif)\b")
SNIPPET = 40


class TemplateProblem(Exception):
    """A template that cannot be rendered; ``str()`` is the Chinese message for the user."""


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


def _source(template: Path | bytes) -> io.BytesIO | str:
    return io.BytesIO(template) if isinstance(template, bytes) else str(template)


def paragraph_texts(template: Path | bytes) -> list[str]:
    """The body's paragraphs (table cells included) in document order, as plain text."""
    body = Document(_source(template)).element.body
    return ["".join(node.text or "" for node in p.iter(qn("w:t"))) for p in body.iter(qn("w:p"))]


def _line_of(exc: BaseException) -> int | None:
    """The template line where a render error arose (Jinja puts it in the traceback)."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if frame.filename == "<template>"]
    return lines[-1] if lines else None


def _where(t: Translator, paragraphs: list[str], line: int | None) -> str:
    if line is None or not 1 <= line <= len(paragraphs):
        return t("doc.template_where_unknown")
    text = paragraphs[line - 1].strip()
    snippet = text if len(text) <= SNIPPET else text[:SNIPPET] + "…"
    return t("doc.template_where", n=line, text=snippet)


def _placeholder(paragraphs: list[str], line: int | None, name: str | None) -> str:
    """The tag of that paragraph that names ``name`` (or its first tag)."""
    if line is None or not 1 <= line <= len(paragraphs):
        return name or ""
    tags = _TAG.findall(paragraphs[line - 1])
    for tag in tags:
        if name and name in tag:
            return tag
    return tags[0] if tags else (name or "")


def _unclosed_line(paragraphs: list[str]) -> int | None:
    """The paragraph of the first ``for``/``if`` that is never closed (Jinja only says that the
    template ended)."""
    open_blocks: list[tuple[str, int]] = []
    for line, text in enumerate(paragraphs, start=1):
        for word in _BLOCK.findall(text):
            if word in ("for", "if"):
                open_blocks.append((word, line))
            elif open_blocks and open_blocks[-1][0] == word[3:]:
                open_blocks.pop()
    return open_blocks[0][1] if open_blocks else None


def _problem(t: Translator, exc: TemplateError, paragraphs: list[str], line: int | None) -> TemplateProblem:
    where = _where(t, paragraphs, line)
    if isinstance(exc, UndefinedError):
        message = str(exc.message or "")
        match = _UNDEFINED.search(message) or _NO_ATTRIBUTE.search(message)
        name = match.group(1) if match else None
        return TemplateProblem(t("doc.template_unknown_name", where=where, name=name or message,
                                 tag=_placeholder(paragraphs, line, name)))
    if isinstance(exc, SecurityError):
        return TemplateProblem(t("doc.template_forbidden", where=where, tag=_placeholder(paragraphs, line, None)))
    if isinstance(exc, TemplateSyntaxError):
        message = str(exc.message or "")
        if "end of template" in message:
            line = _unclosed_line(paragraphs) or line
            where = _where(t, paragraphs, line)
        key = ("doc.template_unclosed" if "end of template" in message
               else "doc.template_unknown_tag" if "unknown tag" in message
               else "doc.template_syntax")
        return TemplateProblem(t(key, where=where, tag=_placeholder(paragraphs, line, None), detail=message))
    return TemplateProblem(t("doc.template_syntax", where=where, tag=_placeholder(paragraphs, line, None),
                             detail=str(exc)))


def check(t: Translator, template: Path | bytes, context: Mapping[str, Any]) -> None:
    """Render the template's text (one line a paragraph) with ``context``; raise
    ``TemplateProblem`` naming the placeholder and the paragraph if it fails."""
    try:
        paragraphs = paragraph_texts(template)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TemplateProblem(t("doc.template_not_docx")) from exc
    for line, paragraph in enumerate(paragraphs, start=1):
        tags = _PARAGRAPH_TAG.findall(paragraph)
        if tags and (len(tags) > 1 or paragraph.strip() != tags[0]):
            raise TemplateProblem(t("doc.template_tag_alone", where=_where(t, paragraphs, line), tag=tags[0]))
    text = "\n".join(_DOCXTPL_TAG.sub(r"\1 ", p) for p in paragraphs)
    env = _environment()
    try:
        compiled = env.from_string(text)
    except TemplateSyntaxError as exc:
        raise _problem(t, exc, paragraphs, exc.lineno) from exc
    try:
        compiled.render(dict(context))
    except TemplateError as exc:
        raise _problem(t, exc, paragraphs, _line_of(exc)) from exc


def render(t: Translator, template: Path | bytes, context: Mapping[str, Any]) -> bytes:
    """The rendered .docx; ``TemplateProblem`` for a template that does not fit the context."""
    check(t, template, context)
    document = DocxTemplate(_source(template))
    try:
        document.render(dict(context), jinja_env=_environment(), autoescape=True)
    except TemplateError as exc:  # e.g. a tag split over two formats, which the text check cannot see
        raise TemplateProblem(t("doc.template_render_failed", detail=str(exc))) from exc
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()

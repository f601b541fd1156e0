"""Builds the templates shipped in ``templates/`` from our official styles, so they can be made
again at any time: ``python -m handlers.reports.documents.build_templates``.

The headings are the catalogue's; the paragraphs are placeholders (``TEMPLATES.md``). An office
starts its own template from one of these files and rewords it in Word or WPS.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from handlers.core.i18n import DEFAULT_TEXTS as t  # the shipped templates are built in the default language
from handlers.reports.documents import drafts, official_docx

# The appendix table: (header catalogue key, placeholder of the branch, width share).
BRANCH_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("doc.col_branch", "name", 2.8), ("doc.col_participation", "participation", 1.2),
    ("doc.col_hours_per_member", "hours_per_member", 1.5), ("doc.col_visits", "visits", 1.5),
    ("doc.col_problems", "problems_accepted", 1.5), ("doc.col_rate", "rate", 1.2),
)
FIXED_DATE_PROPERTIES = "2000-01-01T00:00:00"  # the generated files do not change with the clock


def _loop(doc: Any, name: str, lead_level: int) -> None:
    """Paragraphs of ``name``: each a run-in heading (``p.lead``) and its text (``p.text``)."""
    official_docx.add_body(doc, f"{{%p for p in {name} %}}")
    official_docx.add_body(doc, "{{ p.text }}", lead="{{ p.lead }}", lead_level=lead_level)
    official_docx.add_body(doc, "{%p endfor %}")


def _branch_table(doc: Any) -> None:
    official_docx.add_body(doc, "{%p if show_branches %}")
    official_docx.add_blank(doc)
    official_docx.add_heading(doc, 1, t("doc.h_appendix"))
    width = len(BRANCH_COLUMNS)
    rows = [["{%tr for b in branches %}"] + [""] * (width - 1),
            [f"{{{{ b.{field} }}}}" for _, field, _ in BRANCH_COLUMNS],
            ["{%tr endfor %}"] + [""] * (width - 1)]
    official_docx.add_table(doc, [t(key) for key, _, _ in BRANCH_COLUMNS], rows,
                            [share for _, _, share in BRANCH_COLUMNS])
    official_docx.add_body(doc, "{%p endif %}")


def stage_summary() -> Any:
    doc = official_docx.new_document(title="{{ title }}", author="{{ organisation }}")
    official_docx.add_title(doc, "{{ title }}")
    official_docx.add_subtitle(doc, t("doc.dated", date="{{ date }}"))
    official_docx.add_blank(doc)
    official_docx.add_heading(doc, 1, t("doc.h_overall"))
    _loop(doc, "overall", 3)
    official_docx.add_heading(doc, 1, t("doc.h_key_work"))
    for key, name in (("doc.h_study", "study"), ("doc.h_research", "research"),
                      ("doc.h_problems", "problems"), ("doc.h_org_life", "org_life")):
        official_docx.add_heading(doc, 2, t(key))
        _loop(doc, name, 3)
    official_docx.add_heading(doc, 1, t("doc.h_shortfalls"))
    _loop(doc, "shortfalls", 2)
    official_docx.add_heading(doc, 1, t("doc.h_plan"))
    _loop(doc, "plan", 2)
    _branch_table(doc)
    return doc


def personal_summary() -> Any:
    doc = official_docx.new_document(title="{{ title }}", author="{{ name }}")
    official_docx.add_title(doc, "{{ title }}")
    official_docx.add_subtitle(doc, t("doc.personal_byline", branch="{{ branch }}", name="{{ name }}"))
    official_docx.add_subtitle(doc, t("doc.dated", date="{{ date }}"))
    official_docx.add_blank(doc)
    _loop(doc, "intro", 3)
    for key, name in (("doc.h_me_study", "study"), ("doc.h_me_research", "research"),
                      ("doc.h_me_problems", "problems"), ("doc.h_me_shortfalls", "shortfalls"),
                      ("doc.h_me_plan", "plan")):
        official_docx.add_heading(doc, 1, t(key))
        _loop(doc, name, 3)
    return doc


def _fixed(doc: Any) -> Any:
    from datetime import datetime

    moment = datetime.fromisoformat(FIXED_DATE_PROPERTIES)
    doc.core_properties.created = doc.core_properties.modified = moment
    doc.core_properties.last_printed = moment
    doc.core_properties.revision = 1
    return doc


def build(folder: Path = drafts.PACKAGE_TEMPLATES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path, make in ((drafts.STAGE_TEMPLATE.name, stage_summary), (drafts.PERSONAL_TEMPLATE.name,
                                                                     personal_summary)):
        target = folder / path
        _fixed(make()).save(str(target))
        written.append(target)
    return written


if __name__ == "__main__":
    for written_path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else drafts.PACKAGE_TEMPLATES):
        print(written_path)

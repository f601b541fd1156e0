"""整改措施条数: how many rectification measures a problem's measures text holds, counted once when
the text is written (``Problem.measure_items``) so the figures add up a column."""

from __future__ import annotations

import re

# One measure a line, or a run of text between ；/; or before a numbering (1. 2、（3）④ 一是).
_MEASURE_SPLIT = re.compile(r"[\n；;]+|(?=[（(]\d{1,2}[)）]|[①-⑳]|[一二三四五六七八九十]是)"
                            r"|(?:^|(?<=[\s，,。]))(?=\d{1,2}[.、．)）])")


def measure_count(measures: str | None) -> int:
    """整改措施条数 of one problem: its measures text cut into items, empty ones left out."""
    if not measures:
        return 0
    parts = [part.strip(" \t，,。.、") for part in _MEASURE_SPLIT.split(measures)]
    return sum(1 for part in parts if re.search(r"\w", part or ""))

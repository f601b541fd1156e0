"""PNG charts: weekly study hours and visits per branch, problem status over time.

Chinese labels are set in Noto Sans CJK SC, which comes with the project's own dependencies
(the ``noto-cjk-sans-otc`` package), so the charts look the same on every machine, fonts
installed on the system or not.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from handlers.core.i18n import Translator

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CJK_FAMILY = "Noto Sans CJK SC"
MAX_LINES = 12  # more branches than this: the slowest ones are drawn, the rest are left out
_font_lock = threading.Lock()
_font_ready = False


def cjk_font() -> str:
    """Register the bundled CJK font with matplotlib (once) and return its family name."""
    global _font_ready
    with _font_lock:
        if not _font_ready:
            import noto_cjk_sans_otc
            from matplotlib import font_manager

            font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
            _font_ready = True
    return CJK_FAMILY


@dataclass
class ChartData:
    title: str
    branches: list[tuple[int, str]]  # (org id, name), in the order to draw them
    hours: dict[tuple[int, date], float]
    visits: dict[tuple[int, date], float]
    problems: dict[str, dict[date, int]]  # status → week → events


def _weeks(*series: dict[Any, Any]) -> list[date]:
    found: set[date] = set()
    for s in series:
        found |= {k[1] if isinstance(k, tuple) else k for k in s}
    return sorted(found)


def render(t: Translator, data: ChartData) -> bytes:
    """The charts as one PNG (CPU work: run it in a worker thread, where matplotlib is also
    imported the first time, not on the event loop)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    from matplotlib.figure import Figure

    family = cjk_font()
    fig = Figure(figsize=(10, 12), dpi=100, layout="constrained")
    fig.suptitle(t("chart.title", title=data.title), fontfamily=family, fontsize=16)
    axes = fig.subplots(3, 1)
    weeks = _weeks(data.hours, data.visits)
    drawn = data.branches[:MAX_LINES]
    for ax, series, key in ((axes[0], data.hours, "chart.hours"), (axes[1], data.visits, "chart.visits")):
        for org_id, name in drawn:
            ax.plot(weeks, [series.get((org_id, w), 0) for w in weeks], marker="o", label=name)
        _labels(t, ax, t(key), family)
        if drawn and weeks:
            ax.legend(prop={"family": family, "size": 8}, ncols=2)
    flow_weeks = _weeks(data.hours, data.visits, *data.problems.values())  # one time axis for all
    ax = axes[2]
    for status in ("pending", "rectifying", "closed"):
        running, points = 0, []
        for w in flow_weeks:
            running += data.problems.get(status, {}).get(w, 0)
            points.append(running)
        ax.plot(flow_weeks, points, marker="o", label=t(f"chart.problems_{status}"))
    _labels(t, ax, t("chart.problems"), family)
    if flow_weeks:
        ax.legend(prop={"family": family})
    if len(data.branches) > MAX_LINES:
        fig.text(0.01, 0.005, t("chart.more_branches", count=len(data.branches) - MAX_LINES),
                 fontfamily=family, fontsize=9)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _labels(t: Translator, ax: Axes, title: str, family: str) -> None:
    ax.set_title(title, fontfamily=family)
    ax.set_xlabel(t("chart.week"), fontfamily=family)
    ax.tick_params(axis="x", labelrotation=30)
    if not ax.has_data():
        ax.text(0.5, 0.5, t("chart.no_data"), ha="center", va="center", fontfamily=family,
                transform=ax.transAxes)

"""Charts people read at a glance, in the bundled Noto Sans CJK.

- ``weekly_png``: study hours and visits per week as grouped bars, one colour per branch (or the
  member alone, titled with their name); a tick at each week's Monday, labelled "11月6日周";
  counts on integer ticks; y from 0; the week still under way hatched and noted, so it does not
  read as a collapse.
- ``office_png``: the branches side by side sorted by participation (who is 热, who is 冷), and the
  problem funnel per branch (found → accepted → closed) in the same order.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from handlers.core.formats import month_day
from handlers.core.i18n import Translator
from handlers.reports.documents.writing import share

CJK_FAMILY = "Noto Sans CJK SC"
_font_lock = threading.Lock()
_font_ready = False
MAX_SERIES = 8  # bars per week; more branches: the first ones (the caller's order) are drawn
LABELS_UP_TO = 48  # value labels on the bars while there are at most this many
COLOURS = ("#C0392B", "#2E86C1", "#28B463", "#D68910", "#7D3C98", "#17A589", "#5D6D7E", "#CB4335")
FUNNEL_COLOURS = ("#AEB6BF", "#5DADE2", "#27AE60")


@dataclass(frozen=True)
class WeeklySeries:
    name: str  # a branch, or the member
    hours: Mapping[date, float]  # the week's Monday → study hours
    visits: Mapping[date, int]  # the week's Monday → visits


@dataclass(frozen=True)
class WeeklyChart:
    title: str  # whose figures: the member's name, the branch, the bureau
    weeks: tuple[date, ...]  # Mondays, in order, empty weeks included
    series: tuple[WeeklySeries, ...]
    today: date


@dataclass(frozen=True)
class BranchProgress:
    name: str
    members: int
    reported: int
    found: int  # problems on the list
    accepted: int  # confirmed for rectification
    closed: int

    @property
    def participation(self) -> float:
        return self.reported / self.members if self.members else 0.0


def cjk_font() -> str:
    """Register the bundled CJK font (the ``noto-cjk-sans-otc`` package, so charts look the same
    on every machine) with matplotlib once, and return its family name."""
    global _font_ready
    with _font_lock:
        if not _font_ready:
            import noto_cjk_sans_otc
            from matplotlib import font_manager

            font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
            _font_ready = True
    return CJK_FAMILY


def mondays(start: date, end: date) -> tuple[date, ...]:
    """Every Monday from the week of ``start`` to the week of ``end``."""
    first = start - timedelta(days=start.weekday())
    return tuple(first + timedelta(weeks=i) for i in range((end - first).days // 7 + 1))


def week_label(t: Translator, monday: date) -> str:
    return t("doc.chart_week", day=month_day(monday))


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _partial_week(chart: WeeklyChart) -> int | None:
    """The index of the week still under way (today before its Sunday), if shown."""
    for i, monday in enumerate(chart.weeks):
        if monday <= chart.today < monday + timedelta(days=6):
            return i
    return None


def _bars(t: Translator, ax: Any, chart: WeeklyChart, values: Sequence[Sequence[float]], partial: int | None,
          *, integer: bool, family: str) -> None:
    from matplotlib.ticker import MaxNLocator

    drawn = len(values)
    width = 0.8 / max(drawn, 1)
    positions = range(len(chart.weeks))
    for s, (series, heights) in enumerate(zip(chart.series, values, strict=False)):
        xs = [x - 0.4 + width * (s + 0.5) for x in positions]
        bars = ax.bar(xs, heights, width * 0.92, color=COLOURS[s % len(COLOURS)], label=series.name,
                      edgecolor="white", linewidth=0.5)
        if partial is not None:
            bars[partial].set_alpha(0.45)
            bars[partial].set_hatch("///")
        if drawn * len(chart.weeks) <= LABELS_UP_TO:
            ax.bar_label(bars, labels=[_label(v, integer) for v in heights], fontsize=7, padding=1,
                         fontfamily=family)
    ax.set_xticks(list(positions), [week_label(t, w) for w in chart.weeks], fontfamily=family, fontsize=8,
                  rotation=30 if len(chart.weeks) > 6 else 0, ha="right" if len(chart.weeks) > 6 else "center")
    ax.set_xlim(-0.6, len(chart.weeks) - 0.4)
    ax.set_ylim(bottom=0)
    if integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    top = max((v for heights in values for v in heights), default=0)
    if top == 0:
        ax.set_ylim(0, 1)
    else:
        ax.set_ylim(0, top * 1.15)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for label in ax.get_yticklabels():
        label.set_fontfamily(family)


def _label(value: float, integer: bool) -> str:
    if not value:
        return ""
    return f"{int(value)}" if integer else f"{round(value, 1):g}"


def weekly_png(t: Translator, chart: WeeklyChart) -> bytes:
    """Study hours and visits per week, grouped bars per series, as PNG bytes (CPU work: run it
    in a worker thread)."""
    return _png(weekly_figure(t, chart))


def weekly_figure(t: Translator, chart: WeeklyChart) -> Any:
    """The matplotlib Figure of ``weekly_png``."""
    family = cjk_font()
    left_out = max(len(chart.series) - MAX_SERIES, 0)
    chart = WeeklyChart(chart.title, chart.weeks, chart.series[:MAX_SERIES], chart.today)
    fig = _figure(10, 7.5)
    fig.suptitle(t("doc.chart_weekly_title", title=chart.title), fontfamily=family, fontsize=15)
    axes = fig.subplots(2, 1)
    partial = _partial_week(chart)
    hours = [[s.hours.get(w, 0.0) for w in chart.weeks] for s in chart.series]
    visits = [[float(s.visits.get(w, 0)) for w in chart.weeks] for s in chart.series]
    for ax, values, key, integer in ((axes[0], hours, "doc.chart_hours", False),
                                     (axes[1], visits, "doc.chart_visits", True)):
        _bars(t, ax, chart, values, partial, integer=integer, family=family)
        ax.set_title(t(key), fontfamily=family, fontsize=12, loc="left")
    if len(chart.series) > 1:  # one legend for both panels, above them, covering no bar
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(chart.series), 4),
                   prop={"family": family, "size": 9}, frameon=False)
    notes = []
    if partial is not None:
        notes.append(t("doc.chart_partial", today=month_day(chart.today)))
    if left_out:
        notes.append(t("doc.chart_more_series", n=left_out))
    if notes:
        axes[0].set_title("；".join(notes), fontfamily=family, fontsize=9, color="#555555", loc="right")
    return fig


def office_png(t: Translator, title: str, period: str, branches: Sequence[BranchProgress]) -> bytes:
    """Participation per branch, highest first, beside the problem funnel per branch (PNG)."""
    return _png(office_figure(t, title, period, branches))


def office_figure(t: Translator, title: str, period: str, branches: Sequence[BranchProgress]) -> Any:
    """The matplotlib Figure of ``office_png``."""
    family = cjk_font()
    ordered = sorted(branches, key=lambda b: -b.participation)  # ties keep the caller's order
    height = max(3.5, 1.6 + 0.38 * len(ordered))
    fig = _figure(12, height)
    fig.suptitle(t("doc.chart_office_title", title=title, period=period), fontfamily=family, fontsize=15)
    left, right = fig.subplots(1, 2, sharey=True)
    ys = list(range(len(ordered)))
    rates = [b.participation * 100 for b in ordered]
    colours = [COLOURS[0] if r >= 80 else COLOURS[3] if r >= 50 else COLOURS[1] for r in rates]
    bars = left.barh(ys, rates, color=colours, height=0.7)
    left.bar_label(bars, labels=[f"{b.reported}/{b.members}（{share(t, b.reported, b.members)}）" for b in ordered],
                   fontsize=8, padding=2, fontfamily=family)
    left.set_xlim(0, 125)
    left.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"])
    left.set_title(t("doc.chart_participation"), fontfamily=family, fontsize=12, loc="left")
    left.set_yticks(ys, [b.name for b in ordered], fontfamily=family, fontsize=9)
    left.invert_yaxis()
    _funnel(t, right, ordered, ys, family)
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
    return fig


def _funnel(t: Translator, ax: Any, ordered: Sequence[BranchProgress], ys: list[int], family: str) -> None:
    from matplotlib.ticker import MaxNLocator

    stages = (("doc.chart_found", lambda b: b.found), ("doc.chart_accepted", lambda b: b.accepted),
              ("doc.chart_closed", lambda b: b.closed))
    height = 0.8 / len(stages)
    for i, ((key, value), colour) in enumerate(zip(stages, FUNNEL_COLOURS, strict=True)):
        offsets = [y - 0.4 + height * (i + 0.5) for y in ys]
        counts = [value(b) for b in ordered]
        bars = ax.barh(offsets, counts, height * 0.92, color=colour, label=t(key))
        ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], fontsize=7, padding=2,
                     fontfamily=family)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    top = max((b.found for b in ordered), default=0)
    ax.set_xlim(0, max(top * 1.15, 1))
    ax.set_title(t("doc.chart_funnel"), fontfamily=family, fontsize=12, loc="left")
    ax.legend(prop={"family": family, "size": 8}, loc="lower center", bbox_to_anchor=(0.5, 1.06), ncols=3,
              frameon=False)  # above the panel, covering no bar

"""The blocks-over-time chart as geometry for an inline SVG (rendered by the template).

Server-rendered SVG rather than a JavaScript chart library: the chart is one series of stacked
bars, so ~50 lines here replace shipping and tracking third-party JavaScript in a security
tool's admin page; the page works without JavaScript, the strict CSP needs no exception, and
every bar carries its numbers (`<title>`, and the table beside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Harshest first, so the stack reads the same in every bar (allow: passed challenges).
ORDER = ("ban", "block", "decoy", "tarpit", "throttle", "challenge", "allow")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 220, 44, 24, 10


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    action: str
    count: int
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    ticks: list[tuple[float, str]]  # x, time label
    axis_y: float
    left: int


def _clock(epoch: float, span: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%H:%M") if span <= 86400 else moment.strftime("%d %b %H:%M")


def timeline_chart(timeline: list[dict[str, Any]], span: float) -> Chart:
    """Stacked bars, one per bucket of `timeline` (`{"start", "counts"}`), scaled to the peak."""
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(1, len(timeline))
    peak = max((sum(b["counts"].values()) for b in timeline), default=0)
    scale = plot_h / peak if peak else 0.0
    bars: list[Bar] = []
    ticks: list[tuple[float, str]] = []
    for index, bucket in enumerate(timeline):
        x = LEFT + index * slot
        if index % 6 == 0:
            ticks.append((x, _clock(bucket["start"], span)))
        base = float(TOP + plot_h)
        counts = bucket["counts"]
        actions = [a for a in ORDER if counts.get(a)] + sorted(set(counts) - set(ORDER))
        for action in actions:
            count = int(counts[action])
            height = count * scale
            base -= height
            label = f"{_clock(bucket['start'], span)} UTC: {count} {action}"
            bars.append(Bar(x + 2, base, slot - 4, height, action, count, label))
    return Chart(WIDTH, HEIGHT, bars, peak, ticks, TOP + plot_h, LEFT)

"""Charts drawn on our side as SVG: no script, nothing loaded from elsewhere.

Each chart is a grouped bar chart; the numbers are also in the table beside it,
and the SVG carries a title and description for screen readers.
"""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ["#b3261e", "#e0a526", "#2f6f4f", "#3b6ea5", "#7a5c99"]


@dataclass
class Series:
    label: str
    values: list[float]
    color: str = ""


def _nice_max(value: float) -> float:
    """A round number at or above `value`, for the axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    # Quarters of these make round ticks.
    for step in (1, 2, 4, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def _colored(series: list[Series]) -> list[Series]:
    for index, item in enumerate(series):
        item.color = item.color or PALETTE[index % len(PALETTE)]
    return series


def legend(series: list[Series]) -> str:
    items = "".join(
        f'<li><span class="chart-legend__swatch" style="background:{s.color}"></span>'
        f"{escape(s.label)}</li>"
        for s in _colored(series)
    )
    return mark_safe(f'<ul class="chart-legend">{items}</ul>')  # noqa: S308 (escaped above)


def column_chart(
    *, title: str, categories: list[str], series: list[Series], width=640, height=260
) -> str:
    """Vertical bars: one group per category (e.g. per month)."""
    series = _colored(series)
    left, right, top, bottom = 36, 8, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max([v for s in series for v in s.values] + [0]))
    group = plot_w / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    parts = []
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="chart__grid" x1="{left}" x2="{width - right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(value)}</text>"
        )
    for i, category in enumerate(categories):
        x0 = left + group * i + group * 0.1
        for j, item in enumerate(series):
            value = item.values[i]
            h = plot_h * value / top_value
            x = x0 + bar * j
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{item.color}">'
                f"<title>{escape(category)} · {escape(item.label)}: "
                f"{_number(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{left + group * (i + 0.5):.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    return _svg(title, width, height, parts)


def bar_chart(
    *, title: str, categories: list[str], series: list[Series], width=640
) -> str:
    """Horizontal bars: one group per category (e.g. per organisation, whose
    names are long)."""
    series = _colored(series)
    row = 10 + 12 * len(series)
    label_w, right, top = 190, 36, 8
    height = top * 2 + row * max(len(categories), 1)
    plot_w = width - label_w - right
    top_value = _nice_max(max([v for s in series for v in s.values] + [0]))
    parts = []
    for i, category in enumerate(categories):
        y0 = top + row * i
        name = category if len(category) <= 13 else category[:12] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + row / 2 + 4:.1f}" text-anchor="end">'
            f"<title>{escape(category)}</title>{escape(name)}</text>"
        )
        for j, item in enumerate(series):
            value = item.values[i]
            w = plot_w * value / top_value
            y = y0 + 5 + 12 * j
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="10" '
                f'fill="{item.color}"><title>{escape(category)} · '
                f"{escape(item.label)}: {_number(value)}</title></rect>"
                f'<text x="{label_w + w + 4:.1f}" y="{y + 9}">{_number(value)}</text>'
            )
    return _svg(title, width, height, parts)


def _svg(title: str, width: int, height: float, parts: list[str]) -> str:
    body = "".join(parts)
    return mark_safe(  # noqa: S308 (every text inside was escaped)
        f'<svg class="chart" viewBox="0 0 {width} {height:.0f}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )

"""Small static SVG charts for the monthly report: it is a document kept in the archive and printed to PDF, so its
charts are drawn on the server and need no script. Text uses the CJK font the PDF embeds."""

from __future__ import annotations

import math
from html import escape

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
COLORS = ("#0b5cad", "#dd6b20", "#2f855a", "#805ad5", "#c53030")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    return f"{text}%" if unit == "%" else (f"{text} {unit}" if unit else text)


def _tick(value: float, unit: str) -> str:
    """An axis figure: per cent with its sign, any other unit once, in the axis's caption."""
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    return f"{text}%" if unit == "%" else text


def _segments(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points: a month without data breaks the line (a gap, not a fall to zero)."""
    runs, run = [], []
    for point in points:
        if point is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point)
    if run:
        runs.append(run)
    return runs


def line_chart(labels: list[str], series: list[tuple[str, list[float | None]]], *, unit: str = "",
               unit_caption: str = "", gap_note: str = "", width: int = 640, height: int = 236) -> str:
    """`unit`: "%" writes the sign after every figure; `unit_caption` names the unit above the axis (单位：件)."""
    left, right, top, bottom = 56, 16, 44, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _name, data in series for v in data if v is not None]
    ymax = 100.0 if unit == "%" and values and max(values) > 50 else _nice_max(max(values) if values else 1)
    ymin = 0.0
    n = max(len(labels), 1)

    def x(i):
        return left + (plot_w * (i + 0.5) / n)

    def y(v):
        return top + plot_h - (v - ymin) / (ymax - ymin) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">']
    if unit_caption:
        parts.append(f'<text x="{left - 6}" y="{top - 8}" text-anchor="end" fill="#66788a">{escape(unit_caption)}'
                     f'</text>')
    for k in range(5):
        v = ymin + (ymax - ymin) * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#66788a">{escape(_tick(v, unit))}'
                     f'</text>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" fill="#66788a">{escape(label)}</text>')
    for index, (name, data) in enumerate(series):
        color = COLORS[index % len(COLORS)]
        for run in _segments([None if v is None else (x(i), y(v)) for i, v in enumerate(data)]):
            if len(run) > 1:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
            for px, py in run:
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"/>')
        parts.append(f'<rect x="{left + index * 150}" y="6" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + index * 150 + 14}" y="15" fill="#1f2933">{escape(name)}</text>')
    if gap_note and any(v is None for _name, data in series for v in data):
        parts.append(f'<text x="{width - right}" y="{top - 8}" text-anchor="end" fill="#66788a">'
                     f'{escape(gap_note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: list[str], values: list[float], *, unit: str = "", width: int = 640,
              bar_height: int = 18) -> str:
    left, right, top = 200, 70, 6
    height = top * 2 + len(labels) * (bar_height + 6)
    vmax = _nice_max(max(values) if values else 1)
    plot_w = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        row_y = top + i * (bar_height + 6)
        w = max(1.0, plot_w * (value / vmax)) if value else 0
        short = label if len(label) <= 16 else label[:15] + "…"
        parts.append(f'<text x="{left - 8}" y="{row_y + bar_height - 5}" text-anchor="end" fill="#1f2933">'
                     f'{escape(short)}</text>')
        parts.append(f'<rect x="{left}" y="{row_y}" width="{w:.1f}" height="{bar_height}" fill="{COLORS[0]}" rx="2"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{row_y + bar_height - 5}" fill="#1f2933">'
                     f'{escape(_fmt(value, unit))}</text>')
    parts.append("</svg>")
    return "".join(parts)

"""Trend charts as inline SVG, drawn on the server (no script, no CDN, a few hundred bytes each)."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from caravane.care.selectors import Series

WIDTH, HEIGHT, PAD, AXIS = 300, 90, 8, 34


def _scale(value: float, low: float, high: float, size: float) -> float:
    if high == low:
        return size / 2
    return (value - low) / (high - low) * size


def trend_svg(series: Series, label: str) -> SafeString:
    """A line chart of one sign, with its normal band shaded and every point titled with its date and value."""
    values = [v for _, v in series.points]
    band = series.sign.band_for(None)
    normal_low, normal_high = band.normal if band else (None, None)
    bounds = values + [b for b in (normal_low, normal_high) if b is not None]
    low, high = min(bounds), max(bounds)
    margin = (high - low) * 0.1 or 1
    low, high = low - margin, high + margin
    inner_w, inner_h = WIDTH - AXIS - 2 * PAD, HEIGHT - 2 * PAD
    count = len(values)

    def x(i):
        return round(AXIS + PAD + (inner_w * i / (count - 1) if count > 1 else inner_w / 2), 1)

    def y(v):
        return round(HEIGHT - PAD - _scale(v, low, high, inner_h), 1)

    shade = ""
    if normal_low is not None or normal_high is not None:
        top = y(normal_high if normal_high is not None else high)
        bottom = y(normal_low if normal_low is not None else low)
        shade = format_html('<rect class="normal" x="{}" y="{}" width="{}" height="{}"/>', AXIS + PAD, top, inner_w,
                            round(bottom - top, 1))
    line = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))
    points = format_html_join(
        "", '<circle cx="{}" cy="{}" r="3"><title>{} · {} {}</title></circle>',
        ((x(i), y(v), date_format(at, "SHORT_DATE_FORMAT"), f"{v:g}", series.sign.unit_symbol)
         for i, (at, v) in enumerate(series.points)),
    )
    # The scale's ends on the axis, and the latest value beside its point.
    axis = format_html('<text class="axis" x="{}" y="{}">{}</text><text class="axis" x="{}" y="{}">{}</text>',
                       AXIS - 4, PAD + 4, f"{high:.4g}", AXIS - 4, HEIGHT - PAD, f"{low:.4g}")
    last_x, last_y = x(count - 1), y(values[-1])
    latest = format_html('<text class="latest" x="{}" y="{}">{}</text>', last_x - 6 if count > 1 else last_x + 6,
                         max(last_y - 6, PAD + 4), f"{values[-1]:g}")
    return format_html(
        '<svg class="trend" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}">'
        '{shade}{axis}<polyline points="{line}"/>{points}{latest}</svg>',
        w=WIDTH, h=HEIGHT, label=label, shade=shade, axis=axis, line=line, points=points, latest=latest,
    )

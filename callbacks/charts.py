"""Server-rendered SVG charts for the satisfaction summary page: no JavaScript, no CDN.

Each function takes plain numbers and labels and returns safe inline SVG markup with a
<title> and <desc> (role="img", aria-labelledby), a <title> tooltip on every mark, and the
value written next to it. The page repeats every figure in a table, for screen readers and
for copying. Colours come from classes (`sdc-*`, styled by the page with the admin's CSS
variables, so dark mode works); the fill/stroke attributes are the fallback.
"""

import itertools
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

_ids = itertools.count(1)

GOOD = "#2e7d32"
BAD = "#c62828"
NEUTRAL = "#79aec8"
MUTED = "#999"
FONT = 'font-family="inherit" font-size="12"'


def _n(value):
    """A coordinate, short."""
    return f"{float(value):.1f}".rstrip("0").rstrip(".")


def _svg(width, height, title, desc, body):
    uid = next(_ids)
    return mark_safe(
        f'<svg class="sdc-chart" role="img" aria-labelledby="sdc-t{uid} sdc-d{uid}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" style="max-width:{width}px">'
        f'<title id="sdc-t{uid}">{escape(title)}</title><desc id="sdc-d{uid}">{escape(desc)}</desc>'
        f"{''.join(body)}</svg>"
    )


def _text(x, y, text, *, anchor="start", cls="sdc-label", extra=""):
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" class="{cls}" {FONT} '
        f'fill="currentColor"{extra}>{escape(text)}</text>'
    )


def _fit(text, width):
    """`text`, cut with an ellipsis to about `width` px at 12 px (CJK characters count
    double); the full text stays in the mark's tooltip and in the table."""
    used = 0
    for i, char in enumerate(text):
        used += 12 if ord(char) > 0x2E80 else 7
        if used > width:
            return text[: max(i - 1, 1)] + "…"
    return text


def _state_class(good):
    if good is None:
        return "sdc-bar", NEUTRAL
    return ("sdc-good", GOOD) if good else ("sdc-bad", BAD)


def line_chart(points, *, title, desc, target=None, target_label="", width=760, height=260):
    """A line over (label, share 0..1 or None, text) points — e.g. the monthly satisfaction
    rate — with an optional dashed target line. None leaves a gap in the line."""
    left, right, top, bottom = 44, 80 if target_label else 16, 14, 34
    values = [v for _label, v, _text in points if v is not None]
    low = min([*values, target if target is not None else 1, Decimal(1)])
    # Start the axis at the 10 % step below the lowest value: differences near the target
    # must be visible, and the axis label says where it starts.
    floor = max(Decimal(0), (Decimal(int(low * 10)) / 10) - Decimal("0.1"))
    span = Decimal(1) - floor or Decimal(1)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points), 1)

    def x(i):
        return left + step * (i + 0.5)

    def y(value):
        return top + plot_h * float((Decimal(1) - Decimal(value)) / span)

    body = []
    tick = floor
    while tick <= Decimal(1):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(tick))}" y2="{_n(y(tick))}" '
            f'class="sdc-grid" stroke="{MUTED}" stroke-opacity="0.3"/>'
        )
        body.append(_text(left - 6, y(tick) + 4, f"{int(tick * 100)}%", anchor="end"))
        tick += Decimal("0.1")
    if target is not None:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(target))}" y2="{_n(y(target))}" '
            f'class="sdc-target" stroke="{BAD}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        if target_label:
            body.append(
                _text(width - right + 6, y(target) + 4, target_label, cls="sdc-target-label")
            )
    segment = []
    segments = [segment]
    for i, (_label, value, _t) in enumerate(points):
        if value is None:
            segment = []
            segments.append(segment)
        else:
            segment.append(f"{_n(x(i))},{_n(y(value))}")
    for seg in segments:
        if len(seg) > 1:
            body.append(
                f'<polyline points="{" ".join(seg)}" fill="none" class="sdc-line" '
                f'stroke="{NEUTRAL}" stroke-width="2.5"/>'
            )
    every = -(-len(points) // 12)  # at most about twelve axis labels
    for i, (label, value, text) in enumerate(points):
        if i % every == 0:
            body.append(_text(x(i), height - bottom + 16, label, anchor="middle"))
        if value is None:
            continue
        good = None if target is None else value >= target
        cls, colour = _state_class(good)
        body.append(
            f'<circle cx="{_n(x(i))}" cy="{_n(y(value))}" r="4" class="{cls}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(text)}</title></circle>"
        )
        if every == 1:
            body.append(_text(x(i), y(value) - 8, text, anchor="middle", cls="sdc-value"))
    return _svg(width, height, title, desc, body)


def bar_chart(bars, *, title, desc, maximum=None, target=None, target_label="", width=760,
              label_width=190, value_width=120):  # fmt: skip
    """Horizontal bars: (label, value or None, text, good: bool | None) — good colours the
    bar green or red (None: neutral). `target` draws a dashed vertical line at that value."""
    label_w, value_w, row_h, top = label_width, value_width, 26, 8
    height = top * 2 + row_h * max(len(bars), 1) + (16 if target_label else 0)
    values = [v for _l, v, _t, _g in bars if v is not None]
    maximum = maximum or max([*values, target or 0, 1])
    plot_w = width - label_w - value_w
    body = []
    for i, (label, value, text, good) in enumerate(bars):
        y0 = top + i * row_h
        shown = _fit(label, label_w - 12)
        body.append(_text(label_w - 8, y0 + row_h / 2 + 4, shown, anchor="end"))
        if value is not None:
            w = plot_w * float(Decimal(value) / Decimal(maximum)) if maximum else 0
            cls, colour = _state_class(good)
            body.append(
                f'<rect x="{label_w}" y="{_n(y0 + 4)}" width="{_n(max(w, 1))}" '
                f'height="{row_h - 8}" rx="2" class="{cls}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(text)}</title></rect>"
            )
            body.append(_text(label_w + max(w, 1) + 6, y0 + row_h / 2 + 4, text, cls="sdc-value"))
        else:
            body.append(_text(label_w + 6, y0 + row_h / 2 + 4, text, cls="sdc-muted"))
    if target is not None:
        tx = label_w + plot_w * float(Decimal(target) / Decimal(maximum))
        bottom = top + row_h * len(bars)
        body.append(
            f'<line x1="{_n(tx)}" x2="{_n(tx)}" y1="{top}" y2="{_n(bottom)}" class="sdc-target" '
            f'stroke="{BAD}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        if target_label:
            body.append(
                _text(tx, bottom + 13, target_label, anchor="middle", cls="sdc-target-label")
            )
    return _svg(width, height, title, desc, body)


def column_chart(columns, *, title, desc, width=380, height=220):
    """Vertical columns: (label, count, text) — e.g. answers per score 5…1."""
    left, right, top, bottom = 10, 10, 22, 26
    maximum = max([c for _l, c, _t in columns] + [1])
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(columns), 1)
    body = [
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'class="sdc-grid" stroke="{MUTED}"/>'
    ]
    for i, (label, count, text) in enumerate(columns):
        h = plot_h * count / maximum
        x0 = left + step * i + step * 0.18
        body.append(
            f'<rect x="{_n(x0)}" y="{_n(top + plot_h - h)}" width="{_n(step * 0.64)}" '
            f'height="{_n(h)}" rx="2" class="sdc-bar" fill="{NEUTRAL}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        mid = left + step * (i + 0.5)
        body.append(_text(mid, top + plot_h - h - 6, text, anchor="middle", cls="sdc-value"))
        body.append(_text(mid, height - 8, label, anchor="middle"))
    return _svg(width, height, title, desc, body)

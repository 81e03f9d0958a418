"""The staffing chart: scheduled people (columns) against the agents needed (a step line)
per 30-minute interval; under-staffed intervals get a red band. Server-rendered SVG in the
style of callbacks.charts (no JavaScript, no CDN; a table repeats every figure)."""

from django.utils.html import escape

from callbacks.charts import BAD, MUTED, NEUTRAL, _n, _svg, _text


def staffing_chart(points, *, title, desc, legend, width=960, height=300):
    """`points`: (label, needed, scheduled) per interval; `legend`: (needed, scheduled,
    under-staffed) labels."""
    left, right, top, bottom = 36, 12, 30, 34
    maximum = max([max(n, s) for _l, n, s in points] + [1])
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points), 1)

    def y(value):
        return top + plot_h * (1 - value / maximum)

    body = []
    tick_step = max(1, -(-maximum // 5))
    for tick in range(0, maximum + 1, tick_step):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(tick))}" y2="{_n(y(tick))}" '
            f'class="sdc-grid" stroke="{MUTED}" stroke-opacity="0.3"/>'
        )
        body.append(_text(left - 6, y(tick) + 4, str(tick), anchor="end"))
    line = []
    for i, (label, needed, scheduled) in enumerate(points):
        x0 = left + step * i
        if scheduled < needed:
            body.append(
                f'<rect x="{_n(x0)}" y="{top}" width="{_n(step)}" height="{_n(plot_h)}" '
                f'class="wf-under-band" fill="{BAD}" fill-opacity="0.15"/>'
            )
        h = plot_h * scheduled / maximum
        body.append(
            f'<rect x="{_n(x0 + step * 0.15)}" y="{_n(top + plot_h - h)}" width="{_n(step * 0.7)}" '
            f'height="{_n(h)}" class="sdc-bar" fill="{NEUTRAL}">'
            f"<title>{escape(label)}: {escape(legend[1])} {scheduled}, {escape(legend[0])} {needed}"
            f"</title></rect>"
        )
        line += [f"{_n(x0)},{_n(y(needed))}", f"{_n(x0 + step)},{_n(y(needed))}"]
        if i % 4 == 0:
            body.append(_text(x0 + step / 2, height - bottom + 16, label, anchor="middle"))
    body.append(
        f'<polyline points="{" ".join(line)}" fill="none" class="wf-need" stroke="{BAD}" '
        f'stroke-width="2"/>'
    )
    # Legend.
    body.append(f'<rect x="{left}" y="6" width="12" height="12" fill="{NEUTRAL}"/>')
    body.append(_text(left + 16, 16, legend[1]))
    body.append(
        f'<line x1="{left + 150}" x2="{left + 170}" y1="12" y2="12" stroke="{BAD}" stroke-width="2"/>'
    )
    body.append(_text(left + 174, 16, legend[0]))
    body.append(
        f'<rect x="{left + 330}" y="6" width="12" height="12" fill="{BAD}" fill-opacity="0.15"/>'
    )
    body.append(_text(left + 346, 16, legend[2]))
    return _svg(width, height, title, desc, body)

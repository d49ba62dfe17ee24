"""Inline SVG charts for the perf reports: horizontal bars and lines, each with axes, ticks, gridlines and threshold
lines (the 200 ms SLA and the scenario's own). No JavaScript and no network: the report opens anywhere."""
import html
import math

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e"]
CHAR_W = 6.6          # average width of a 12px system-ui character
FONT = "font-family:system-ui,sans-serif"


def esc(text):
    return html.escape(str(text), quote=True)


def color(i):
    return PALETTE[i % len(PALETTE)]


def nice_ticks(top, count=5):
    """Round tick values from 0 to at least `top` (1, 2, 2.5 or 5 times a power of ten)."""
    if not top or top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks, v = [], 0.0
    while v < top + step * 0.999:
        ticks.append(round(v, 10))
        v += step
        if len(ticks) > 12:
            break
    return ticks


def fmt_tick(v):
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def shorten(text, chars):
    text = str(text)
    return text if len(text) <= chars else text[: chars - 1] + "…"


def dash(i):
    """Past the palette's ten colours a line is dashed, so that two series never look the same."""
    return "" if i < len(PALETTE) else ' stroke-dasharray="6 3"'


def legend(names, x0, y0, width, lines=False):
    """Legend entries flowing left to right, wrapping at `width`; returns (svg, height). Lines get a line sample
    (dashed like its line), bars a square."""
    parts, x, y = [], x0, y0
    for i, name in enumerate(names):
        w = 22 + CHAR_W * len(str(name)) + 14
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + 18
        sample = (f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 14:.0f}" y2="{y - 4}" stroke="{color(i)}" stroke-width="3"{dash(i)}/>' if lines
                  else f'<rect x="{x:.0f}" y="{y - 10}" width="12" height="12" fill="{color(i)}"/>')
        parts.append(sample + f'<text x="{x + 17:.0f}" y="{y}" class="l">{esc(name)}</text>')
        x += w
    return "".join(parts), (y - y0) + 18


def wrap(text, width, char_w=6.2):
    """A note as lines that fit `width` pixels (11px italic), broken at spaces."""
    limit, lines, current = max(20, int(width / char_w)), [], ""
    for word in str(text).split(" "):
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return lines + ([current] if current else [])


def note_svg(note, y, width):
    return "".join(f'<text x="0" y="{y + 14 * k}" class="n">{esc(line)}</text>' for k, line in enumerate(wrap(note, width)))


def threshold_marks(thresholds, scale, y_top, y_bottom, horizontal=False, x_left=0, x_right=0):
    """Dashed red lines; on bar charts their labels sit above the plot, on alternate rows so neighbours do not collide."""
    parts = []
    for k, (value, text) in enumerate(sorted(thresholds or [])):
        pos = scale(value)
        if horizontal:
            parts.append(f'<line x1="{x_left}" y1="{pos:.1f}" x2="{x_right}" y2="{pos:.1f}" class="thr"/>'
                         f'<text x="{x_right - 4}" y="{pos - 4:.1f}" text-anchor="end" class="thl">{esc(text)}</text>')
        else:
            parts.append(f'<line x1="{pos:.1f}" y1="{y_top - 4 - 12 * (k % 2)}" x2="{pos:.1f}" y2="{y_bottom}" class="thr"/>'
                         f'<text x="{pos + 3:.1f}" y="{y_top - 6 - 12 * (k % 2)}" class="thl">{esc(text)}</text>')
    return "".join(parts)


def on_scale(thresholds, data_max):
    """Thresholds worth drawing to scale: those within 4x the data (a 200 ms line over 10 ms bars would flatten
    them); the others are named in a note on the chart instead."""
    near = [(v, t) for v, t in thresholds or [] if not data_max or v <= 4 * data_max]
    far = [t for v, t in thresholds or [] if data_max and v > 4 * data_max]
    return near, ("all values far below: " + ", ".join(far) + " (off the axis)") if far else ""


def bar_chart(title, unit, categories, series, thresholds=None, note=None, width=900):
    """Horizontal grouped bars: one group per category (labelled on the left, never cut), one bar per series
    (name, values). An x axis with ticks and gridlines; thresholds are (value, text) vertical lines."""
    values = [v for _, vals in series for v in vals if isinstance(v, (int, float))]
    thresholds, off_scale = on_scale(thresholds, max(values + [0]))
    top = max(values + [t for t, _ in thresholds] + [0])
    ticks = nice_ticks(top * 1.05 if top else 1)
    top = ticks[-1]
    label_chars = min(48, max([len(str(c)) for c in categories] + [4]))
    label_w = int(CHAR_W * label_chars) + 16
    plot_x, plot_w = label_w, width - label_w - 60
    bar, gap = (14 if len(series) > 1 else 18), 10
    group_h = bar * len(series) + gap
    leg_svg, leg_h = legend([n for n, _ in series], 0, 40, width) if len(series) > 1 else ("", 0)
    y0 = 34 + leg_h + (40 if thresholds else 14)
    plot_h = group_h * len(categories)
    note_h = 14 * len(wrap(note, width)) + 2 if note else 0
    height = y0 + plot_h + 44 + note_h
    scale = lambda v: plot_x + plot_w * (v / top if top else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{esc(title)}">',
             f'<text x="0" y="20" class="t">{esc(title)}</text>', leg_svg]
    for t in ticks:
        x = scale(t)
        parts.append(f'<line x1="{x:.1f}" y1="{y0 - 4}" x2="{x:.1f}" y2="{y0 + plot_h}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{y0 + plot_h + 14}" text-anchor="middle" class="v">{fmt_tick(t)}</text>')
    for c, category in enumerate(categories):
        gy = y0 + c * group_h
        parts.append(f'<text x="{label_w - 8}" y="{gy + (group_h - gap) / 2 + 4:.1f}" text-anchor="end" class="l">'
                     f'<title>{esc(category)}</title>{esc(shorten(category, label_chars))}</text>')
        for i, (name, vals) in enumerate(series):
            v = vals[c] if c < len(vals) else None
            if not isinstance(v, (int, float)):
                continue
            w = max(1.0, scale(v) - plot_x)
            y = gy + i * bar
            parts.append(f'<rect x="{plot_x}" y="{y}" width="{w:.1f}" height="{bar - 3}" fill="{color(i)}"><title>{esc(category)} · {esc(name)}: {v} {esc(unit)}</title></rect>'
                         f'<text x="{plot_x + w + 4:.1f}" y="{y + bar - 5}" class="v">{v:g}</text>')
    parts.append(f'<line x1="{plot_x}" y1="{y0 - 4}" x2="{plot_x}" y2="{y0 + plot_h}" class="axis"/>'
                 f'<line x1="{plot_x}" y1="{y0 + plot_h}" x2="{plot_x + plot_w}" y2="{y0 + plot_h}" class="axis"/>'
                 f'<text x="{plot_x + plot_w / 2:.0f}" y="{y0 + plot_h + 32}" text-anchor="middle" class="l">{esc(unit)}</text>')
    parts.append(threshold_marks(thresholds, scale, y0 - 4, y0 + plot_h))
    if off_scale:
        parts.append(f'<text x="{plot_x + plot_w}" y="{y0 - 8}" text-anchor="end" class="thl">{esc(off_scale)}</text>')
    if note:
        parts.append(note_svg(note, y0 + plot_h + 44 + 10, width))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title, x_label, unit, lines, thresholds=None, x_labels=None, note=None, width=900, height=300):
    """Lines over a shared x axis. lines: (name, xs, ys) with None for gaps. x_labels: {x: text} for a categorical
    axis (e.g. commits); otherwise numeric ticks. Thresholds are (value, text) horizontal lines."""
    xs_all = [x for _, xs, _ in lines for x in xs]
    ys_all = [y for _, _, ys in lines for y in ys if isinstance(y, (int, float))]
    if not xs_all or not ys_all:
        return ""
    x_min, x_max = min(xs_all), max(xs_all)
    if x_max == x_min:
        x_max = x_min + 1
    thresholds, off_scale = on_scale(thresholds, max(ys_all))
    y_ticks = nice_ticks(max(ys_all + [t for t, _ in thresholds]) * 1.05)
    y_top = y_ticks[-1]
    leg_svg, leg_h = legend([n for n, _, _ in lines], 0, 40, width, lines=True)
    plot_x, plot_y = 60, 34 + leg_h + 12
    plot_w, plot_h = width - plot_x - 44, height - 60
    total_h = plot_y + plot_h + 46 + (14 * len(wrap(note, width)) + 2 if note else 0)
    sx = lambda x: plot_x + plot_w * (x - x_min) / (x_max - x_min)
    sy = lambda y: plot_y + plot_h - plot_h * (y / y_top if y_top else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" role="img" aria-label="{esc(title)}">',
             f'<text x="0" y="20" class="t">{esc(title)}</text>', leg_svg]
    for t in y_ticks:
        y = sy(t)
        parts.append(f'<line x1="{plot_x}" y1="{y:.1f}" x2="{plot_x + plot_w}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{plot_x - 6}" y="{y + 4:.1f}" text-anchor="end" class="v">{fmt_tick(t)}</text>')
    if x_labels:
        every = max(1, math.ceil(len(x_labels) / 12))
        for k, (x, text) in enumerate(sorted(x_labels.items())):
            if k % every:
                continue
            parts.append(f'<line x1="{sx(x):.1f}" y1="{plot_y}" x2="{sx(x):.1f}" y2="{plot_y + plot_h}" class="grid"/>'
                         f'<text x="{sx(x):.1f}" y="{plot_y + plot_h + 14}" text-anchor="middle" class="v">{esc(shorten(text, 14))}</text>')
    else:
        for t in nice_ticks(x_max - x_min, 8):
            x = x_min + t
            if x > x_max:
                break
            parts.append(f'<line x1="{sx(x):.1f}" y1="{plot_y}" x2="{sx(x):.1f}" y2="{plot_y + plot_h}" class="grid"/>'
                         f'<text x="{sx(x):.1f}" y="{plot_y + plot_h + 14}" text-anchor="middle" class="v">{fmt_tick(x)}</text>')
    for i, (name, xs, ys) in enumerate(lines):
        segments, current = [], []
        for x, y in zip(xs, ys):
            if isinstance(y, (int, float)):
                current.append(f"{sx(x):.1f},{sy(y):.1f}")
            elif current:
                segments.append(current)
                current = []
        if current:
            segments.append(current)
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color(i)}"/>')
            else:
                parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color(i)}" stroke-width="1.6"{dash(i)}><title>{esc(name)}</title></polyline>')
        if x_labels:
            for x, y in zip(xs, ys):
                if isinstance(y, (int, float)):
                    parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color(i)}"><title>{esc(name)} {esc(x_labels.get(x, x))}: {y} {esc(unit)}</title></circle>')
    parts.append(f'<line x1="{plot_x}" y1="{plot_y}" x2="{plot_x}" y2="{plot_y + plot_h}" class="axis"/>'
                 f'<line x1="{plot_x}" y1="{plot_y + plot_h}" x2="{plot_x + plot_w}" y2="{plot_y + plot_h}" class="axis"/>'
                 f'<text x="{plot_x + plot_w / 2:.0f}" y="{plot_y + plot_h + 32}" text-anchor="middle" class="l">{esc(x_label)}</text>'
                 f'<text x="12" y="{plot_y + plot_h / 2:.0f}" transform="rotate(-90 12 {plot_y + plot_h / 2:.0f})" text-anchor="middle" class="l">{esc(unit)}</text>')
    parts.append(threshold_marks(thresholds, sy, 0, 0, horizontal=True, x_left=plot_x, x_right=plot_x + plot_w))
    if off_scale:
        parts.append(f'<text x="{plot_x + plot_w}" y="{plot_y - 4}" text-anchor="end" class="thl">{esc(off_scale)}</text>')
    if note:
        parts.append(note_svg(note, plot_y + plot_h + 46 + 10, width))
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
svg { display: block; margin: 12px 0 28px; max-width: 100%; height: auto; }
svg .t { font: 600 15px system-ui, sans-serif; } svg .l { font: 12px system-ui, sans-serif; fill: #222; }
svg .v { font: 11px system-ui, sans-serif; fill: #555; } svg .n { font: italic 11px system-ui, sans-serif; fill: #666; }
svg .grid { stroke: #e6e6e6; } svg .axis { stroke: #888; }
svg .thr { stroke: #c62828; stroke-width: 1.4; stroke-dasharray: 6 4; } svg .thl { font: 600 11px system-ui, sans-serif; fill: #c62828; }
svg .v, svg .thl { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
"""

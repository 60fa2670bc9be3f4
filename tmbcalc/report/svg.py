"""Inline SVG figures for the HTML reports (no JavaScript, no network, no plotting library).

Every text and attribute value goes through :func:`markupsafe.escape`, so sample names, file
names and gene names from result files cannot inject markup.  Marks that stand for a number
carry it in a ``data-value`` attribute (exact, unrounded) so tests can check that what is drawn
is what the result file says.  Scales: TMB axes use ``log10(1 + x)`` (0 stays visible).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup, escape

FONT = 11
COLORS = {"bar": "#4a78b5", "accent": "#c0392b", "muted": "#9aa5b1", "ok": "#2e8b57", "zone": "#f2c94c",
          "normal": "#7f8c8d", "tumor": "#c0392b", "band": "#b7cbe6"}


def _attrs(kw: dict[str, Any]) -> str:
    out = []
    for k, v in kw.items():
        if v is None:
            continue
        name = k.rstrip("_").replace("_", "-")
        if isinstance(v, float):
            v = repr(v) if name.startswith("data-") else f"{v:.2f}"   # data-*: exact values
        out.append(f' {name}="{escape(str(v))}"')
    return "".join(out)


class Svg:
    """A tiny SVG builder: shapes and text appended in order, rendered as safe Markup."""

    def __init__(self, width: int, height: int, label: str) -> None:
        self.w, self.h, self.label = width, height, label
        self.items: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, **kw: Any) -> None:
        self.items.append(f"<rect{_attrs(dict(x=x, y=y, width=max(w, 0.0), height=max(h, 0.0), fill=fill, **kw))}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#333", **kw: Any) -> None:
        self.items.append(f"<line{_attrs(dict(x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, **kw))}/>")

    def circle(self, cx: float, cy: float, r: float, fill: str, **kw: Any) -> None:
        self.items.append(f"<circle{_attrs(dict(cx=cx, cy=cy, r=r, fill=fill, **kw))}/>")

    def path(self, d: str, stroke: str = "none", fill: str = "none", **kw: Any) -> None:
        self.items.append(f"<path{_attrs(dict(d=d, stroke=stroke, fill=fill, **kw))}/>")

    def text(self, x: float, y: float, s: Any, anchor: str = "start", size: int = FONT, **kw: Any) -> None:
        self.items.append(f"<text{_attrs(dict(x=x, y=y, text_anchor=anchor, font_size=size, **kw))}>"
                          f"{escape(str(s))}</text>")

    def title(self, s: Any) -> None:
        """A hover tooltip for the preceding element group (escaped)."""
        self.items.append(f"<title>{escape(str(s))}</title>")

    def render(self) -> Markup:
        body = "".join(self.items)
        return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.w} {self.h}" width="{self.w}" '
                      f'height="{self.h}" role="img" aria-label="{escape(self.label)}" '
                      f'font-family="DejaVu Sans, Arial, sans-serif">{body}</svg>')


def fmt(v: float | None, nd: int = 2) -> str:
    """Fixed decimals; '-' for missing/non-finite."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{nd}f}"


def log_scale(vmax: float, x0: float, x1: float) -> Callable[[float], float]:
    top = math.log10(1 + max(vmax, 1e-9))
    return lambda v: x0 + (x1 - x0) * math.log10(1 + max(v, 0.0)) / top


def _log_ticks(vmax: float) -> list[float]:
    ticks = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
    return [t for t in ticks if t <= vmax * 1.0001]


def _axis(svg: Svg, sx: Callable[[float], float], vmax: float, y: float, unit: str) -> None:
    svg.line(sx(0), y, sx(vmax), y, stroke="#555")
    for t in _log_ticks(vmax):
        svg.line(sx(t), y, sx(t), y + 4, stroke="#555")
        svg.text(sx(t), y + 15, f"{t:g}", anchor="middle", size=9)
    svg.text(sx(vmax), y + 28, unit, anchor="end", size=9, fill="#555")


def tmb_scale(tmb: float, low: float, high: float, cuts: Sequence[float],
              zones: dict[str, tuple[float, float]] | None = None, label: str = "TMB") -> Markup:
    """TMB with its 95% interval on a log(1+x) axis, the cut points and any equivocal zones."""
    vmax = max(100.0, high * 1.3, *(c * 1.5 for c in cuts))
    svg = Svg(640, 92, f"{label} {fmt(tmb)} mut/Mb, 95% CI {fmt(low)} to {fmt(high)}")
    sx = log_scale(vmax, 20, 620)
    for name, (a, b) in (zones or {}).items():
        svg.rect(sx(a), 14, sx(b) - sx(a), 40, COLORS["zone"], opacity=0.45, class_="zone", data_cut=name,
                 data_low=a, data_high=b)
        svg.title(f"equivocal zone ({name}): {fmt(a)} to {fmt(b)} mut/Mb")
    for c in cuts:
        svg.line(sx(c), 8, sx(c), 60, stroke=COLORS["accent"], stroke_dasharray="4 3", class_="cut", data_value=c)
        svg.text(sx(c) + 3, 12, f"cut {c:g}", size=9, fill=COLORS["accent"])
    svg.line(sx(low), 34, sx(high), 34, stroke="#222", stroke_width=3, class_="ci", data_low=low, data_high=high)
    for v in (low, high):
        svg.line(sx(v), 27, sx(v), 41, stroke="#222", stroke_width=2)
    svg.circle(sx(tmb), 34, 6, COLORS["bar"], stroke="#fff", class_="point", data_value=tmb)
    svg.title(f"{label} {fmt(tmb)} mut/Mb (95% CI {fmt(low)}-{fmt(high)})")
    _axis(svg, sx, vmax, 62, "mut/Mb (log scale)")
    return svg.render()


def distribution(rows: list[dict[str, Any]], value: float | None, highlight: str | None,
                 value_label: str) -> Markup:
    """One box per tumour type (whiskers 5-95th, box 25-75th percentile, median tick) and the
    sample's value as a vertical line.  ``rows``: {code, n, percentiles (101 values)}."""
    vmax = max([r["percentiles"][95] for r in rows] + [value or 0, 20.0]) * 1.15
    h = 30 + 14 * len(rows) + 30
    svg = Svg(640, h, f"TCGA exome TMB by tumour type; {value_label} {fmt(value)}")
    sx = log_scale(vmax, 90, 620)
    for i, r in enumerate(rows):
        y = 24 + 14 * i
        p = r["percentiles"]
        hl = r["code"] == highlight
        color = COLORS["accent"] if hl else COLORS["bar"]
        svg.text(84, y + 9, f"{r['code']} ({r['n']})", anchor="end", size=9,
                 font_weight="bold" if hl else None)
        svg.line(sx(p[5]), y + 5, sx(p[95]), y + 5, stroke=color)
        svg.rect(sx(p[25]), y + 1, sx(p[75]) - sx(p[25]), 9, color, opacity=0.55 if not hl else 0.85,
                 class_="box", data_code=r["code"], data_median=p[50])
        svg.title(f"{r['code']}: n={r['n']}, median {fmt(p[50])}, IQR {fmt(p[25])}-{fmt(p[75])} mut/Mb")
        svg.line(sx(p[50]), y, sx(p[50]), y + 11, stroke="#111", stroke_width=2)
    if value is not None:
        svg.line(sx(value), 14, sx(value), h - 30, stroke=COLORS["accent"], stroke_width=2,
                 class_="sample-line", data_value=value)
        svg.text(sx(value) + 3, 12, f"{value_label} {fmt(value)}", size=10, fill=COLORS["accent"])
    _axis(svg, sx, vmax, h - 28, "mut/Mb (log scale)")
    return svg.render()


def waterfall(start: int, steps: list[tuple[str, int]], end: int, start_label: str = "records",
              end_label: str = "eligible") -> Markup:
    """Horizontal waterfall: input records, minus each rule's first-failure count, = eligible."""
    n = len(steps) + 2
    svg = Svg(640, 20 + 20 * n, f"{start} {start_label} to {end} {end_label}")
    scale = 400 / max(start, 1)
    x0 = 190
    svg.text(x0 - 6, 28, start_label, anchor="end")
    svg.rect(x0, 16, start * scale, 15, COLORS["muted"], class_="wf-start", data_value=start)
    svg.text(x0 + start * scale + 4, 28, start)
    left = start
    for i, (name, count) in enumerate(steps):
        y = 36 + 20 * i
        left -= count
        svg.text(x0 - 6, y + 12, f"- {name}", anchor="end")
        svg.rect(x0 + left * scale, y, count * scale, 15, COLORS["accent"], class_="wf-step", data_rule=name,
                 data_value=count)
        svg.text(x0 + (left + count) * scale + 4, y + 12, count)
    y = 36 + 20 * len(steps)
    svg.text(x0 - 6, y + 12, f"= {end_label}", anchor="end", font_weight="bold")
    svg.rect(x0, y, end * scale, 15, COLORS["ok"], class_="wf-end", data_value=end)
    svg.text(x0 + end * scale + 4, y + 12, end, font_weight="bold")
    return svg.render()


def hbars(items: list[tuple[str, float]], label: str, unit: str = "", nd: int = 0, cls: str = "bar") -> Markup:
    """Plain horizontal bars with value labels (consequence mix, Mb per denominator stage, ...)."""
    svg = Svg(640, 16 + 20 * max(len(items), 1), label)
    vmax = max([v for _, v in items] + [1e-12])
    for i, (name, v) in enumerate(items):
        y = 8 + 20 * i
        svg.text(184, y + 12, name, anchor="end")
        svg.rect(190, y, 360 * v / vmax, 15, COLORS["bar"], class_=cls, data_key=name, data_value=v)
        svg.text(194 + 360 * v / vmax, y + 12, f"{v:.{nd}f}{unit}")
    return svg.render()


def histogram(counts: list[int], lo: float, hi: float, label: str, xlabel: str) -> Markup:
    """Vertical bars of equal-width bins between ``lo`` and ``hi``."""
    svg = Svg(640, 170, label)
    n = len(counts)
    top = max(counts + [1])
    bw = 580 / n
    for i, c in enumerate(counts):
        hgt = 120 * c / top
        svg.rect(40 + i * bw + 1, 130 - hgt, bw - 2, hgt, COLORS["bar"], class_="hist-bar", data_value=c,
                 data_bin=i)
        svg.title(f"{lo + (hi - lo) * i / n:.2f}-{lo + (hi - lo) * (i + 1) / n:.2f}: {c}")
        if c:
            svg.text(40 + (i + 0.5) * bw, 126 - hgt, c, anchor="middle", size=9)
    svg.line(40, 130, 620, 130, stroke="#555")
    for k in range(0, n + 1, max(1, n // 10)):
        svg.text(40 + k * bw, 144, f"{lo + (hi - lo) * k / n:.1f}", anchor="middle", size=9)
    svg.text(620, 160, xlabel, anchor="end", size=9, fill="#555")
    return svg.render()


def score_scale(score: float | None, cutoff: float | None, band: float | None, label: str) -> Markup:
    """MSI score (percent of loci) on 0-100 with the cut-off and its indeterminate band."""
    svg = Svg(640, 70, f"{label} {fmt(score)}")
    sx = (lambda v: 20 + 6 * max(0.0, min(v, 100.0)))
    if cutoff is not None and band:
        svg.rect(sx(cutoff - band), 10, sx(cutoff + band) - sx(cutoff - band), 30, COLORS["zone"], opacity=0.45,
                 class_="zone")
    if cutoff is not None:
        svg.line(sx(cutoff), 6, sx(cutoff), 44, stroke=COLORS["accent"], stroke_dasharray="4 3", class_="cut",
                 data_value=cutoff)
        svg.text(sx(cutoff) + 3, 10, f"cut-off {cutoff:g}", size=9, fill=COLORS["accent"])
    if score is not None:
        svg.circle(sx(score), 25, 6, COLORS["bar"], stroke="#fff", class_="point", data_value=score)
    svg.line(sx(0), 46, sx(100), 46, stroke="#555")
    for t in range(0, 101, 10):
        svg.text(sx(t), 60, t, anchor="middle", size=9)
    return svg.render()


def length_hist(normal: list[int] | None, tumor: list[int] | None, ref_copies: int, title: str,
                locus: str = "") -> Markup:
    """Tumor (red) vs normal (grey) read fractions per repeat length (whole copies), around the
    reference length; counts are normalised to fractions within each sample."""
    svg = Svg(300, 130, title)
    tumor, normal = tumor or [], normal or []
    used = [i for i, c in enumerate(tumor) if c] + [i for i, c in enumerate(normal) if c] + [ref_copies - 1]
    a, b = max(min(used) - 1, 0), max(used) + 2
    span = max(b - a, 1)
    bw = 260 / span
    svg.text(150, 12, title, anchor="middle", size=10)
    for series, color, off, name in ((normal, COLORS["normal"], 0, "normal"), (tumor, COLORS["tumor"], 0.5, "tumor")):
        tot = sum(series) or 1
        for i in range(a, min(b, len(series))):
            f = series[i] / tot
            svg.rect(20 + (i - a + off * 0.9) * bw, 100 - 80 * f, bw * 0.45, 80 * f, color,
                     class_="len-bar", data_value=series[i], data_copies=i + 1, data_series=name,
                     data_locus=locus)
    x_ref = 20 + (ref_copies - 1 - a + 0.45) * bw
    svg.line(x_ref, 16, x_ref, 100, stroke="#111", stroke_dasharray="2 2")
    svg.line(20, 100, 280, 100, stroke="#555")
    svg.text(20, 114, f"{a + 1} copies", size=9)
    svg.text(280, 114, f"{b} copies", anchor="end", size=9)
    svg.text(150, 126, "grey normal / baseline, red tumor; dashed = reference", anchor="middle", size=8, fill="#555")
    return svg.render()


def curve(xs: list[float], ys: list[float], band: tuple[list[float], list[float], list[float]] | None,
          point: tuple[float, float, float, float] | None, xlabel: str, ylabel: str) -> Markup:
    """A calibration curve (log(1+x) axes) with its band and one sample (x, y, y_low, y_high)."""
    vmax = max(max(xs + ys), *(point[:2] if point else (0,)), 20.0)
    svg = Svg(420, 320, f"calibration curve {xlabel} to {ylabel}")
    sx, sy0 = log_scale(vmax, 50, 400), log_scale(vmax, 0, 260)
    sy = (lambda v: 280 - sy0(v))
    if band is not None:
        bx, lo, hi = band
        d = "M" + " L".join(f"{sx(x):.1f},{sy(v):.1f}" for x, v in zip(bx, hi))
        d += " L" + " L".join(f"{sx(x):.1f},{sy(v):.1f}" for x, v in zip(reversed(bx), reversed(lo))) + " Z"
        svg.path(d, fill=COLORS["band"], opacity=0.7)
    svg.path("M" + " L".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys)), stroke=COLORS["bar"],
             stroke_width=2, class_="model-curve")
    svg.line(sx(0), sy(0), sx(vmax), sy(vmax), stroke="#aaa", stroke_dasharray="3 3")
    if point is not None:
        x, y, lo, hi = point
        svg.line(sx(x), sy(lo), sx(x), sy(hi), stroke=COLORS["accent"], stroke_width=2, class_="pi",
                 data_low=lo, data_high=hi)
        svg.circle(sx(x), sy(y), 5, COLORS["accent"], class_="point", data_x=x, data_value=y)
    svg.line(sx(0), 280, sx(vmax), 280, stroke="#555")
    svg.line(50, sy(0), 50, sy(vmax), stroke="#555")
    for t in _log_ticks(vmax):
        svg.text(sx(t), 294, f"{t:g}", anchor="middle", size=9)
        svg.text(45, sy(t) + 3, f"{t:g}", anchor="end", size=9)
    svg.text(400, 312, xlabel, anchor="end", size=9, fill="#555")
    svg.text(52, 12, ylabel, size=9, fill="#555")
    return svg.render()


def strip(values: list[tuple[str, float]], cuts: Sequence[float], label: str, unit: str,
          log: bool = True) -> Markup:
    """Cohort strip plot: one dot per sample (ascending), cut lines; hover shows the sample."""
    vals = sorted(values, key=lambda t: t[1])
    vmax = max([v for _, v in vals] + list(cuts) + [20.0 if log else 100.0]) * 1.1
    svg = Svg(640, 110, label)
    sx = log_scale(vmax, 20, 620) if log else (lambda v: 20 + 600 * v / vmax)
    for c in cuts:
        svg.line(sx(c), 8, sx(c), 70, stroke=COLORS["accent"], stroke_dasharray="4 3", class_="cut", data_value=c)
    for i, (name, v) in enumerate(vals):
        svg.circle(sx(v), 30 + (i % 5) * 8, 4, COLORS["bar"], opacity=0.8, class_="dot", data_value=v,
                   data_sample=name)
        svg.title(f"{name}: {fmt(v)}")
    if log:
        _axis(svg, sx, vmax, 74, unit)
    else:
        svg.line(20, 74, 620, 74, stroke="#555")
        for t in range(0, int(vmax) + 1, max(10, int(vmax) // 10 // 10 * 10 or 10)):
            svg.text(sx(t), 88, t, anchor="middle", size=9)
        svg.text(620, 102, unit, anchor="end", size=9, fill="#555")
    return svg.render()


__all__ = ["Svg", "fmt", "tmb_scale", "distribution", "waterfall", "hbars", "histogram", "score_scale",
           "length_hist", "curve", "strip"]

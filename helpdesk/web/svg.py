"""Charts for the reports page, drawn on the server as inline SVG: no script, no image
library, readable at a phone's width (they scale), every bar a link to its tickets."""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "Segment", "bars", "stacked_bars"]

_WIDTH = 640
_HEIGHT = 220
_LEFT = 36
_BOTTOM = 28
_TOP = 10


@dataclass(frozen=True)
class Segment:
    value: int
    css: str  # a class of console.css: the colour, kept out of the markup
    title: str  # what a pointer hovering it, and a screen reader, are told


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]
    href: str | None = None

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


def stacked_bars(items: Sequence[Bar], title: str) -> Markup:
    """Vertical bars, one per item, segments stacked bottom up."""
    if not items:
        return Markup("")
    top = max((b.total for b in items), default=0) or 1
    plot_w = _WIDTH - _LEFT - 8
    plot_h = _HEIGHT - _BOTTOM - _TOP
    step = plot_w / len(items)
    width = min(max(step * 0.7, 1.0), 56.0)  # one week alone is a bar, not a wall
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_WIDTH - 8}" '
        f'y2="{_TOP + plot_h}"/>',
        f'<text class="tick" x="{_LEFT - 4}" y="{_TOP + 8}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{_LEFT - 4}" y="{_TOP + plot_h}" text-anchor="end">0</text>',
    ]
    label_every = max(1, round(len(items) / 8))
    for i, bar in enumerate(items):
        x = _LEFT + i * step + (step - width) / 2
        y: float = _TOP + plot_h
        shapes = []
        for segment in bar.segments:
            if segment.value <= 0:
                continue
            h = plot_h * segment.value / top
            y -= h
            shapes.append(
                f'<rect class="{escape(segment.css)}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{width:.1f}" height="{h:.1f}"><title>{escape(bar.label)}: '
                f"{escape(segment.title)} {segment.value}</title></rect>"
            )
        body = "".join(shapes)
        if bar.href and body:
            body = f'<a href="{escape(bar.href)}">{body}</a>'
        parts.append(body)
        if i % label_every == 0:
            parts.append(
                f'<text class="tick" x="{x + width / 2:.1f}" y="{_HEIGHT - 10}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # safe: every text above is escaped


def bars(items: Sequence[tuple[str, int, str | None]], title: str, css: str = "bar") -> Markup:
    """Horizontal bars: (label, value, link) each, biggest as long as the chart."""
    if not items:
        return Markup("")
    top = max(v for _, v, _ in items) or 1
    row = 24
    height = row * len(items) + 8
    label_w = 150
    plot_w = _WIDTH - label_w - 48
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, value, href) in enumerate(items):
        y = 4 + i * row
        w = plot_w * value / top
        shape = (
            f'<text class="tick" x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(label[:24])}</text>"
            f'<rect class="{escape(css)}" x="{label_w}" y="{y + 3}" width="{w:.1f}" '
            f'height="{row - 8}"><title>{escape(label)}: {value}</title></rect>'
            f'<text class="tick" x="{label_w + w + 4:.1f}" y="{y + 15}">{value}</text>'
        )
        parts.append(f'<a href="{escape(href)}">{shape}</a>' if href else shape)
    parts.append("</svg>")
    return Markup("".join(parts))  # safe: every text above is escaped

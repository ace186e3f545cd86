"""Charts as SVG, drawn by pygal (pinned in constraints.txt), for the console and the public release.

Why pygal: it draws SVG on the server, so the same library serves the console and the files of a
release, the page needs no charting script (it works under a strict CSP with nothing loaded from
elsewhere) and the release needs no browser; it lays out its own titles, axis titles and legend, so no
label is cut; it is pure Python, with no compiled dependency. Its tooltip script, which it would load
from a CDN, is switched off (``js=[]``): an SVG written here refers to nothing outside itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
# Blues a reader with a colour-vision deficiency tells apart by lightness; text at 7:1 on white.
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1a1a1a", foreground_strong="#1a1a1a",
    foreground_subtle="#595959", colors=("#0b4f8a", "#4a90c8", "#9cc3e4", "#8a4b00", "#3d3d3d"),
    font_family="system-ui, sans-serif", title_font_size=18, label_font_size=13, major_label_font_size=13,
    legend_font_size=14, value_font_size=12,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Chart:
    """What a bar chart shows, in one language: every word on it is given here."""

    title: str
    x_title: str
    y_title: str
    categories: Sequence[str]
    series: Sequence[tuple[str, Sequence[int | None]]]
    """Each series' legend entry and its value per category; None draws no bar (suppressed)."""


def bar_chart(chart: Chart, width: int = 960, height: int = 520) -> str:
    """The chart as a standalone SVG document, text kept as text."""
    drawing = pygal.Bar(
        width=width, height=height, style=STYLE, js=[], disable_xml_declaration=False, title=chart.title,
        x_title=chart.x_title, y_title=chart.y_title, x_label_rotation=30, truncate_label=-1,
        truncate_legend=-1, legend_at_bottom=True, legend_at_bottom_columns=min(4, max(1, len(chart.series))),
        print_values=False, show_minor_y_labels=False, min_scale=4, max_scale=8, include_x_axis=True,
        no_data_text="—",
    )  # fmt: skip
    drawing.x_labels = list(chart.categories)
    for label, values in chart.series:
        drawing.add(label, list(values))
    rendered = drawing.render()
    text = rendered.decode("utf-8") if isinstance(rendered, bytes) else str(rendered)
    # pygal always writes its configuration as an inline script for its tooltips, which are off:
    # a chart here is a picture, with no code in it.
    return SCRIPT.sub("", text)

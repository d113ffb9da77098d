"""The chart for the hub's reports: questions per week by what the helpdesk did with
them, and the share passed to experts. matplotlib without a screen (Agg)."""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must come before pyplot

import matplotlib.pyplot as plt

from helpdesk.services.reports import Week

__all__ = ["weekly_chart"]


def weekly_chart(weeks: Sequence[Week], path: Path, title: str) -> None:
    """Stacked bars: answered from the base, suggestions, escalations; a line: the
    escalation rate, on its own axis."""
    if not weeks:
        raise ValueError("no questions to draw")
    x = list(range(len(weeks)))
    labels = [w.start.strftime("%d %b %y") for w in weeks]
    answered = [w.answered for w in weeks]
    suggested = [w.suggested for w in weeks]
    escalated = [w.escalated for w in weeks]
    figure, axis = plt.subplots(figsize=(11, 5.5), dpi=120)
    try:
        axis.bar(x, answered, color="#2e7d32", label="answered from the base")
        axis.bar(x, suggested, bottom=answered, color="#f9a825", label="suggestions offered")
        bottoms = [a + s for a, s in zip(answered, suggested, strict=True)]
        axis.bar(x, escalated, bottom=bottoms, color="#c62828", label="passed to an expert")
        axis.set_ylabel("questions per week")
        axis.set_title(title)
        step = max(1, len(weeks) // 12)
        axis.set_xticks(x[::step], labels[::step], rotation=30, ha="right")
        rate = axis.twinx()
        rate.plot(
            x,
            [100 * w.rate(w.escalated) for w in weeks],
            color="#212121",
            marker="o",
            markersize=3,
            linewidth=1.5,
            label="% passed to an expert",
        )
        rate.set_ylim(0, 100)
        rate.set_ylabel("% passed to an expert")
        handles = axis.get_legend_handles_labels()[0] + rate.get_legend_handles_labels()[0]
        names = axis.get_legend_handles_labels()[1] + rate.get_legend_handles_labels()[1]
        axis.legend(handles, names, loc="upper left", fontsize="small")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)

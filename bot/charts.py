"""Pictures for the digest, drawn headless with matplotlib (no display on a server).

matplotlib is imported here, lazily, when a chart is drawn: it costs ~44 MiB and 0.4 s of start-up that
a bot which never sends a digest shouldn't pay."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.images import image_maker, recipe


@dataclass(frozen=True)
class Panel:
    """One space: ``grid[day][hour - first_hour]`` is the share of its places taken (0..1)."""

    title: str
    grid: Sequence[Sequence[float]]


def occupancy_panels(panels: Sequence[Panel], day_labels: Sequence[str], first_hour: int, title: str,
                     legend: str, footnote: str = "") -> bytes:
    """One heat map per space (days down, hours across), all on the same 0–100 % scale of that space's
    own places; returns a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    columns = 1 if len(panels) <= 1 else 2
    rows = max(1, math.ceil(len(panels) / columns))
    figure, axes_grid = plt.subplots(rows, columns, figsize=(5.2 * columns + 0.8, 2.3 * rows + 1.0), dpi=100,
                                     squeeze=False, layout="constrained")
    hours = len(panels[0].grid[0]) if panels and panels[0].grid else 0
    image = None
    for index, axes in enumerate(axes_grid.flat):
        if index >= len(panels):
            axes.set_visible(False)
            continue
        panel = panels[index]
        image = axes.imshow(panel.grid, aspect="auto", cmap="YlOrRd", vmin=0, vmax=1, interpolation="nearest")
        axes.set_title(panel.title, fontsize=10, loc="left")
        axes.set_xticks(range(0, hours, 2), [f"{first_hour + h}h" for h in range(0, hours, 2)], fontsize=7)
        axes.set_yticks(range(len(day_labels)), day_labels, fontsize=7)
        axes.set_xticks([h - 0.5 for h in range(1, hours)], minor=True)
        axes.set_yticks([d - 0.5 for d in range(1, len(day_labels))], minor=True)
        axes.grid(which="minor", color="white", linewidth=0.6)
        axes.tick_params(which="minor", length=0)
    figure.suptitle(title, fontsize=12)
    if image is not None:
        colorbar = figure.colorbar(image, ax=axes_grid, fraction=0.025, pad=0.02)
        colorbar.set_label(legend, fontsize=8)
        colorbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        colorbar.ax.tick_params(labelsize=7)
    if footnote:
        figure.supxlabel(footnote, fontsize=8, color="#444444")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


OCCUPANCY = "occupancy"


def occupancy_recipe(panels: Sequence[Panel], day_labels: Sequence[str], first_hour: int, title: str,
                     legend: str, footnote: str = "") -> str:
    """``occupancy_panels`` to draw later (bot.core.images): after the command's transaction, not in it.
    Shares are kept to 4 decimals (a hundredth of a percent: no colour changes)."""
    return recipe(OCCUPANCY, panels=[[p.title, [[round(v, 4) for v in row] for row in p.grid]] for p in panels],
                  day_labels=list(day_labels), first_hour=first_hour, title=title, legend=legend, footnote=footnote)


@image_maker(OCCUPANCY)
def _draw_occupancy(panels: list[list[Any]], **rest: Any) -> bytes:
    return occupancy_panels([Panel(title, grid) for title, grid in panels], **rest)

"""Pictures for the digest, drawn headless with matplotlib (no display on a server)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt


def occupancy_heatmap(
    grid: Sequence[Sequence[float]], day_labels: Sequence[str], first_hour: int, title: str, legend: str
) -> bytes:
    """``grid[day][hour - first_hour]`` is a share of places taken (0..1); returns a PNG."""
    figure, axes = plt.subplots(figsize=(8, 3.6), dpi=100)
    image = axes.imshow(grid, aspect="auto", cmap="YlOrRd", vmin=0, vmax=1)
    hours = len(grid[0]) if grid else 0
    axes.set_xticks(range(hours), [f"{first_hour + h}h" for h in range(hours)], fontsize=8)
    axes.set_yticks(range(len(day_labels)), day_labels, fontsize=9)
    axes.set_title(title, fontsize=11)
    colorbar = figure.colorbar(image, ax=axes, fraction=0.03)
    colorbar.set_label(legend, fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()

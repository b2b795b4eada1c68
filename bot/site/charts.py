"""The dashboard's charts, drawn on the server as PNG (matplotlib, imported only when one is drawn)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from bot.core.i18n import Translator
from bot.site.data import Dashboard

# pyplot is not thread-safe, and two first imports of matplotlib racing in two threads fail: one chart at a time.
_DRAWING = threading.Lock()
F = TypeVar("F", bound=Callable[..., bytes])


def _one_at_a_time(draw: F) -> F:
    @wraps(draw)
    def locked(*args: Any, **kwargs: Any) -> bytes:
        with _DRAWING:
            return draw(*args, **kwargs)

    return locked  # type: ignore[return-value]


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


@_one_at_a_time
def occupancy(d: Dashboard, t: Translator, colours: dict[str, str]) -> bytes:
    """One line per space: its occupancy (share of the seat-time on offer) week after week."""
    from matplotlib.ticker import PercentFormatter

    figure, axes = _figure(7.5, 3.6)
    names = [name for name, _rate, _n in d.weeks[-1].by_space] if d.weeks else []
    labels = [w.label.split("-")[-1] for w in d.weeks]
    highest = 0.0
    for name in names:
        values = [next((rate for n, rate, _ in w.by_space if n == name), None) for w in d.weeks]
        highest = max([highest, *(v for v in values if v is not None)])
        axes.plot(labels, [v if v is not None else float("nan") for v in values], marker="o", label=name)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set_ylim(0, min(1.0, max(0.1, highest * 1.15)) if highest <= 1 else highest * 1.15)  # 10 % at least
    if names:
        axes.legend(fontsize=8, loc="upper left", frameon=False)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


@_one_at_a_time
def volunteering(d: Dashboard, t: Translator, colours: dict[str, str]) -> bytes:
    """Volunteer hours by project this month, most first."""
    projects = d.month.volunteers.projects
    figure, axes = _figure(7.5, max(2.0, 0.45 * len(projects) + 1.2))
    names = [f"#{p.project}" if p.project else t.gettext("(no project)") for p in projects][::-1]
    hours = [p.minutes / 60 for p in projects][::-1]
    axes.barh(names, hours, color=colours["accent"])
    axes.set_xlabel(t.gettext("hours"))
    if not projects:
        axes.text(0.5, 0.5, t.gettext("No hours logged yet this month."), ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_yticks([])
    return _png(figure)

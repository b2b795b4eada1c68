"""/metrics without prometheus_client loaded at start (issue 15): the counts are kept in plain Python and the
text is made at the first scrape. A start does not import it; the text is what prometheus_client's own Counter
and Histogram write for the same counts (``_created`` times aside)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bot.metrics import LabelledCounter, LatencyHistogram

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {root!r})
from bot.app import App
from bot.config import load_settings
from bot.health import install_monitoring
app = App(load_settings({{"DATABASE_URL": {url!r}, "LOG_LEVEL": "WARNING"}}), adapters=[], serve_feeds=True)
install_monitoring(app)
app.prepare()
app.dispatcher.handle_sync
print("prometheus_client" in sys.modules)
"""


def test_a_start_with_metrics_installed_does_not_import_prometheus_client(tmp_path: Path) -> None:
    probe = PROBE.format(root=str(ROOT), url=f"sqlite:///{tmp_path / 'start.db'}")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            timeout=300, cwd=ROOT).stdout.split()
    assert loaded[-1] == "False"


def _without_created(text: bytes) -> str:
    return re.sub(r"(?m)^(\S+_created\S*) \S+$", r"\1 T", text.decode())


def test_counters_read_as_prometheus_clients_own_counter_would_show_them() -> None:
    from prometheus_client import CollectorRegistry, Counter, generate_latest

    ours = LabelledCounter("demo_commands", "Commands, by command and outcome", ["command", "outcome"])
    registry = CollectorRegistry()
    theirs = Counter("demo_commands", "Commands, by command and outcome", ["command", "outcome"], registry=registry)
    for command, outcome in [("book", "ok"), ("book", "ok"), ("free", "refused"), ("book", "error")]:
        ours.inc(command, outcome)
        theirs.labels(command, outcome).inc()

    class One:
        def collect(self):  # type: ignore[no-untyped-def]
            yield ours.family()

    assert _without_created(generate_latest(One())) == _without_created(generate_latest(registry))
    assert ours.value("book", "ok") == 2 and ours.value("never", "seen") == 0


def test_the_latency_histogram_reads_as_prometheus_clients_own_histogram_would_show_it() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    buckets = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
    ours = LatencyHistogram("demo_seconds", "Time to answer", buckets)
    registry = CollectorRegistry()
    theirs = Histogram("demo_seconds", "Time to answer", buckets=buckets, registry=registry)
    for seconds in (0.0, 0.001, 0.01, 0.0100001, 0.3, 1, 29.9, 30, 31, 1e6):  # on a bound counts in that bucket
        ours.observe(seconds)
        theirs.observe(seconds)

    class One:
        def collect(self):  # type: ignore[no-untyped-def]
            yield ours.family()

    assert _without_created(generate_latest(One())) == _without_created(generate_latest(registry))

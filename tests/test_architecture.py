"""The core, the handlers and storage never import a chat platform's library."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = {"telegram", "nio", "aiohttp"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_adapters_and_the_web_server_import_platform_libraries() -> None:
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("bot/adapters/") or relative in {"bot/web.py", "bot/feeds.py", "bot/health.py",
                                                                     "bot/metrics.py", "bot/data_export.py",
                                                                     "bot/site/routes.py", "bot/checkin_page.py"}:
                continue
            bad = imported_modules(path) & PLATFORM_LIBRARIES
            if bad:
                offenders.append(f"{relative}: {sorted(bad)}")
    assert offenders == []


def test_handlers_do_not_import_adapters() -> None:
    for path in (ROOT / "handlers").rglob("*.py"):
        assert not any(m.startswith("bot.adapters") for m in _full_imports(path)), path


def _full_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

"""The public pages and the dashboard in a real browser: Debian's chromium, headless, driven by Selenium
through chromedriver, against `tierslieu run`'s HTTP server (a real App on a temporary SQLite database).

Each page is also checked for accessibility with axe-core (from npm, cached in TIERSLIEU_TEST_CACHE,
default ~/.cache/tierslieu-tests/axe) run inside the same browser. Screenshots are saved under a temporary
directory whose path is printed (pytest -s) and kept after the run.

Skipped, with the reason, when chromium, chromedriver or Selenium is missing (.ci/run installs them)."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.app import App
from tests.harness import DEFAULT_NOW, Chat, Clock, make_settings

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CACHE = Path(os.environ.get("TIERSLIEU_TEST_CACHE", Path.home() / ".cache" / "tierslieu-tests"))

if not CHROMIUM or not CHROMEDRIVER:
    pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver; "
                ".ci/run does it)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def arrive(browser: Any, url: str) -> None:
    """After a click, wait for the browser to have loaded ``url`` (a click does not wait for navigation)."""
    WebDriverWait(browser, 15).until(lambda b: b.current_url == url and
                                     b.execute_script("return document.readyState") == "complete")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    chat: Chat
    url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`tierslieu run`'s web side: the App with its routes, its HTTP server on its own event loop."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(f"sqlite:///{tmp_path_factory.mktemp('site') / 'site.db'}", HTTP_HOST="127.0.0.1",
                             HTTP_PORT=str(port), PUBLIC_URL=url)
    clock = Clock(DEFAULT_NOW)
    app = App(settings, adapters=[], clock=clock, serve_feeds=True)
    app.prepare()
    # The Telegram adapter learns its username at start (getMe); the pages read it at request time.
    app.adapters.append(SimpleNamespace(platform="telegram", username="tierslieu_bot"))  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(app.web.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield Served(Chat(app, clock), url)
    finally:
        asyncio.run_coroutine_threadsafe(app.web.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        app.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=412,915", "--lang=fr-FR", "--no-first-run"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    print(f"\nscreenshots: {screenshots()}")
    try:
        yield driver
    finally:
        driver.quit()


@functools.cache
def axe_source() -> str | None:
    """axe-core's script, installed with npm into the test cache the first time (None without npm)."""
    folder = CACHE / "axe"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists() and shutil.which("npm"):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "axe-core@4"], cwd=folder,
                       check=False, timeout=120, capture_output=True)
    return script.read_text() if script.exists() else None


def accessibility_violations(driver: Any) -> list[str]:
    """axe-core's WCAG 2 A/AA rules on the current page: one line per violation and element."""
    source = axe_source()
    if source is None:
        pytest.skip("axe-core could not be installed from npm")
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify([{id: 'error', help: String(e),"
        " nodes: []}])));")
    return [f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in json.loads(result)]


@functools.cache
def screenshots() -> Path:
    """Kept after the run (pytest's tmp_path is not), so that they can be looked at."""
    return Path(tempfile.mkdtemp(prefix="tierslieu-site-screenshots-"))


def shot(driver: Any, name: str) -> Path:
    path = screenshots() / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(height + 120, 600), 4000))
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def number_in(text: str) -> int:
    return int(re.search(r"n° ?(\d+)", text).group(1))  # type: ignore[union-attr]


def test_the_agenda_shows_the_chat_s_events_and_their_changes(served: Served, browser: Any) -> None:
    number = number_in(served.chat.text("coord", '/event add "Repair café <vélos>" demain 18:00-20:00 places 8 '
                                                 'lieu salle-reunion'))
    served.chat.text("coord", '/event add "Soirée jeux" vendredi 19:00-23:00')
    browser.get(served.url + "/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Au programme"
    events = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".event h3")]
    assert events == ["Repair café <vélos>", "Soirée jeux"]
    assert "Mardi 24 novembre" in browser.find_element(By.CSS_SELECTOR, "#main").text
    assert "8 places libres" in browser.find_element(By.CSS_SELECTOR, ".event").text
    shot(browser, "agenda-phone")
    assert accessibility_violations(browser) == []
    # Keyboard: the first Tab shows the skip link, Enter goes to the content.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Aller au contenu" and skip.is_displayed()
    skip.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("/#main")

    served.chat.text("coord", f'/event edit {number} "Repair café du mardi"')
    served.chat.say("alice", f"/join {number}")
    browser.refresh()
    first = browser.find_element(By.CSS_SELECTOR, ".event")
    assert "Repair café du mardi" in first.text and "7 places libres" in first.text
    assert "Alice" not in browser.page_source

    browser.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.TAG_NAME, "h1").text == "What's on")
    browser.get(served.url + "/?lang=fr")


def test_the_event_page_links_to_the_bot_and_the_calendars(served: Served, browser: Any) -> None:
    browser.get(served.url + "/agenda")
    link = browser.find_element(By.CSS_SELECTOR, ".event h3 a")
    number = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    arrive(browser, f"{served.url}/event/{number}")
    signup = browser.find_element(By.ID, "signup-telegram")
    assert signup.get_attribute("href") == f"https://t.me/tierslieu_bot?start=join-{number}"
    assert browser.find_element(By.ID, "add-ics").get_attribute("href") == f"{served.url}/event/{number}.ics"
    assert browser.find_element(By.ID, "add-feed").get_attribute("href").startswith("webcal://127.0.0.1:")
    og = browser.find_element(By.CSS_SELECTOR, 'meta[property="og:title"]').get_attribute("content")
    assert og.startswith("Repair café du mardi · mardi 24 novembre")
    shot(browser, "event-phone")
    assert accessibility_violations(browser) == []
    # What the link does in the chat: the event with its Join button, one press away.
    assert "Repair café du mardi" in served.chat.text("bob", f"/start join-{number}")
    assert f"/join {number}" in [a.command for a in served.chat.last_actions["bob"]]


def test_the_widget_shows_inside_another_site(served: Served, browser: Any, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Le site de l\'association</title></head>'
        '<body style="font-family:serif;background:#f4efe6"><h1>Association La Fabrique</h1>'
        "<p>Bienvenue ! Nos prochains rendez-vous :</p>"
        f'<iframe src="{served.url}/widget?n=5" title="Au programme" width="100%" height="420" style="border:0">'
        "</iframe></body></html>")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    foreign = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://localhost:{foreign.server_address[1]}/index.html")  # another origin
        browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
        titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".event > a")]
        assert titles[:2] == ["Repair café du mardi", "Soirée jeux"]
        assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        browser.switch_to.default_content()
        shot(browser, "widget-in-a-foreign-page")
    finally:
        foreign.shutdown()


def test_availability_of_a_space_this_week(served: Served, browser: Any) -> None:
    served.chat.text("alice", "/book salle-reunion mercredi 14:00-16:00")
    browser.get(served.url + "/spaces/salle-reunion")
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr") if "Mercredi" in r.text)
    assert "–14:00" in row.text and "16:00–" in row.text
    assert "Alice" not in browser.page_source
    shot(browser, "availability-phone")
    assert accessibility_violations(browser) == []


def test_the_dashboard_refuses_without_a_link_and_shows_figures_with_one(served: Served, browser: Any) -> None:
    browser.get(served.url + "/tableau")
    assert "/tableau" in browser.find_element(By.TAG_NAME, "main").text
    assert "Occupation" not in browser.page_source
    link = re.search(r"http://\S+", served.chat.text("coord", "/tableau")).group(0)  # type: ignore[union-attr]
    served.chat.text("volunteer", "/tache 2h accueil #cafe")
    browser.set_window_size(1280, 900)
    browser.get(link)
    browser.find_element(By.CSS_SELECTOR, "form button").click()
    arrive(browser, served.url + "/tableau")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Occupation par espace et par semaine" in main and "Repair café du mardi" in main and "1 / 8" in main
    for image in browser.find_elements(By.CSS_SELECTOR, "main img"):
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 300
    cookie = browser.get_cookie("tl_dashboard")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    shot(browser, "dashboard-desktop")
    assert accessibility_violations(browser) == []
    # The same link a second time opens nothing.
    browser.delete_all_cookies()
    browser.get(link)
    assert not browser.find_elements(By.CSS_SELECTOR, "form button")
    browser.set_window_size(412, 915)


@functools.cache
def vnu_jar() -> Path | None:
    """The W3C's Nu HTML Checker (npm package vnu-jar), installed into the test cache the first time."""
    folder = CACHE / "vnu"
    jar = folder / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.exists() and shutil.which("npm"):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "vnu-jar"], cwd=folder,
                       check=False, timeout=300, capture_output=True)
    return jar if jar.exists() else None


def test_every_page_is_valid_html(served: Served, tmp_path: Path) -> None:
    """The HTML as served (not the browser's DOM), checked offline by the W3C's Nu HTML Checker."""
    import urllib.request

    jar, java = vnu_jar(), shutil.which("java")
    if jar is None or java is None:
        pytest.skip("the Nu HTML Checker needs java and npm (vnu-jar)")
    number = number_in(served.chat.text("coord", '/event add "Fête de fin d\'année" 18/12 18:00-23:00 places 40 '
                                                 'desc "Apportez un plat & vos <instruments>"'))
    link = re.search(r"http://\S+", served.chat.text("coord", "/tableau")).group(0)  # type: ignore[union-attr]
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    pages = {"agenda": "/", "event": f"/event/{number}", "widget": "/widget", "spaces": "/spaces",
             "space": "/spaces/salle-reunion", "refused": "/tableau", "login": link.removeprefix(served.url)}
    files = []
    for name, path in pages.items():
        request = urllib.request.Request(served.url + path, headers={"Accept-Language": "fr"})
        try:
            body = opener.open(request).read()
        except urllib.error.HTTPError as error:  # 403, 404: their pages are HTML too
            body = error.read()
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(body)
    with opener.open(urllib.request.Request(link, data=b"", method="POST")) as response:  # follows to /tableau
        assert response.url == served.url + "/tableau"
        (tmp_path / "dashboard.html").write_bytes(response.read())
    files.append(tmp_path / "dashboard.html")
    result = subprocess.run([java, "-jar", str(jar), "--format", "json", *map(str, files)], capture_output=True,
                            text=True, timeout=120)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    problems = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['type']}: {m['message']}" for m in messages
                if m["type"] == "error" or m.get("subType") == "warning"]
    assert problems == []

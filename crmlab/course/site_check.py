"""Look at the built course site in a real browser (``make site-check``).

:func:`take_screenshots` serves ``build/site`` on the loopback address and has headless
Chromium (Debian's ``chromium`` package) open the pages a reader meets first, at a desktop
(1280 px) and a phone (390 px) width, and save ``build/site-check/<page>-<width>.png``: the
home page and the glossary in both languages, a notebook page at its first figure and at its
first wide table, an API page, and search results in both languages. Chromium is driven through
Playwright (already a dependency of the kit's tooling; no browser is downloaded), which also
lets the check report what a screenshot cannot show by itself:

- any request to a host other than the local server (the site must work offline);
- a page wider than the window (something overflows: the phone layout is broken);
- JavaScript errors, and search that finds nothing.

Look at the screenshots; the test suite does not (it has no browser), so this is a developer's
check. Without Chromium it says so and takes none; without Playwright it falls back to
Chromium's own ``--screenshot`` (top of each page only, no checks).

>>> [name for name, _, _ in SHOTS][:3]
['home', 'home-zh', 'notebook-figure']
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import ParameterError

__all__ = ["take_screenshots", "find_chromium", "BrowserCheck", "SHOTS", "WIDTHS"]

#: (name, page relative to the site folder, what to scroll into view: a CSS selector or None).
SHOTS: tuple[tuple[str, str, str | None], ...] = (
    ("home", "en/index.html", None),
    ("home-zh", "zh/index.html", None),
    ("notebook-figure", "en/notebooks/08-churn-survival-analysis.html", "div.cell_output img"),
    ("notebook-zh", "zh/notebooks/08-churn-survival-analysis.html", None),
    ("notebook-table", "en/notebooks/03-customer-classification-and-segmentation.html",
     "div.cell_output table.dataframe"),
    ("glossary", "en/glossary.html#term-churn-rate", None),
    ("glossary-zh", "zh/glossary.html#term-churn-rate", None),
    ("exercise", "en/exercises/05-measuring-satisfaction/05-measuring-satisfaction.html", None),
    ("exercise-zh", "zh/exercises/05-measuring-satisfaction/05-measuring-satisfaction.html", None),
    ("api", "en/api/crmlab.clv.html#crmlab.clv.BetaGeoFitter", None),
    ("search", "en/search.html?q=churn%20rate", "#search-results"),
    ("search-zh", "zh/search.html?q=" + quote("客户流失"), "#search-results"),
)
#: Window sizes in CSS pixels.
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--no-default-browser-check")
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass
class BrowserCheck:
    """What :func:`take_screenshots` saw."""

    screenshots: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: str = ""


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$CRMLAB_CHROMIUM``, else the first one on ``PATH``."""
    explicit = os.environ.get("CRMLAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((p for p in map(shutil.which, _CHROMIUM_NAMES) if p), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def _cjk_font_installed() -> bool | None:
    fc = shutil.which("fc-list")
    if not fc:
        return None
    done = subprocess.run([fc, ":lang=zh-cn", "family"], capture_output=True, text=True)
    return bool(done.stdout.strip())


def _exists(site: Path, rel: str) -> bool:
    return (site / rel.split("?")[0].split("#")[0]).is_file()


def _with_playwright(chromium: str, base: str, base_dir: Path, out: Path, log, check: BrowserCheck) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    host = urlsplit(base).netloc
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        try:
            for label, (width, height) in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": height},
                                              device_scale_factor=1, is_mobile=label == "phone",
                                              has_touch=label == "phone")
                page = context.new_page()
                outside, errors = [], []
                page.on("request", lambda r, o=outside: urlsplit(r.url).netloc not in ("", host)
                        and not r.url.startswith("data:") and o.append(r.url))
                page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
                for name, rel, selector in SHOTS:
                    if not _exists(base_dir, rel):
                        log(f"site-check: {name}: {rel} is not in this build (crmlab site build "
                            "--fast leaves out the exercises), no screenshot")
                        continue
                    outside.clear()
                    errors.clear()
                    where = f"{name} ({label}, {rel})"
                    try:
                        page.goto(base + rel, wait_until="load")
                        if selector:
                            target = page.locator(selector).first
                            target.wait_for(state="attached", timeout=15_000)
                            target.scroll_into_view_if_needed()
                            page.evaluate("window.scrollBy(0, -70)")  # clear of the sticky header
                        if name.startswith("search"):
                            page.wait_for_selector("#search-results li", timeout=15_000)
                        page.wait_for_timeout(300)
                        shot = out / f"{name}-{label}.png"
                        page.screenshot(path=str(shot))
                        check.screenshots.append(shot)
                        log(f"site-check: {shot}")
                    except PlaywrightError as err:
                        check.problems.append(f"{where}: {str(err).splitlines()[0]}")
                        continue
                    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    if overflow > 1:
                        check.problems.append(f"{where}: the page is {overflow} px wider than the "
                                              "window (something does not wrap or scroll)")
                    check.problems += [f"{where}: fetched {u} from the network" for u in outside]
                    check.problems += [f"{where}: JavaScript error: {e}" for e in errors]
                context.close()
        finally:
            browser.close()


def _with_cli(chromium: str, base: str, base_dir: Path, out: Path, profile: str, log,
              check: BrowserCheck) -> None:
    for name, rel, _ in SHOTS:
        if not _exists(base_dir, rel):
            continue
        for label, (width, height) in WIDTHS.items():
            shot = out / f"{name}-{label}.png"
            shot.unlink(missing_ok=True)
            cmd = [chromium, "--headless", *CHROMIUM_ARGS, "--hide-scrollbars",
                   f"--user-data-dir={profile}", "--force-device-scale-factor=1",
                   f"--window-size={width},{height}", "--virtual-time-budget=8000",
                   f"--screenshot={shot.resolve()}", base + rel.split("#")[0]]
            try:
                subprocess.run(cmd, capture_output=True, text=True, timeout=90)
            except subprocess.TimeoutExpired:
                check.problems.append(f"{name} ({label}): Chromium timed out")
                continue
            if shot.is_file():
                check.screenshots.append(shot)
                log(f"site-check: {shot}")
            else:
                check.problems.append(f"{name} ({label}): Chromium wrote no screenshot")


def take_screenshots(site="build/site", out="build/site-check", *, chromium: str | None = None,
                     log: Callable[[str], None] = print) -> BrowserCheck:
    """Screenshots of the pages in :data:`SHOTS` at each width in :data:`WIDTHS`.

    Returns a :class:`BrowserCheck`; its ``skipped`` says why nothing was taken (no Chromium).
    Chromium runs headless with no network services of its own against a server on
    127.0.0.1, so the screenshots show exactly what the site's own files render.
    """
    site, out = Path(site), Path(out)
    if not (site / "en" / "index.html").is_file():
        raise ParameterError(f"no built site in {site} ({site / 'en' / 'index.html'} is missing)",
                             fix="build it first: make site")
    check = BrowserCheck()
    chromium = chromium or find_chromium()
    if chromium is None:
        check.skipped = ("Chromium not found, so NO screenshots were taken (install Debian's "
                         "`chromium` package, or set CRMLAB_CHROMIUM to a Chrome/Chromium binary)")
        log(f"site-check: {check.skipped}")
        return check
    if _cjk_font_installed() is False:
        log("site-check: no Chinese font is installed, so 中文 renders as empty boxes in these "
            "screenshots (a reader's system usually has one); on Debian: apt-get install fonts-noto-cjk")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            log("site-check: Playwright is not installed: Chromium's own screenshots (page tops "
                "only, no network/overflow checks)")
            with tempfile.TemporaryDirectory(prefix="crmlab-chromium-") as profile:
                _with_cli(chromium, base, site, out, profile, log, check)
        else:
            _with_playwright(chromium, base, site, out, log, check)
    finally:
        server.shutdown()
        server.server_close()
    return check

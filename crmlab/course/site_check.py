"""Look at the built course site in a real browser (``make site-check``).

:func:`take_screenshots` serves ``build/site`` on the loopback address and has headless
Chromium (Debian's ``chromium`` package) photograph the pages a reader meets first, at a
desktop (1280 px) and a phone (390 px) width, into ``build/site-check/*.png``: the home page
in both languages, a notebook page at its first figure, the glossary in both languages, an API
page, and search results in both languages. Look at them; the test suite does not (it has no
browser), so this is a developer's check. Without Chromium it says so and takes none.

>>> [name for name, _ in SHOTS][:3]
['home', 'home-zh', 'notebook-figure']
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import quote

from ..errors import ParameterError

__all__ = ["take_screenshots", "find_chromium", "SHOTS", "WIDTHS"]

#: (name, page relative to the site folder); "{figure}" is the notebook page with a figure.
SHOTS: tuple[tuple[str, str], ...] = (
    ("home", "en/index.html"),
    ("home-zh", "zh/index.html"),
    ("notebook-figure", "{figure}"),
    ("glossary", "en/glossary.html"),
    ("glossary-zh", "zh/glossary.html"),
    ("api", "en/api/crmlab.clv.html"),
    ("search", "en/search.html?q=churn%20rate"),
    ("search-zh", "zh/search.html?q=" + quote("客户流失")),
)
#: Window sizes in CSS pixels.
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
FIGURE_NOTEBOOK = "en/notebooks/08-churn-survival-analysis.html"
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$CRMLAB_CHROMIUM``, else the first one on ``PATH``."""
    explicit = os.environ.get("CRMLAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((p for p in map(shutil.which, _CHROMIUM_NAMES) if p), None)


def _figure_url(site: Path) -> str:
    """The figure notebook's page, at the section that holds its first figure."""
    page = site / FIGURE_NOTEBOOK
    text = page.read_text(encoding="utf-8")
    first_img = text.find('<img', text.find('class="cell_output'))
    if first_img < 0:
        return FIGURE_NOTEBOOK
    sections = [m for m in re.finditer(r'<section[^>]* id="([^"]+)"', text) if m.start() < first_img]
    return FIGURE_NOTEBOOK + (f"#{sections[-1].group(1)}" if sections else "")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def _cjk_font_installed() -> bool | None:
    fc = shutil.which("fc-list")
    if not fc:
        return None
    done = subprocess.run([fc, ":lang=zh-cn", "family"], capture_output=True, text=True)
    return bool(done.stdout.strip())


def take_screenshots(site="build/site", out="build/site-check", *, chromium: str | None = None,
                     log: Callable[[str], None] = print, timeout: float = 90) -> list[Path]:
    """Screenshots of the key pages at each width in :data:`WIDTHS`; ``[]`` when no Chromium.

    Chromium runs headless with no network services of its own (no component updates, no
    background networking) against a server on 127.0.0.1, so the screenshots show exactly what
    the site's own files render.
    """
    site, out = Path(site), Path(out)
    if not (site / "en" / "index.html").is_file():
        raise ParameterError(f"no built site in {site} ({site / 'en' / 'index.html'} is missing)",
                             fix="build it first: make site")
    chromium = chromium or find_chromium()
    if chromium is None:
        log("site-check: Chromium not found, so NO screenshots were taken (install Debian's "
            "`chromium` package, or set CRMLAB_CHROMIUM to a Chrome/Chromium binary)")
        return []
    if _cjk_font_installed() is False:
        log("site-check: no Chinese font is installed, so 中文 renders as empty boxes in these "
            "screenshots (a reader's system usually has one); on Debian: apt-get install fonts-noto-cjk")
    out.mkdir(parents=True, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    taken = []
    try:
        with tempfile.TemporaryDirectory(prefix="crmlab-chromium-") as profile:
            for name, page in SHOTS:
                url = base + (_figure_url(site) if page == "{figure}" else page)
                for label, (width, height) in WIDTHS.items():
                    target = out / f"{name}-{label}.png"
                    target.unlink(missing_ok=True)
                    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update",
                           "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
                           f"--user-data-dir={profile}", "--force-device-scale-factor=1",
                           f"--window-size={width},{height}", "--virtual-time-budget=8000",
                           f"--screenshot={target.resolve()}", url]
                    try:
                        subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
                    except subprocess.TimeoutExpired:
                        log(f"site-check: {name} ({label}) timed out after {timeout:g} s")
                        continue
                    if target.is_file() and target.stat().st_size > 1000:
                        taken.append(target)
                        log(f"site-check: {target}  <- {url}")
                    else:
                        log(f"site-check: Chromium wrote no screenshot for {url} ({label})")
    finally:
        server.shutdown()
        server.server_close()
    return taken

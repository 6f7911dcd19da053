"""Print an HTML report to PDF with a headless Chromium-family browser (Chromium, Chrome, Edge).

The page decides its paper through CSS (``@page { size: A4; margin: … }``). The browser runs
with a fresh profile and every background service off, so it makes no network request (the
machines reliefsim runs on are often offline), and its scripts (the interactive map) get
time to draw before the page is printed. The PDF appears complete or not at all.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.errors import ReliefsimError
from sim.files import publish_file

__all__ = ["BROWSER_ENV", "BROWSER_NAMES", "find_browser", "html_to_pdf"]

BROWSER_ENV = "RELIEFSIM_CHROMIUM"
"""Environment variable naming the browser to print with (a path or a command name)."""

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                 "microsoft-edge", "microsoft-edge-stable", "msedge")
"""Commands looked up on PATH, in this order."""

KNOWN_PLACES = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    r"%ProgramFiles%\Google\Chrome\Application\chrome.exe",
    r"%ProgramFiles(x86)%\Google\Chrome\Application\chrome.exe",
    r"%LocalAppData%\Google\Chrome\Application\chrome.exe",
    r"%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe",
    r"%ProgramFiles%\Microsoft\Edge\Application\msedge.exe",
)
"""Where the browsers install themselves on macOS and Windows (not on PATH there)."""

OFFLINE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-extensions", "--disable-default-apps",
                 "--no-first-run", "--no-default-browser-check", "--mute-audio",
                 "--no-pdf-header-footer")
SCRIPT_TIME_MS = 20000
"""Virtual time the page's scripts get before printing (timers run fast-forwarded)."""
STDERR_TAIL = 1500

INSTALL_HINT = ("install Chromium (Debian/Ubuntu: apt install chromium), Google Chrome or "
                f"Microsoft Edge, or set {BROWSER_ENV} to the browser's executable")


def find_browser() -> Path | None:
    """The browser to print with: ``RELIEFSIM_CHROMIUM`` if set (``ReliefsimError`` when it
    names nothing runnable), else the first Chromium-family browser on PATH or in its usual
    install place; None when there is none."""
    chosen = os.environ.get(BROWSER_ENV, "").strip()
    if chosen:
        found = shutil.which(os.path.expanduser(chosen))
        if found is None:
            raise ReliefsimError(f"{BROWSER_ENV}={chosen!r}: no such executable browser; "
                                 f"point it at Chromium, Chrome or Edge, or unset it")
        return Path(found)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    for place in KNOWN_PLACES:
        path = Path(os.path.expandvars(place))
        if "%" not in str(path) and path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def html_to_pdf(html: Path, pdf: Path, *, timeout_s: float = 120) -> Path:
    """Print ``html`` to ``pdf`` (paper size and margins from the page's ``@page`` rule) with
    headless Chromium; returns ``pdf``. ``ReliefsimError`` when no browser is found, it fails
    or it takes longer than ``timeout_s``; ``pdf`` is then left as it was."""
    html, pdf = Path(html), Path(pdf)
    if not html.is_file():
        raise ReliefsimError(f"{html}: no such HTML file to print")
    try:
        browser = find_browser()
    except ReliefsimError as exc:
        raise ReliefsimError(f"cannot print {pdf.name}: {exc}. The HTML report is still "
                             f"there: {html}") from None
    if browser is None:
        raise ReliefsimError(f"cannot print {pdf.name}: no Chromium-family browser found "
                             f"(looked for {', '.join(BROWSER_NAMES)}); {INSTALL_HINT}. The "
                             f"HTML report is still there: {html}")
    with publish_file(pdf) as tmp, tempfile.TemporaryDirectory(
            prefix="reliefsim-chromium-", ignore_cleanup_errors=True) as profile:
        command = [str(browser), *OFFLINE_FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={SCRIPT_TIME_MS}", f"--print-to-pdf={tmp}",
                   html.resolve().as_uri()]
        code, stderr = _run(command, timeout_s, browser, html)
        if code != 0 or not _is_pdf(tmp):
            tmp.unlink(missing_ok=True)
            what = f"exited with code {code}" if code != 0 else "wrote no PDF"
            raise ReliefsimError(f"printing {html.name} to PDF failed: {browser.name} {what}"
                                 f"{_tail(stderr)}. The HTML report is still there: {html}")
    return pdf


def _run(command: list[str], timeout_s: float, browser: Path, html: Path) -> tuple[int, str]:
    """Run the browser in its own process group (its helpers die with it on a timeout)."""
    posix = os.name == "posix"
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=posix)
    except OSError as exc:
        raise ReliefsimError(f"cannot start {browser}: {exc}; {INSTALL_HINT}. The HTML report "
                             f"is still there: {html}") from None
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc, posix)
        _, err = proc.communicate()
        raise ReliefsimError(f"printing {html.name} to PDF took longer than {timeout_s:g} s; "
                             f"{browser.name} was stopped{_tail(_text(err))}. The HTML report is "
                             f"still there: {html}") from None
    except BaseException:
        _kill(proc, posix)
        proc.communicate()
        raise
    return proc.returncode, _text(err)


def _kill(proc: subprocess.Popen[bytes], posix: bool) -> None:
    try:
        if posix:
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(5) == b"%PDF-"
    except OSError:
        return False


def _text(data: bytes | None) -> str:
    return (data or b"").decode(sys.getfilesystemencoding() or "utf-8", errors="replace")


def _tail(stderr: str) -> str:
    text = stderr.strip()
    if not text:
        return ""
    if len(text) > STDERR_TAIL:
        text = "…" + text[-STDERR_TAIL:]
    return f"; its last messages:\n{text}\n"

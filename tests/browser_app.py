"""Serving the app for real-browser tests: `streamlit run app.py` in a subprocess, seen by Debian's Chromium."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent


# Runs in the page: every 250 ms, note the time (s) whenever the Train page's status line has changed; cheap
# enough to leave running while the page trains, unlike polling the page from outside.
WATCH_STATUS = """() => {
    clearInterval(window.statusWatch);  // once per page, however often it is installed
    window.statusChanges = [];
    let last = "";
    window.statusWatch = setInterval(() => {
        const status = [...document.querySelectorAll("strong")].find(s => s.textContent.startsWith("Epoch "));
        if (status && status.textContent !== last) {
            last = status.textContent;
            window.statusChanges.push(performance.now() / 1000);
        }
    }, 250);
}"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(log=None, **environment):
    """`streamlit run app.py` on a free port with these environment variables → (url, server process); `log`: a
    file to keep what the server prints."""
    port = free_port()
    output = open(log, "wb") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **environment}, stdout=output, stderr=subprocess.STDOUT if log else output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return url, server
        except OSError:
            time.sleep(0.3)
    server.kill()
    pytest.fail("streamlit did not start within 60 s")


def stop_app(server):
    """Stop a test server: politely, then for sure (a server still winding down a crowd's runs may take a while)."""
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


def open_from_home(browser, url, link):
    """A new tab (its own context, so its own session) on the landing page, as a user arrives; then a menu link."""
    page = browser.new_page(viewport={"width": 1600, "height": 1100})
    page.goto(url)
    page.get_by_role("heading", name="GAN Studio").wait_for(timeout=60_000)
    page.get_by_role("link", name=link, exact=True).click()
    return page


def share_to_gallery(page, nickname):
    """Type a nickname under a finished run and click Share, as a student does (the answer is the caller's to read)."""
    page.get_by_label("Nickname for the class gallery").fill(nickname)
    page.get_by_role("button", name="Share to the class gallery").click()

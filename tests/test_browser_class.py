"""A class on one server, as hostile students would try it: three browser sessions share runs to the gallery, one
tries to fill the board and one to pass for a classmate; anonymous clients probe the live route."""
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_app import CHROMIUM, share_to_gallery, start_app, stop_app

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
TINY = "g_width=8&d_width=8&epochs=1&batch_size=128&max_seconds=0.0"


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """(url, log file): a server whose board holds five entries, two per session."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    url, server = start_app(log=log, GAN_STUDIO_GALLERY_MAX="5", GAN_STUDIO_GALLERY_PER_SESSION="2")
    yield url, log
    stop_app(server)


def student(browser, url, query=TINY):
    page = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
    page.goto(f"{url}/train?{query}")
    page.get_by_role("button", name="Start training").click(timeout=60_000)
    return page


def finished(page):
    """The run's status line once it has finished (the comparison below it names finished runs too)."""
    return page.locator("strong").filter(has_text=re.compile(r"^Epoch .* · finished$"))


def test_one_session_cannot_fill_the_board_nor_pass_for_a_classmate(class_server, browser, tmp_path):
    url, log = class_server
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))
    alice = student(browser, url)
    finished(alice).wait_for(timeout=120_000)
    share_to_gallery(alice, "Alice")
    alice.get_by_text("On the class gallery as Alice").wait_for(timeout=30_000)

    mallory = student(browser, url)
    for number in (1, 2, 3):  # three runs shared from one tab: only the newest two stay
        finished(mallory).wait_for(timeout=120_000)
        share_to_gallery(mallory, f"Mallory {number}")
        mallory.get_by_text(f"On the class gallery as Mallory {number}").wait_for(timeout=30_000)
        if number < 3:
            mallory.get_by_role("button", name="Start training").click(timeout=60_000)
            mallory.get_by_label("Nickname for the class gallery").wait_for(timeout=60_000)  # the new run's

    eve = student(browser, url, "g_width=8&d_width=8&epochs=0&max_seconds=40")  # active while she tries
    eve.get_by_text(re.compile(r"Epoch \d+ · step")).first.wait_for(timeout=120_000)
    share_to_gallery(eve, "\u0410lice")  # a Cyrillic А
    refusal = eve.get_by_text("looks like Alice, already on the board: choose another")
    refusal.wait_for(timeout=30_000)
    eve.wait_for_timeout(6_000)  # the live view reruns its fragment as the run goes on: the sentence stays
    assert refusal.is_visible() and eve.get_by_text(re.compile(r"Epoch \d+ · step")).first.is_visible()
    eve.screenshot(path=str(shots / "gallery-impostor-refused.png"), full_page=True)
    eve.get_by_role("button", name="Stop").click()

    teacher = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
    teacher.goto(f"{url}/gallery")
    for nickname in ("Alice", "Mallory 2", "Mallory 3"):
        teacher.get_by_text(re.compile(rf"^\d\. {nickname}$")).wait_for(timeout=30_000)
    assert teacher.get_by_text(re.compile(r"^\d\. Mallory 1$")).count() == 0
    assert teacher.get_by_text(re.compile(r"^\d\. \u0410lice$")).count() == 0
    teacher.get_by_text("Each of us keeps at most 2 entries").wait_for(timeout=10_000)
    grids = teacher.locator("[data-testid='stImage'] img")
    deadline = time.monotonic() + 15  # the names come first, the pictures a moment later
    while grids.count() < 3 and time.monotonic() < deadline:
        teacher.wait_for_timeout(200)
    teacher.screenshot(path=str(shots / "gallery-three-sessions.png"), full_page=True)
    for page in (alice, mallory, eve, teacher):
        page.context.close()


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_anonymous_probes_of_the_live_route_get_404_and_leave_no_traceback(class_server):
    url, log = class_server
    probes = [f"grid/{'9' * 5000}.png", "grid/-1.png", "grid/abc.png", "real.png", "", "x/y/z"]
    for token in ("guessed-token", "A" * 32):
        for probe in probes:
            assert status_of(f"{url}/api/live/{token}/{probe}") == 404, probe
    assert status_of(f"{url}/api/live") == 404 and status_of(f"{url}/api/live/") == 404
    assert status_of(f"{url}/api/live/x/%2e%2e/%2e%2e") == 400  # Streamlit refuses a traversal before routing
    assert status_of(f"{url}/api/live/plotly.min.js") == 200
    time.sleep(1)
    assert "Traceback" not in log.read_text(errors="replace")

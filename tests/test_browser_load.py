"""A class at once, in a real browser: 20 tabs, each its own Streamlit session, press Start together."""
import re
import time
from pathlib import Path

import pytest

from browser_app import CHROMIUM, open_from_home, start_app, stop_app
from test_load import megabytes

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
SESSIONS = 20
ANSWER = re.compile(r"^(Waiting for a free slot: position \d+|Loading the dataset|Epoch \d+\b)")


@pytest.fixture
def crowded_app(tmp_path):
    """A server as a free Space runs it: one run at a time, and each run capped at one second of training."""
    url, server = start_app(GAN_STUDIO_MAX_RUNS="1", GAN_STUDIO_MAX_SECONDS="1", GAN_STUDIO_CHECKPOINTS=str(tmp_path))
    yield url, server.pid
    stop_app(server)


def test_twenty_browser_sessions_press_start_together(crowded_app, browser):
    url, pid = crowded_app
    pages = []
    for _ in range(SESSIONS):
        pages.append(open_from_home(browser, url, "Train"))
    for page in pages:
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Start training").wait_for(
            timeout=60_000)
    memory_before = megabytes(pid, "VmRSS")

    pressed = time.perf_counter()
    for page in pages:
        page.get_by_role("button", name="Start training").click(no_wait_after=True)
    pressing = time.perf_counter() - pressed
    answers = []
    for page in pages:  # each page says where its run is, then its tab closes (the session goes away)
        page.get_by_text(ANSWER).first.wait_for(timeout=120_000)
        answers.append(page.get_by_text(ANSWER).first.inner_text())
        assert page.get_by_test_id("stException").count() == 0
        page.context.close()
    answered = time.perf_counter() - pressed

    positions = [int(re.search(r"position (\d+)", a).group(1)) for a in answers if a.startswith("Waiting")]
    assert positions, "one run at a time: with 20 pressed at once, some must wait"
    assert all(1 <= position < SESSIONS for position in positions)  # read as the queue moves on
    assert sum(not a.startswith("Waiting") for a in answers) >= 1  # the first run trains
    peak = megabytes(pid, "VmHWM")
    print(f"{SESSIONS} browser sessions pressed Start within {pressing:.1f} s; all answered within {answered:.0f} s; "
          f"{len(positions)} queued at first; server memory {memory_before:.0f} MB before, peak {peak:.0f} MB")
    assert peak < 3000

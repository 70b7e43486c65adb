"""The Train page in a real browser with the app on the Ray backend (GAN_STUDIO_RAY_ADDRESS=local: a cluster of this
machine on 127.0.0.1): Start, the live view fills in from the node, Pause, Stop, and the downloads are there."""
import importlib.util
import os
import re
from pathlib import Path

import pytest
from browser_app import CHROMIUM, open_from_home, start_app, stop_app

pytestmark = [pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")]


def test_the_train_page_follows_a_run_on_the_cluster(browser, tmp_path):
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))  # set it to keep the screenshots
    url, server = start_app(log=tmp_path / "server.log", GAN_STUDIO_RAY_ADDRESS="local",
                            GAN_STUDIO_RAY_CPUS_PER_RUN="2")
    try:
        page = open_from_home(browser, url, "Train")
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_role("button", name="Start training").wait_for(timeout=30_000)
        page.get_by_text("Runs train on a Ray cluster on this machine.").wait_for(timeout=60_000)
        main.get_by_role("button", name="Start training").click()
        page.get_by_text(re.compile(r"Epoch \d+(/\d+)? · step .* · training on node 1 of 1, CPU")).wait_for(
            timeout=90_000)
        page.get_by_text(re.compile(r"Generated from the fixed noise · epoch 1")).wait_for(timeout=120_000)
        assert page.locator(".gs-live-pictures img").count() == 2  # the node's grid and the real images beside it
        page.get_by_text(re.compile(r"Quality meter · epoch \d+: legible \d+%")).wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "ray-training.png"), full_page=True)
        main.get_by_role("button", name="Pause").click()
        page.get_by_text(re.compile(r"· paused")).wait_for(timeout=15_000)
        main.get_by_role("button", name="Resume").click()
        page.get_by_text(re.compile(r"img/s · \d[\d,]* s left · training on")).wait_for(timeout=15_000)
        main.get_by_role("button", name="Stop").click()
        page.get_by_text(re.compile(r"· stopped")).wait_for(timeout=30_000)
        main.get_by_role("button", name="Checkpoint (.safetensors)").wait_for(timeout=15_000)  # the folder arrived
        page.screenshot(path=str(shots / "ray-stopped.png"), full_page=True)
    finally:
        stop_app(server)
    assert "Traceback" not in (tmp_path / "server.log").read_text()

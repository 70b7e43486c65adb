"""What watching the class gallery costs a training run, beside what watching the Train page costs it.

    python -m benchmarks.gallery_cost [--entries 40] [--seconds 200] [--window 15]

Starts `streamlit run app.py` and fills its gallery: entries − 1 short runs (1 epoch of a tiny DCGAN), each
started and shared from a session of its own. Then one more session trains the recommended DCGAN for --seconds and
shares it too, and a second tab opens the gallery. In turn, windows of --window seconds: the Train page draws (the
gallery tab's JavaScript paused), the gallery draws (the Train page's paused), or neither (both paused: the
control). img/s per window comes from the run's metrics.csv, so the machine's drift over minutes hits all three
alike. The browser shares the machine's cores with training, as on a teacher's laptop.
"""
import argparse
import tempfile
import time
from pathlib import Path
from statistics import mean

from playwright.sync_api import sync_playwright

from ganlib.config import preset
from tests.browser_app import CHROMIUM, share_to_gallery, start_app

BATCH = preset("dcgan")[1].batch_size
TINY = "g_width=8&d_width=8&epochs=1&batch_size=128&max_seconds=0.0"
VIEWS = ("Train page", "gallery", "neither")


def last_logged(metrics_csv):
    row = metrics_csv.read_text().strip().splitlines()[-1].split(",")
    return int(row[0]), float(row[-1])


def share(page, nickname):
    share_to_gallery(page, nickname)
    page.get_by_text(f"On the class gallery as {nickname}").wait_for(timeout=30_000)


def fill_gallery(page, url, count):
    """count finished tiny runs on the board, each from a new session (a page load is a session)."""
    for index in range(count):
        page.goto(f"{url}/train?{TINY}&seed={index}")
        page.get_by_role("button", name="Start training").click(timeout=60_000)
        page.get_by_text("· finished").wait_for(timeout=120_000)
        share(page, f"student {index + 1}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=200, help="the measured run's time limit")
    parser.add_argument("--window", type=int, default=15)
    args = parser.parse_args()
    temp = Path(tempfile.mkdtemp())  # the server's run folders land here
    url, server = start_app(TMPDIR=str(temp), GAN_STUDIO_SESSION_GRACE="3600", GAN_STUDIO_MAX_RUNS="1")
    speeds = {view: [] for view in VIEWS}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            trainer, viewer = (browser.new_page(viewport={"width": 1600, "height": 1100}) for _ in range(2))
            started = time.monotonic()
            fill_gallery(trainer, url, args.entries - 1)
            print(f"{args.entries - 1} entries shared in {time.monotonic() - started:.0f} s")
            trainer.goto(f"{url}/train?max_seconds={args.seconds}.0")
            trainer.get_by_role("button", name="Start training").click(timeout=60_000)
            share(trainer, "live run")
            trainer.get_by_text("Generated from the fixed noise").wait_for(timeout=120_000)  # past the first epoch
            viewer.goto(f"{url}/gallery")
            viewer.get_by_text("live run").wait_for(timeout=60_000)
            images = viewer.locator("[data-testid='stImage'] img")
            deadline = time.monotonic() + 60
            while images.count() < args.entries and time.monotonic() < deadline:
                viewer.wait_for_timeout(500)
            print(f"the gallery shows {images.count()} grids")
            metrics = max(temp.glob("gan-studio-runs/*/metrics.csv"), key=lambda p: p.stat().st_mtime)
            debuggers = {page: page.context.new_cdp_session(page) for page in (trainer, viewer)}
            for debugger in debuggers.values():
                debugger.send("Debugger.enable")
            paused = set()
            begun = time.monotonic()
            turn = 0
            while time.monotonic() - begun < args.seconds - 2 * args.window - 30:
                view = VIEWS[turn % len(VIEWS)]
                drawing = {"Train page": {trainer}, "gallery": {viewer}, "neither": set()}[view]
                for page, debugger in debuggers.items():
                    if page in drawing and page in paused:
                        debugger.send("Debugger.resume")
                        paused.discard(page)
                    elif page not in drawing and page not in paused:
                        debugger.send("Debugger.pause")
                        paused.add(page)
                time.sleep(2)  # let the switch settle
                before = last_logged(metrics)
                time.sleep(args.window)
                now = last_logged(metrics)
                speeds[view].append((now[0] - before[0]) * BATCH / (now[1] - before[1]))
                turn += 1
            for page in paused:
                debuggers[page].send("Debugger.resume")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    control = mean(speeds["neither"])
    print(f"the run's img/s with one viewer on each page ({args.entries} gallery entries, {args.window} s windows):")
    for view in VIEWS:
        figures = ", ".join(f"{s:,.0f}" for s in speeds[view])
        print(f"  {view:10} {mean(speeds[view]):7,.0f} img/s ({figures}): {mean(speeds[view]) / control:.0%} of "
              "the run with neither drawing")


if __name__ == "__main__":
    main()

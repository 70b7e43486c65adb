"""Training speed with the Train page open in a browser vs. the command line, same settings.

    python -m benchmarks.page_vs_cli [--seconds 100] [--refresh 1|2|5] [--window 15] [--no-browser]
                                     [--still-line-charts]

Starts `streamlit run app.py`, opens the Train page in headless Chromium (Debian's /usr/bin/chromium), sets its
live view refresh and trains the defaults for the given time limit; the command line, `python -m ganlib train`,
trains the same settings just before and just after. This machine's speed drifts by a fifth over minutes, so the
page's own run is also its control: every other window its JavaScript is paused (the page draws nothing and asks
its run's route nothing), and img/s is read per window from the run's metrics.csv. Nothing polls the page from outside
while it trains; a script in the page notes when the status line changes (how often the view really refreshes).
With --no-browser the page is driven by Streamlit's AppTest instead, rerun every second: the server's share of the
cost, as on a hosted Space where the browser runs on the student's own machine. --still-line-charts keeps the
three line charts as they were at the first epoch's end (plotly's extendTraces does nothing): what the run would
lose with line charts that cost nothing to draw, the bound for any cheaper way of drawing them.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean, median

from ganlib.config import preset
from tests.browser_app import CHROMIUM, WATCH_STATUS, start_app

ROOT = Path(__file__).resolve().parent.parent

BATCH = preset("dcgan")[1].batch_size  # the page's and the command line's default
STILL_LINE_CHARTS = "Plotly.extendTraces = () => Promise.resolve();"  # run in the page: the line charts stay as they are
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def cli_images_per_second(seconds):
    out = subprocess.run([sys.executable, "-m", "ganlib", "train", "--max-seconds", str(seconds), "--epochs", "1000",
                          "--out", tempfile.mkdtemp()], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"\(([\d,]+) img/s\)", out).group(1).replace(",", ""))


def last_logged(metrics_csv):
    """(step, training seconds) of the newest row the run has logged."""
    row = metrics_csv.read_text().strip().splitlines()[-1].split(",")
    return int(row[0]), float(row[-1])


def start_page_run(browser, url, seconds, refresh):
    """A new tab that starts the defaults on the Train page with this time limit and refresh → the page, once its
    first epoch has ended (grids, scores and charts all drawing)."""
    page = browser.new_page(viewport={"width": 1600, "height": 1100})
    page.goto(url)
    page.get_by_role("link", name="Train", exact=True).click()
    limit = page.get_by_role("spinbutton", name="Time limit (s)")
    limit.fill(str(seconds))
    limit.press("Enter")
    page.get_by_role("radio", name=f"{refresh} s", exact=True).click()
    page.wait_for_timeout(500)
    page.evaluate(WATCH_STATUS)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Generated from the fixed noise").wait_for(timeout=120_000)
    page.wait_for_function("() => window.Plotly")  # the charts' library, which the benchmarks may switch parts of
    return page


def page_images_per_second(seconds, refresh, window, still_line_charts=False):
    """→ ([img/s of each window while the page draws], [… while its JavaScript is paused], status change period)"""
    from playwright.sync_api import sync_playwright

    temp = Path(tempfile.mkdtemp())  # the server's run folders land here
    url, server = start_app(TMPDIR=str(temp))
    drawing, paused = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = start_page_run(browser, url, seconds, refresh)
            if still_line_charts:
                page.evaluate(f"() => {{ {STILL_LINE_CHARTS} }}")
            metrics = next(temp.glob("gan-studio-runs/*/metrics.csv"))
            debugger = page.context.new_cdp_session(page)
            debugger.send("Debugger.enable")
            started, before = time.monotonic(), last_logged(metrics)
            while time.monotonic() - started < seconds - window - 15:  # whole windows, well before the end
                is_paused = len(drawing) > len(paused)
                if is_paused or paused:
                    debugger.send("Debugger.pause" if is_paused else "Debugger.resume")
                time.sleep(window)
                now = last_logged(metrics)
                (paused if is_paused else drawing).append((now[0] - before[0]) * BATCH / (now[1] - before[1]))
                before = now
            if len(drawing) == len(paused):
                debugger.send("Debugger.resume")
            changes = page.evaluate("window.statusChanges")
            browser.close()
        gaps = [b - a for a, b in zip(changes, changes[1:]) if b - a < window / 2]  # not across a paused window
        return drawing, paused, median(gaps)
    finally:
        server.terminate()
        server.wait(10)


def page_server_images_per_second(seconds):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    app.switch_page("pages/train.py").run()
    app.sidebar.number_input(key="train_max_seconds").set_value(float(seconds)).run()
    next(b for b in app.button if b.label == "Start training").click().run()
    status = ""
    while "finished" not in status:
        time.sleep(1.0)
        app.run()
        status = next((m.value for m in app.markdown if "Epoch" in m.value), "")
    steps = int(re.search(r"step ([\d,]+)", status).group(1).replace(",", ""))
    return steps * BATCH / seconds


def figures(speeds):
    return ", ".join(f"{s:,.0f}" for s in speeds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=100, help="the page run's time limit")
    parser.add_argument("--refresh", type=int, choices=(1, 2, 5), default=1, help="the page's live view refresh (s)")
    parser.add_argument("--window", type=int, default=15, help="seconds the page draws, then is paused, in turn")
    parser.add_argument("--no-browser", action="store_true", help="drive the page with AppTest, no Chromium")
    parser.add_argument("--still-line-charts", action="store_true", help="the line charts take no new points")
    args = parser.parse_args()
    cli_seconds = 30
    cli_runs = [cli_images_per_second(cli_seconds)]
    if args.no_browser:
        page = page_server_images_per_second(cli_seconds)
    else:
        drawing, paused, refresh = page_images_per_second(args.seconds, args.refresh, args.window,
                                                            args.still_line_charts)
    cli_runs.append(cli_images_per_second(cli_seconds))
    cli = mean(cli_runs)
    print(f"command line: {cli:,.0f} img/s ({figures(cli_runs)}: before and after the page)")
    if args.no_browser:
        print(f"Train page rerun every second by AppTest, no browser: {page:,.0f} img/s, {page / cli:.0%} of the "
              f"command line")
        return
    page, control = mean(drawing), mean(paused)
    print(f"Train page in headless Chromium on this machine, live view refresh {args.refresh} s (the status line "
          f"changed every {refresh:.2f} s):\n"
          f"  drawing {page:,.0f} img/s ({figures(drawing)}), {page / cli:.0%} of the command line\n"
          f"  paused  {control:,.0f} img/s ({figures(paused)}) in the same run: drawing costs {1 - page / control:.0%}")


if __name__ == "__main__":
    main()

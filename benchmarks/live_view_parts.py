"""What each part of the Train page's live view costs the browser, in CPU cores, while a run trains.

    python -m benchmarks.live_view_parts [--window 20] [--rounds 2]

Starts `streamlit run app.py`, starts the defaults on the Train page in headless Chromium (1 s refresh) and, in
turn, windows of a few seconds in which parts of the live view's drawing are switched off in the page
(plotly's extendTraces, which feeds the three line charts; plotly's react, which draws the quality meter). Each
window reads the CPU time of every Chromium process from /proc: the browser's whole cost, its raster and garbage
collection threads included, which the page's own JavaScript profile does not show. img/s is too noisy on these
machines to tell parts apart; the browser's cores are what a run on the same cores loses (about two core-seconds
of a 2-thread run for each of the browser's, docs/performance.md).
"""
import argparse
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.page_vs_cli import CHROMIUM_ARGS, STILL_LINE_CHARTS, start_page_run
from tests.browser_app import CHROMIUM, start_app, stop_app

SWITCHED_OFF = {  # JavaScript run in the page at the start of a window, after the original functions are back
    "everything drawn": "",
    "line charts still": STILL_LINE_CHARTS,
    "quality meter still": "Plotly.react = () => Promise.resolve();",
    "neither (status, grids)": "Plotly.extendTraces = Plotly.react = () => Promise.resolve();",
}
RESTORE = """window.liveViewParts = window.liveViewParts || {extend: Plotly.extendTraces, react: Plotly.react};
Plotly.extendTraces = window.liveViewParts.extend; Plotly.react = window.liveViewParts.react;"""


def chromium_cpu_seconds():
    """User and system CPU seconds of every running Chromium process."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if b"chromium" not in (stat.parent / "cmdline").read_bytes():
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=20, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=2, help="windows of each kind, taken in turn")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    seconds = int(args.window * len(SWITCHED_OFF) * args.rounds + 60)  # the run outlasts the windows
    url, server = start_app(TMPDIR=tempfile.mkdtemp())
    cores = defaultdict(list)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = start_page_run(browser, url, seconds, refresh=1)
            for _ in range(args.rounds):
                for name, script in SWITCHED_OFF.items():
                    page.evaluate(f"() => {{ {RESTORE} {script} }}")
                    cpu, started = chromium_cpu_seconds(), time.monotonic()
                    time.sleep(args.window)
                    cores[name].append((chromium_cpu_seconds() - cpu) / (time.monotonic() - started))
            browser.close()
    finally:
        stop_app(server)
    print(f"Chromium's CPU while the Train page follows a run (1 s refresh), {args.window:.0f}-s windows in turn:")
    for name, values in cores.items():
        print(f"  {name:24s} {sum(values) / len(values):.3f} cores ({', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()

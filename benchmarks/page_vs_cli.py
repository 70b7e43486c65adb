"""Training speed with the Train page open in a browser vs. the command line, same settings.

    python benchmarks/page_vs_cli.py [--seconds 30] [--no-browser]

Starts `streamlit run app.py`, opens the Train page in headless Chromium (Debian's /usr/bin/chromium),
trains the defaults for the given time limit, and reads the page's own status line; then runs
`python -m ganlib train` with the same limit. Also measures how often the status line really refreshes.
With --no-browser the page is driven by Streamlit's AppTest instead, rerun every second: the server's
share of the cost, as on a hosted Space where the browser runs on the student's own machine.
"""
import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_images_per_second(seconds):
    out = subprocess.run([sys.executable, "-m", "ganlib", "train", "--max-seconds", str(seconds), "--epochs", "1000",
                          "--out", tempfile.mkdtemp()], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"\(([\d,]+) img/s\)", out).group(1).replace(",", ""))


def page_images_per_second(seconds):
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(url)
            page.get_by_role("link", name="Train", exact=True).click()
            limit = page.get_by_role("spinbutton", name="Time limit (s)")
            limit.fill(str(seconds))
            limit.press("Enter")
            page.wait_for_timeout(500)
            page.get_by_role("button", name="Start training").click()
            changes, last = [], ""
            deadline = time.monotonic() + seconds + 60
            while time.monotonic() < deadline:
                text = page.get_by_text(re.compile(r"Epoch \d+/")).first.inner_text() if page.get_by_text(
                    re.compile(r"Epoch \d+/")).count() else ""
                if text != last:
                    changes.append(time.monotonic())
                    last = text
                if "finished" in text:
                    break
                page.wait_for_timeout(50)
            browser.close()
        steps = int(re.search(r"step ([\d,]+)", last).group(1).replace(",", ""))
        gaps = [b - a for a, b in zip(changes[1:], changes[2:])]
        return steps * 64 / seconds, sorted(gaps)[len(gaps) // 2] if gaps else float("nan")
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
    return steps * 64 / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true", help="drive the page with AppTest, no Chromium")
    args = parser.parse_args()
    # the command line once before and once after the page: this machine's speed drifts over minutes
    cli_runs = [cli_images_per_second(args.seconds)]
    if args.no_browser:
        page, how = page_server_images_per_second(args.seconds), "rerun every second by AppTest, no browser"
    else:
        page, refresh = page_images_per_second(args.seconds)
        how = f"open in headless Chromium on this machine, status refresh every {refresh:.2f} s"
    cli_runs.append(cli_images_per_second(args.seconds))
    cli = sum(cli_runs) / len(cli_runs)
    print(f"command line: {cli:,.0f} img/s (before and after: {', '.join(f'{c:,.0f}' for c in cli_runs)})")
    print(f"Train page:   {page:,.0f} img/s ({page / cli:.0%} of the command line), {how}")


if __name__ == "__main__":
    main()

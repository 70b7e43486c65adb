"""The pages in a real browser: Debian's Chromium driven by Playwright against `streamlit run`."""
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from browser_app import CHROMIUM, WATCH_STATUS, open_from_home, share_to_gallery, start_app, stop_app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    shutil.copytree(ROOT / "checkpoints", checkpoints, dirs_exist_ok=True)  # the shipped ones; saves go here too
    url, server = start_app(GAN_STUDIO_CHECKPOINTS=str(checkpoints))
    yield url
    stop_app(server)


def epoch_shown(page):
    match = re.search(r"Epoch (\d+)", page.get_by_text(re.compile(r"Epoch \d+(/\d+)? · step")).first.inner_text())
    return int(match.group(1))


def shows(page, label, value, seconds=15):
    """Whether the number input called `label` shows `value` within a few seconds (the page fills in as it runs)."""
    field = page.get_by_role("spinbutton", name=label, exact=True)
    deadline = time.monotonic() + seconds
    while field.input_value() != value and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    return field.input_value() == value


def test_train_page_trains_live_and_stops(app_url, browser, tmp_path):
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))  # set it to keep the screenshots
    page = open_from_home(browser, app_url, "Train")
    main = page.get_by_test_id("stMainBlockContainer")  # Streamlit's own status widget has a Stop button too
    main.get_by_role("button", name="Start training").wait_for(timeout=30_000)
    limit = page.get_by_role("spinbutton", name="Time limit (s)")
    limit.fill("90")
    limit.press("Enter")
    page.wait_for_timeout(500)
    main.get_by_role("button", name="Start training").click()
    live_chart = page.locator(".gs-live-charts .js-plotly-plot").first
    live_chart.wait_for(timeout=30_000)  # plotly.js, served by the app's own route
    page.get_by_text(re.compile(r"Generated from the fixed noise · epoch 1")).wait_for(timeout=120_000)
    # Streamed into the same chart node (a remounted chart would lose the mark), a few seconds of steps at a time.
    last_step = "chart => chart.data[0].x[chart.data[0].x.length - 1]"
    live_chart.evaluate("chart => chart.dataset.seen = 'yes'")
    step_before = live_chart.evaluate(last_step)
    deadline = time.monotonic() + 15  # a busy machine streams fewer steps a second
    while live_chart.evaluate(last_step) <= step_before and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert live_chart.evaluate("chart => chart.dataset.seen") == "yes"
    assert live_chart.evaluate(last_step) > step_before
    assert page.locator(".gs-live-pictures img").count() == 2  # the sample grid and real images beside it
    first = epoch_shown(page)
    page.get_by_text(re.compile(rf"Epoch {first + 1}(/\d+)? · step")).wait_for(timeout=60_000)  # the counter advances
    page.get_by_text(re.compile(r"Quality meter · epoch \d+: legible \d+% · as asked \d+%.* · digits \d+/10")).wait_for(
        timeout=30_000)  # digits train class-conditional: the meter also says how often G drew the digit asked for
    quality_charts = page.locator(".gs-live-charts").nth(1)
    quality_charts.scroll_into_view_if_needed()  # charts off screen wait to be drawn
    quality_charts.get_by_text(re.compile(r"Which digits G draws · epoch \d+")).wait_for(timeout=10_000)
    token = page.evaluate("[...document.querySelectorAll('div')].find(e => e.ganStudioLiveView).ganStudioLiveView.token")
    with urllib.request.urlopen(f"{app_url}/api/live/{token}?after=0") as response:
        assert json.load(response)["state"] == "running"  # the page's own stream
    for wrong in (token[:-2] + "xx", f"{token[:-2]}xx/grid/0.png", f"{token[:-2]}xx/real.png"):
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"{app_url}/api/live/{wrong}")
    with pytest.raises(urllib.error.HTTPError, match="404") as refused:  # no listing, nor the app's own page
        urllib.request.urlopen(f"{app_url}/api/live/")
    assert token not in refused.value.read().decode()
    page.screenshot(path=str(shots / "training.png"), full_page=True)

    # Pause, leave for the Home page and come back: the run waits where it was, then resumes.
    main.get_by_role("button", name="Pause").click()
    page.get_by_text(re.compile(r"· paused")).wait_for(timeout=15_000)
    paused_status = page.get_by_text(re.compile(r"Epoch \d+(/\d+)? · step")).first.inner_text()
    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_role("heading", name="GAN Studio").wait_for(timeout=15_000)
    page.wait_for_timeout(2_000)
    page.get_by_role("link", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"· paused")).wait_for(timeout=15_000)
    assert page.get_by_text(re.compile(r"Epoch \d+(/\d+)? · step")).first.inner_text() == paused_status
    main.get_by_role("button", name="Resume").click()
    page.wait_for_function("s => !document.body.innerText.includes(s)", arg=paused_status.split(" · ")[1],
                           timeout=30_000)  # the step count moves on

    # A slower live view refresh: the status line then changes every 5 s, not every second.
    page.get_by_role("radio", name="5 s", exact=True).click()
    page.wait_for_timeout(2_000)
    page.evaluate(WATCH_STATUS)
    page.wait_for_timeout(11_000)
    changes = page.evaluate("window.statusChanges")[1:]  # the first is the text it found
    assert 1 <= len(changes) <= 3, changes
    assert all(b - a > 4 for a, b in zip(changes, changes[1:])), changes

    main.get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"· stopped")).wait_for(timeout=15_000)
    main.get_by_role("button", name="Checkpoint (.safetensors)").wait_for(timeout=15_000)
    page.screenshot(path=str(shots / "stopped.png"), full_page=True)


def test_latent_explorer_shows_digits_and_morphs_them(app_url, browser, tmp_path):
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))
    page = open_from_home(browser, app_url, "Latent explorer")
    page.get_by_text("#23", exact=True).wait_for(timeout=60_000)  # the last of the 24 samples
    page.get_by_text("slerp, looping").wait_for(timeout=30_000)  # the animation
    page.get_by_text(re.compile(r"^Each row: one direction")).wait_for(timeout=30_000)  # the last view
    images = page.locator("[data-testid='stImage'] img")
    assert images.count() >= 24 + 2 + 1 + 9 + 2  # samples, two strips, the GIF, nearest, moved + sweeps
    page.get_by_role("button", name="Download the GIF").wait_for(timeout=30_000)  # one, and only one (strict)
    page.screenshot(path=str(shots / "explorer.png"), full_page=True)

    moved = page.locator("[data-testid='stImage']").filter(has_text="moved").locator("img")
    before = moved.get_attribute("src")
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Direction 1").get_by_role("slider")
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(6):  # six steps of 0.25 to the right
        page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 15
    while moved.get_attribute("src") == before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert moved.get_attribute("src") != before  # the sample moved


def draw_with_mouse(page, canvas, strokes, steps=8):
    """Draw strokes (lists of points in the unit square) on a canvas as a person does: press, move, release."""
    box = canvas.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=steps)
        page.mouse.up()


def test_latent_explorer_projects_a_digit_drawn_with_the_mouse_and_walks_from_it(app_url, browser, tmp_path):
    from ganlib.drawn_digits import STROKES

    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))
    page = open_from_home(browser, app_url, "Latent explorer")
    canvas = page.get_by_label("Drawing canvas")
    canvas.wait_for(timeout=60_000)
    canvas.scroll_into_view_if_needed()
    project = page.get_by_role("button", name="Project", exact=True)
    assert project.is_disabled()  # nothing drawn yet
    draw_with_mouse(page, canvas, STROKES[7])
    deadline = time.monotonic() + 15
    while project.is_disabled() and time.monotonic() < deadline:  # the stroke reaches Python, which enables it
        page.wait_for_timeout(200)
    project.click()
    page.get_by_text(re.compile(r"It drew class 7\.")).wait_for(timeout=60_000)
    caption = page.get_by_text(re.compile(r"closest drawing is \d\.\d\d from yours")).inner_text()
    distance, random_best = map(float, re.findall(r"(\d\.\d\d)(?: from yours|;)", caption)[:2])
    assert distance < random_best
    walk = page.locator("[data-testid='stImage']").filter(has_text="From your drawing to").locator("img")
    walk.wait_for(timeout=30_000)
    assert walk.get_attribute("src")
    page.get_by_role("button", name="Download the walk").wait_for(timeout=30_000)
    page.get_by_text("Your own drawing").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "explorer-drawing.png"), full_page=False)
    page.get_by_role("button", name="Clear", exact=True).click()
    deadline = time.monotonic() + 15
    while not project.is_disabled() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert project.is_disabled()


def test_playground_plays_steps_and_takes_points_drawn_on_its_canvas(app_url, browser, tmp_path):
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))
    page = open_from_home(browser, app_url, "2D Playground")
    status = page.get_by_text(re.compile(r"updates · modes \d/8"))
    status.wait_for(timeout=60_000)
    page.get_by_role("button", name="D step", exact=True).click()
    page.get_by_text(re.compile(r"^Step 0 · 1 updates")).wait_for(timeout=15_000)  # D moved, G did not
    page.get_by_role("button", name="Play", exact=True).click()
    page.get_by_text(re.compile(r"^Step [1-9]\d{2,}")).wait_for(timeout=60_000)  # a hundred steps and counting
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=15_000)
    page.screenshot(path=str(shots / "playground.png"), full_page=True)
    paused = status.inner_text()
    page.wait_for_timeout(1_500)
    assert status.inner_text() == paused  # paused means paused

    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Data").click()
    page.get_by_role("option", name="Your points").click()
    page.get_by_text(re.compile(r"^0 placed, 0 uploaded")).wait_for(timeout=30_000)
    canvas = page.locator(".stPlotlyChart").first.bounding_box()
    x, y = canvas["x"] + canvas["width"] * 0.4, canvas["y"] + canvas["height"] * 0.45
    page.mouse.move(x, y)
    page.mouse.down()
    for dx, dy in [(60, 0), (60, 60), (0, 60), (0, 0)]:  # a lasso around a patch of the canvas
        page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    placed = page.get_by_text(re.compile(r"^[1-9]\d* placed, 0 uploaded"))
    placed.wait_for(timeout=30_000)
    page.get_by_text(re.compile(r"^Step 0 · 0 updates · KL")).wait_for(timeout=30_000)  # a new game on your points


def test_a_deep_link_opened_first_on_a_fresh_server_shows_the_app(browser):
    """Nothing has run app.py yet when a bookmarked /train is the server's first visit."""
    url, server = start_app()
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.goto(f"{url}/train?seed=1&seed=4242&lr_g=0.0003")  # a shared link, first visit of the server
        page.get_by_role("heading", name="Train a GAN").wait_for(timeout=60_000)
        assert shows(page, "Seed", "4242") and shows(page, "G learning rate", "0.00030")
        page.get_by_text("The link sets seed 2 times; took the last one, '4242'.").wait_for(timeout=10_000)
        sidebar = page.get_by_test_id("stSidebarNav")
        for entry in ("Home", "Train", "2D Playground", "Latent explorer"):  # the app's menu, not the file names
            sidebar.get_by_role("link", name=entry, exact=True).wait_for(timeout=10_000)
        assert "/train" in page.url and page.get_by_role("button", name="Start training").is_enabled()
        page.close()
    finally:
        stop_app(server)


def test_a_shared_link_opened_in_a_fresh_browser_context_fills_in_both_pages(app_url, browser, tmp_path):
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))
    context = browser.new_context(viewport={"width": 1600, "height": 1100})  # a student's own browser: no cookies
    page = context.new_page()
    page.goto(f"{app_url}/train?preset=Lesson%3A+No+labels+%28unconditional%29&dataset=emoji&conditional=1"
              "&r1_gamma=2.5&batch_size=32&lr_g=oops")
    page.get_by_role("heading", name="Train a GAN").wait_for(timeout=60_000)
    page.get_by_text("The link's lr_g 'oops' is not a number; kept the default.").wait_for(timeout=30_000)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text(re.compile("you can ask it for a 7")).wait_for(timeout=10_000)  # the lesson's caption
    assert "emoji" in page.url
    assert shows(page, "R1 penalty γ", "2.50") and shows(page, "Batch size", "32")
    assert page.get_by_role("checkbox", name="Conditional: ask for a class").is_checked()
    deadline = time.monotonic() + 15  # the address drops what did not fit and keeps the rest
    while "lr_g" in page.url and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert "r1_gamma=2.5" in page.url and "lr_g" not in page.url
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text(re.compile(r"/train\?preset=Lesson")).first.wait_for(timeout=10_000)
    page.screenshot(path=str(shots / "shared-link.png"), full_page=True)
    page.goto(f"{app_url}/playground?lesson=collapse&seed=9")
    page.get_by_role("heading", name="2D Playground").wait_for(timeout=60_000)
    page.get_by_text("G learns ten times faster than D").wait_for(timeout=30_000)  # the collapse lesson
    assert shows(page, "Seed", "9")
    context.close()


def test_students_share_runs_and_the_class_gallery_shows_them_ranked(app_url, browser, tmp_path):
    shots = Path(os.environ.get("GAN_STUDIO_SCREENSHOTS", tmp_path))
    tiny = "g_width=8&d_width=8&epochs=1&batch_size=128&max_seconds=0.0"
    students = []
    for nickname, seed in (("Ada", 1), ("Grace", 2)):  # each in a browser of their own: separate sessions
        context = browser.new_context(viewport={"width": 1600, "height": 1100})
        page = context.new_page()
        page.goto(f"{app_url}/train?{tiny}&seed={seed}")
        page.get_by_role("button", name="Start training").click(timeout=60_000)
        students.append((context, page, nickname))
    for context, page, nickname in students:  # one run at a time on 2 cores: the second waits for a slot
        page.get_by_text(re.compile(r"· finished")).wait_for(timeout=120_000)
        share_to_gallery(page, nickname)
        try:
            page.get_by_text(f"On the class gallery as {nickname}").wait_for(timeout=30_000)
        except PlaywrightTimeoutError:  # say what the page showed instead: a refusal, or a nickname that was lost
            pytest.fail(f"{nickname}'s run is not shown as shared; the page says: "
                        f"{page.locator('body').inner_text()[-3000:]}")  # the main area comes last
    teacher = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
    teacher.goto(f"{app_url}/gallery")
    for nickname in ("Ada", "Grace"):
        teacher.get_by_text(re.compile(rf"^\d\. {nickname}$")).wait_for(timeout=30_000)
    grids = teacher.locator("[data-testid='stImage'] img")
    deadline = time.monotonic() + 15  # the names come first, the pictures a moment later
    while grids.count() < 2 and time.monotonic() < deadline:
        teacher.wait_for_timeout(200)
    assert grids.count() == 2
    assert teacher.get_by_role("button", name="Withdraw").count() == 0  # the teacher owns neither entry
    teacher.screenshot(path=str(shots / "gallery.png"), full_page=True)
    teacher.get_by_text("Presenter mode").click()
    teacher.get_by_role("heading", name=re.compile(r"^1\. ")).wait_for(timeout=30_000)
    teacher.screenshot(path=str(shots / "gallery-presenter.png"), full_page=True)
    context, page, _ = students[0]
    page.get_by_role("button", name="Withdraw from the gallery").click()
    deadline = time.monotonic() + 15  # the board refreshes every 2 s
    while teacher.get_by_text(re.compile(r"\d\. Ada$")).count() and time.monotonic() < deadline:
        teacher.wait_for_timeout(200)
    assert teacher.get_by_text(re.compile(r"\d\. Ada$")).count() == 0
    for context, _, _ in students:
        context.close()
    teacher.context.close()

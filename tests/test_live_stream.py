"""The live view's routes: a run's status, rows, grids and scores, each readable only through its own token."""
import copy
import io
import json

import pytest
from PIL import Image
from starlette.requests import Request

from ganlib.alarms import AlarmWatch
from ganlib.config import ModelConfig, TrainConfig
from ganlib.runs import RunManager
from studio import live_stream
from studio.live_stream import live_data, live_grid, live_real_grid, snapshot, stream_token

TINY = ModelConfig(g_width=8, d_width=8, latent_dim=16)


def ask_route(endpoint, token, query="", **path):
    """What a route answers a GET of this token (and query), as the server would call it."""
    request = Request({"type": "http", "method": "GET", "headers": [], "query_string": query.encode(),
                       "path_params": {"token": token, **path}})
    return endpoint(request)


class CountingList(list):
    """A list that counts the items read from it, one by one or by slice."""
    items_read = 0

    def __getitem__(self, index):
        got = super().__getitem__(index)
        self.items_read += len(got) if isinstance(index, slice) else 1
        return got

    def __iter__(self):
        self.items_read += len(self)
        return super().__iter__()


def answer(token, query=""):
    response = ask_route(live_data, token, query)
    assert response.status_code == 200
    return json.loads(response.body)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, digits):
    """A tiny DCGAN run of two 10-step epochs, finished, in its own manager."""
    from ganlib.datasets import TensorImages

    manager = RunManager(max_concurrent=1, runs_root=tmp_path_factory.mktemp("runs"))
    data = TensorImages(digits.images[:640].clone(), digits.labels[:640].clone())
    run_id = manager.start("alice", TINY, TrainConfig(epochs=2, batch_size=64, device="cpu"), data=data)
    assert manager.wait(run_id, 120)
    run = manager.get(run_id)
    assert run.status == "finished", run.message
    return run, manager


def test_the_first_ask_gets_the_whole_run_and_empty_charts_naming_their_columns(finished_run):
    run, manager = finished_run
    got = answer(stream_token(run, manager))
    assert got["state"] == "finished" and got["status"].startswith("Epoch 2/2 · step 20 · ")
    assert got["status"].endswith("· finished") and got["fraction"] == 1.0
    assert got["rows"]["step"][-1] == 20 and len(got["rows"]["loss_d"]) == len(got["rows"]["step"]) == len(run.rows)
    titles = [chart["layout"]["title"]["text"] for chart in got["charts"]]
    assert titles == ["Losses", "The game's scoreboard", "Gradient norms"]
    assert [trace["meta"] for trace in got["charts"][0]["data"]] == ["loss_d", "loss_g"]
    assert all(trace["x"] == [] for chart in got["charts"] for trace in chart["data"])  # the rows fill them
    assert [grid["caption"] for grid in got["grids"]] == ["Generated from the fixed noise · epoch 1, step 10",
                                                          "Generated from the fixed noise · epoch 2, step 20"]
    assert got["real"] is True
    assert [score["summary"].split(":")[0] for score in got["scores"]] == ["Quality meter · epoch 1",
                                                                           "Quality meter · epoch 2"]
    assert "legible" in got["scores"][1]["summary"] and "Fréchet" in got["scores"][1]["summary"]
    histogram = got["scores"][1]["histogram"]
    assert histogram["layout"]["title"]["text"] == "Which digits G draws · epoch 2"
    assert len(histogram["data"][0]["y"]) == 10
    assert got["frechet"]["data"][0]["x"] == [1, 2]


def test_a_later_ask_gets_only_what_is_new(finished_run):
    run, manager = finished_run
    got = answer(stream_token(run, manager), "after=15&grids=1&scores=2")
    assert got["rows"]["step"] == [step for step in (row["step"] for row in run.rows) if step > 15]
    assert [grid["index"] for grid in got["grids"]] == [1]
    assert got["scores"] == [] and "frechet" not in got and "charts" not in got
    assert answer(stream_token(run, manager), "after=nonsense")["rows"]["step"][0] == run.rows[0]["step"]
    assert len(answer(stream_token(run, manager), "grids=-5&scores=x")["grids"]) == 2  # a bad count: from the start


def test_a_long_run_is_thinned_to_a_bounded_answer_keeping_the_latest_row(finished_run, monkeypatch):
    run, manager = finished_run
    monkeypatch.setattr(live_stream, "MAX_ROWS", 5)
    steps = answer(stream_token(run, manager))["rows"]["step"]
    assert len(steps) <= 6 and steps[-1] == 20 and steps == sorted(steps)


def test_grids_are_served_as_pngs_of_the_run_itself(finished_run):
    run, manager = finished_run
    token = stream_token(run, manager)
    response = ask_route(live_grid, token, index="1")
    assert response.media_type == "image/png"
    image = Image.open(io.BytesIO(response.body))
    assert image.size == run.grids[1].image.size
    assert image.convert("L").tobytes() == run.grids[1].image.convert("L").tobytes()
    for index in ("2", "-1", "abc", "1" * 5000, "٣", "0x1", "+1", " 1"):  # past the end, and not plain digits
        assert ask_route(live_grid, token, index=index).status_code == 404
    real = Image.open(io.BytesIO(ask_route(live_real_grid, token).body))
    assert real.size == run.started.real_grid.size


def test_only_the_token_reads_the_run(finished_run, tmp_path):
    run, manager = finished_run
    token = stream_token(run, manager)
    for endpoint, path in ((live_data, {}), (live_grid, {"index": "0"}), (live_real_grid, {})):
        for wrong in ("", "x", token[:-1], token.upper(), "plotly.min.js"):
            assert ask_route(endpoint, wrong, **path).status_code == 404
    assert stream_token(run, manager) != token  # each page gets its own
    forgotten = stream_token(run, RunManager(runs_root=tmp_path))  # a manager that no longer holds the run
    assert ask_route(live_data, forgotten).status_code == 404


def test_the_routes_stay_out_of_streamlits_own_paths():
    paths = [route.path for route in live_stream.ROUTES]
    assert all(path.startswith("/api/live") for path in paths)
    assert paths[0] == "/api/live/plotly.min.js"  # before the token route, which would otherwise take its name


def asgi_get(app, path, headers=()):
    """(status, headers, body) of a GET of `path`, through the app's own routing, as a server would call it."""
    import asyncio

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(k.encode(), v.encode()) for k, v in headers], "scheme": "http", "server": ("t", 80),
             "root_path": "", "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict((k.decode(), v.decode()) for k, v in start["headers"]), \
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_every_malformed_path_under_the_prefix_is_404_not_the_apps_page(finished_run):
    """Streamlit answers any unknown path with its index page (200); under /api/live nothing may reach it, and
    nothing may raise: a 5,000-digit grid number once answered 500 with a traceback in the server's log."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    run, manager = finished_run
    token = stream_token(run, manager)
    app = Starlette(routes=[*live_stream.ROUTES, Route("/{rest:path}", lambda request: HTMLResponse("index"))])
    assert asgi_get(app, f"/api/live/{token}/grid/1.png")[0] == 200
    assert asgi_get(app, "/elsewhere")[2] == b"index"  # the stand-in for Streamlit's own catch-all
    for path in (f"grid/{'9' * 5000}.png", "grid/-1.png", "grid/abc.png", "grid/1.5.png", "grid/.png", "grid/",
                 "grid", "real.png/x", "x/y/z", "%00", "..%2F..%2Fetc%2Fpasswd", "grid/1.png/more"):
        status, _, body = asgi_get(app, f"/api/live/{token}/{path}")
        assert status == 404 and body == b"", path
    for path in ("/api/live", "/api/live/", "/api/live//grid/1.png", f"/api/live/{'x' * 10_000}/real.png"):
        assert asgi_get(app, path)[0] == 404, path


def test_plotly_is_cached_by_the_browser_and_revalidated_for_free():
    from starlette.applications import Starlette

    app = Starlette(routes=live_stream.ROUTES)
    status, headers, body = asgi_get(app, "/api/live/plotly.min.js")
    assert status == 200 and b"plotly" in body[:2000].lower() and len(body) > 1_000_000
    assert "max-age=86400" in headers["cache-control"] and headers["etag"].startswith('"')
    status, _, body = asgi_get(app, "/api/live/plotly.min.js", headers=[("if-none-match", headers["etag"])])
    assert status == 304 and body == b""


def test_a_token_that_polls_faster_than_five_times_a_second_is_told_429(finished_run):
    run, manager = finished_run
    token = stream_token(run, manager)
    statuses = [ask_route(live_data, token).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    limit = live_stream.PollLimit(per_second=5)
    assert all(limit.allow("t", now=10 + 0.25 * k) for k in range(40))  # four a second, as long as it likes
    assert [limit.allow("u", now=20 + 0.01 * k) for k in range(6)] == [True] * 5 + [False]
    assert limit.allow("u", now=21.0)  # a second later it may ask again


def test_a_polls_cost_does_not_grow_with_the_run(finished_run):
    """Asking for new rows copies only them, and the alarms come from the run's own watch: 100,000 rows answer
    with the same work as 100 (counted in rows read, not timed)."""
    run, manager = finished_run
    long = copy.copy(run)
    long.rows = [dict(run.rows[-1], step=step) for step in range(1, 100_001)]
    long.alarm_watch = AlarmWatch().add_rows(long.rows)
    reads = CountingList(long.rows)
    long.rows = reads
    got = snapshot(long, after=99_990, grids_seen=2, scores_seen=2)
    assert got["rows"]["step"] == list(range(99_991, 100_001))
    assert reads.items_read < 100  # a binary search and a slice of ten, not a copy of the whole run


def test_random_paths_under_the_prefix_are_404_unless_they_name_what_exists(finished_run):
    import random
    from urllib.parse import quote

    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    run, manager = finished_run
    token = stream_token(run, manager)
    app = Starlette(routes=[*live_stream.ROUTES, Route("/{rest:path}", lambda request: HTMLResponse("index"))])
    rng = random.Random(5)
    pieces = [token, "grid", "real.png", "0.png", "1.png", "2.png", "-1.png", "9" * 50 + ".png", "..", ".", "",
              "%00", "é", "plotly.min.js", "x" * 300, "0", "png"]
    for _ in range(300):
        path = "/api/live/" + "/".join(quote(rng.choice(pieces), safe="%.") for _ in range(rng.randint(0, 4)))
        status, _, body = asgi_get(app, path)
        exists = path in (f"/api/live/{token}", f"/api/live/{token}/real.png", f"/api/live/{token}/grid/0.png",
                          f"/api/live/{token}/grid/1.png", "/api/live/plotly.min.js")
        assert status in ((200, 429) if exists else (404,)) and body != b"index", path


def test_a_colour_run_streams_how_real_and_how_varied_beside_their_floors():
    from pathlib import Path

    from ganlib.quality import QualityScore
    from ganlib.runs import Run
    from ganlib.events import QualityScored

    run = Run("colour", "s", TINY, TrainConfig(dataset="emoji"), Path("/nonexistent"), status="running")
    for epoch, (recognised, coverage) in enumerate(((0.05, 0.3), (0.2, 0.6)), start=1):
        run.on_event(QualityScored(epoch, 10 * epoch, QualityScore(
            900.0, 0.9, real_frechet=150.0, coverage=coverage, real_coverage=0.95, recognised=recognised,
            real_recognised=0.84)))
    got = snapshot(run, scores_seen=0)
    chart = got["diversity"]
    assert [trace["name"] for trace in chart["data"]] == ["read as emoji (how real)", "covers (how varied)"]
    assert chart["data"][0]["y"] == [0.05, 0.2] and chart["data"][1]["y"] == [0.3, 0.6]
    assert sorted(shape["y0"] for shape in chart["layout"]["shapes"]) == [0.84, 0.95]
    assert got["scores"][1]["summary"].endswith(
        "how real: 20% read as emoji (real: 84%) · Fréchet 900.0 (real: 150.0) · how varied: covers 60% (real: 95%)")

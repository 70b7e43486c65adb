"""The live view's routes: a run's status, rows, grids and scores, each readable only through its own token."""
import io
import json

import pytest
from PIL import Image
from starlette.requests import Request

from ganlib.config import ModelConfig, TrainConfig
from ganlib.runs import RunManager
from studio import live_stream
from studio.live_stream import live_data, live_grid, live_real_grid, stream_token

TINY = ModelConfig(g_width=8, d_width=8, latent_dim=16)


def ask_route(endpoint, token, query="", **path):
    """What a route answers a GET of this token (and query), as the server would call it."""
    request = Request({"type": "http", "method": "GET", "headers": [], "query_string": query.encode(),
                       "path_params": {"token": token, **path}})
    return endpoint(request)


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
    response = ask_route(live_grid, token, index=1)
    assert response.media_type == "image/png"
    image = Image.open(io.BytesIO(response.body))
    assert image.size == run.grids[1].image.size
    assert image.convert("L").tobytes() == run.grids[1].image.convert("L").tobytes()
    assert ask_route(live_grid, token, index=2).status_code == 404
    real = Image.open(io.BytesIO(ask_route(live_real_grid, token).body))
    assert real.size == run.started.real_grid.size


def test_only_the_token_reads_the_run(finished_run, tmp_path):
    run, manager = finished_run
    token = stream_token(run, manager)
    for endpoint, path in ((live_data, {}), (live_grid, {"index": 0}), (live_real_grid, {})):
        for wrong in ("", "x", token[:-1], token.upper(), "plotly.min.js"):
            assert ask_route(endpoint, wrong, **path).status_code == 404
    assert stream_token(run, manager) != token  # each page gets its own
    forgotten = stream_token(run, RunManager(runs_root=tmp_path))  # a manager that no longer holds the run
    assert ask_route(live_data, forgotten).status_code == 404


def test_the_routes_stay_out_of_streamlits_own_paths():
    paths = [route.path for route in live_stream.ROUTES]
    assert all(path.startswith("/api/live/") for path in paths)
    assert paths[0] == "/api/live/plotly.min.js"  # before the token route, which would otherwise take its name
    script = ask_route(live_stream.plotly_js, "")
    assert script.media_type == "text/javascript" and b"plotly" in script.body[:2000].lower()

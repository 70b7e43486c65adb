"""A run's live view as data: routes beside Streamlit's own that serve one run's progress to the page that owns it.

Why routes: a Streamlit rerun makes the browser render the page again, and with the browser on the cores that
train, reruns every second cost a run a third of its speed. The live view component (studio/live_view.py) asks
these routes for what is new instead: metric rows after a step, grids and quality scores after a count, the
status line. Each run is reachable only through an unguessable token made for the session that started it; any
other path or token gets 404 and nothing lists runs. Answers are bounded (rows thinned past MAX_ROWS) and built
from copies, so a slow or vanished client holds nothing the training thread waits for.
"""
import bisect
import collections
import functools
import hashlib
import io
import json
import secrets
import threading
import time
import weakref

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ganlib.config import epochs_of

MAX_ROWS = 2_000  # metric rows in one answer; more are thinned evenly (a page opened late in a long run)
PREFIX = "/api/live"  # outside Streamlit's reserved /_stcore/, /media/, /component/, /static/

_streams = {}  # token → (weak reference to the run, its manager)
_lock = threading.Lock()


def stream_token(run, manager):
    """A new token that reads `run` (kept while the run is); given only to the session that owns the run."""
    token = secrets.token_urlsafe(24)
    with _lock:
        for old in [t for t, (ref, _) in _streams.items() if ref() is None]:
            del _streams[old]
        _streams[token] = (weakref.ref(run), manager)
    return token


def _find(token):
    """(run, manager) for a token, or None (also once the manager has forgotten the run)."""
    with _lock:
        run_ref, manager = _streams.get(token, (lambda: None, None))
    run = run_ref()
    return None if run is None or manager.get(run.run_id) is not run else (run, manager)


def status_line(run, queue_position=0):
    """(the run's status in one line, the fraction of its budget done)."""
    if run.status == "queued":
        if run.cluster:
            ahead = max((queue_position or 1) - 1, 0)
            moved = f"{run.notice}. " if run.notice else ""
            return f"{moved}Waiting for the cluster: {ahead} run{'s' * (ahead != 1)} ahead.", 0.0
        return f"Waiting for a free slot: position {queue_position} in the queue.", 0.0
    if run.started is None and not run.active:  # failed or stopped while loading: the error says why
        return f"The run {run.status} before training began", 0.0
    where = f" on {run.placement}" if run.placement else ""
    if run.status == "starting" or run.started is None:
        return f"Loading the dataset and building the networks{where}…", 0.0
    p, cfg = run.progress, run.train_cfg
    if p is None:
        return f"Epoch 0{epochs_of(cfg)} · step 0 · warming up", 0.0
    by_steps = p.step / run.started.total_steps if run.started.total_steps else 0.0
    by_time = p.elapsed / cfg.max_seconds if cfg.max_seconds else 0.0
    fraction = min(1.0, max(by_steps, by_time))
    state = {"paused": " · paused", "finished": " · finished", "stopped": " · stopped", "failed": " · failed"}
    left = "" if not run.active else f" · {p.eta_seconds:,.0f} s left"
    where = f" · training on {run.placement}" if run.placement and run.active else ""
    moved = f" · moved: {run.notice}" if run.notice else ""
    return (f"Epoch {int(p.epoch) + (run.status == 'running')}{epochs_of(cfg)} · step {p.step:,} · "
            f"{p.images_per_second:,.0f} img/s{left}{state.get(run.status, '')}{where}{moved}", fraction)


def figure_json(figure):
    """A plotly figure as the browser's plotly.js takes it, styled by the page rather than plotly's template."""
    spec = json.loads(figure.to_json())
    spec["layout"].pop("template", None)
    return spec


def snapshot(run, after=-1, grids_seen=0, scores_seen=0, queue_position=0):
    """What the live view lacks: rows after step `after`, grids and scores after the counts it has, and the status.
    The first ask (after < 0) also gets the charts, empty, each trace naming the column it draws (its meta)."""
    from ganlib import charts
    from ganlib.losses import get_loss

    probabilities = get_loss(run.train_cfg.loss).probabilities
    text, fraction = status_line(run, queue_position)
    rows = run.rows  # appended to by the training thread: only the rows after `after` are copied
    rows = charts.thin(rows[bisect.bisect_right(rows, after, lo=0, hi=len(rows), key=lambda row: row["step"]):],
                       MAX_ROWS)
    line_charts = empty_line_charts(probabilities)
    columns = ["step"] + [trace["meta"] for figure in line_charts for trace in figure["data"]]
    scored = list(run.quality)
    grids = list(run.grids)
    answer = {
        "state": run.status, "status": text, "fraction": fraction,
        "rows": {column: [row[column] for row in rows] for column in columns},
        "grids": [{"index": index, "step": grid.step, "epoch": grid.epoch,
                   "label": f"epoch {grid.epoch}" if grid.epoch_end else f"step {grid.step:,}",
                   "caption": f"Generated from the fixed noise · epoch {grid.epoch}, step {grid.step:,}"}
                  for index, grid in enumerate(grids) if index >= grids_seen],
        "real": run.started is not None and run.started.real_grid is not None,
        "scores": [quality_entry(event) for event in scored[scores_seen:]],
        "alarms": [f"{alarm.message} {alarm.fix}" for alarm in run.alarm_watch.alarms()],
    }
    if after < 0:
        answer["charts"] = line_charts
    if len(scored) > scores_seen:
        answer["frechet"] = figure_json(charts.quality_chart(scored))
        if scored[-1].score.coverage is not None:  # colour: how real and how varied, each beside its floor
            answer["diversity"] = figure_json(charts.colour_chart(scored))
        elif scored[-1].score.class_histogram is None:
            per_epoch = [{"epoch": e.epoch, "diversity": e.score.diversity} for e in scored]
            answer["diversity"] = figure_json(charts.line_chart(
                per_epoch, [("diversity", "samples ÷ real")], "Diversity (1 = as varied as the real images)",
                "diversity", x="epoch"))
    return answer


@functools.cache
def empty_line_charts(probabilities):
    """The live view's three line charts with no points yet (built once: plotly figures take milliseconds)."""
    from ganlib import charts

    return [figure_json(figure) for figure in (charts.loss_chart([]), charts.score_chart([], probabilities),
                                               charts.gradient_chart([]))]


def quality_entry(event):
    """One epoch's quality score: its line of figures and, for digits, the histogram of what G draws."""
    from ganlib import charts

    histogram = event.score.class_histogram
    return {"step": event.step, "summary": f"Quality meter · epoch {event.epoch:g}: {event.score.summary()}",
            "histogram": None if histogram is None else figure_json(
                charts.class_histogram_chart(histogram, f"Which digits G draws · epoch {event.epoch:g}"))}


def _query_number(request, name, lowest):
    """A query parameter as a whole number no lower than `lowest`, which also stands in for a missing or bad one."""
    try:
        return max(lowest, int(request.query_params.get(name, lowest)))
    except ValueError:
        return lowest


def live_data(request):
    token = request.path_params["token"]
    found = _find(token)
    if found is None:
        return Response(status_code=404)
    if not _polls.allow(token):
        return Response(status_code=429, headers={"Retry-After": "1"})
    run, manager = found
    manager.touch(run.session_id)  # a page that polls is open, whatever its heartbeat is doing
    position = manager.queue_position(run.run_id) if run.status == "queued" else 0
    answer = snapshot(run, _query_number(request, "after", -1), _query_number(request, "grids", 0),
                      _query_number(request, "scores", 0), position)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return Response(buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


def live_grid(request):
    """grid/N.png: N in plain decimal digits, as the view asks for it; any other spelling is a path that does not
    exist (a huge number or a sign never reaches int())."""
    found = _find(request.path_params["token"])
    grids = list(found[0].grids) if found else []
    index = request.path_params["index"]
    if not (index.isascii() and index.isdigit() and len(index) <= 9 and int(index) < len(grids)):
        return Response(status_code=404)
    return png(grids[int(index)].image)


def live_real_grid(request):
    found = _find(request.path_params["token"])
    started = found[0].started if found else None
    return png(started.real_grid) if started is not None and started.real_grid is not None else Response(
        status_code=404)


def plotly_js(request):
    """plotly.js of the installed plotly package: the charts draw offline, with no CDN. Browsers keep it a day and
    then ask again with its ETag, which costs 304 and no body while the file is the same."""
    source, etag = _plotly_source()
    headers = {"Cache-Control": "public, max-age=86400", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(source, media_type="text/javascript", headers=headers)


@functools.cache
def _plotly_source():
    """(plotly.js as bytes, its ETag)."""
    import plotly

    source = plotly.offline.get_plotlyjs().encode()
    return source, f'"{hashlib.sha256(source).hexdigest()[:32]}"'


def not_found(request):
    """Every other path under the prefix: nothing there, whatever its shape."""
    return Response(status_code=404)


class PollLimit:
    """At most `per_second` answers a second for one token, in a sliding second: a page polls once a second
    (more when it catches up), so a client that asks faster is misbehaving and is told 429."""

    def __init__(self, per_second=5):
        self.per_second = per_second
        self._times = {}  # token → deque of recent answer times
        self._lock = threading.Lock()

    def allow(self, token, now=None):
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._times.setdefault(token, collections.deque())
            while times and now - times[0] >= 1.0:
                times.popleft()
            if len(times) >= self.per_second:
                return False
            times.append(now)
            if len(self._times) > 10_000:  # tokens of long-gone runs
                self._times = {t: q for t, q in self._times.items() if q and now - q[-1] < 1.0}
            return True


_polls = PollLimit()


ROUTES = [
    Route(f"{PREFIX}/plotly.min.js", plotly_js),
    Route(f"{PREFIX}/{{token}}", live_data),
    Route(f"{PREFIX}/{{token}}/grid/{{index}}.png", live_grid),
    Route(f"{PREFIX}/{{token}}/real.png", live_real_grid),
    Route(PREFIX, not_found),
    Route(f"{PREFIX}/{{rest:path}}", not_found),  # before Streamlit's own catch-all, which answers its index page
]

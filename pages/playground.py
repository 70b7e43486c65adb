"""2D Playground: the adversarial game on points in the plane, live or one D or G step at a time."""
import time
from dataclasses import fields, replace

import numpy as np
import streamlit as st

from studio.links import Setting, follow_link, keep_address, ranged_number, share_link, show_problems
from studio.session import page_setup, plain
from ganlib import charts
from ganlib.config import NOISES, OPTIMIZERS, PointModelConfig, PointTrainConfig, preset
from ganlib.device import single_cpu_thread
from ganlib.errors import Diverged, GanStudioError
from ganlib.lessons import LESSONS
from ganlib.losses import LOSSES
from ganlib.pointgan import PointGAN, describe_point_metrics
from ganlib.points import POINT_DATASETS, points_from_csv, user_points

TICK_SECONDS = 0.25  # the live figure redraws four times a second while playing
STEP_SECONDS = 0.12  # training time per tick; slow motion takes one step per tick instead
DATA_TITLES = {**{name: make().title for name, make in POINT_DATASETS.items()}, "points": "Your points"}
# Settings kept when presenter mode hides their widgets (Streamlit forgets the state of unrendered widgets).
KEPT_KEYS = ["pg_lesson", "pg_slow", "pg_layers",
             *(f"pg_{f.name}" for config in (PointModelConfig, PointTrainConfig) for f in fields(config))]
# Each number widget's range: also the values a shared link may set.
RANGES = {"lr_g": (1e-6, 1.0), "lr_d": (1e-6, 1.0), "d_steps": (1, 20), "r1_gamma": (0.0, 100.0),
          "latent_dim": (1, 64), "hidden_layers": (1, 8), "g_width": (1, 512), "batch_size": (1, 4096),
          "seed": (0, 2**31 - 1)}
LINK_SETTINGS = [Setting("pg_lesson", str, tuple(LESSONS)), Setting("pg_dataset", str, tuple(DATA_TITLES)),
                 Setting("pg_loss", str, tuple(LOSSES)), Setting("pg_optimizer", str, OPTIMIZERS),
                 Setting("pg_noise", str, NOISES), Setting("pg_layers", list, tuple(charts.GAME_LAYERS)),
                 Setting("pg_slow", bool), Setting("pg_presenter", bool),
                 *(Setting(f"pg_{name}", type(low), low=low, high=high) for name, (low, high) in RANGES.items())]


def lesson_state(name):
    """Every setting widget's value under a lesson, by widget key."""
    model, train = preset("mlp2d", **LESSONS[name].playground)
    return {f"pg_{f.name}": getattr(config, f.name) for config in (model, train) for f in fields(config)}


def apply_lesson():
    """Copy the chosen lesson's settings into the widgets and start the game afresh."""
    st.session_state.update(lesson_state(st.session_state.pg_lesson))
    st.session_state.pop("pg_gan", None)
    st.session_state.pg_playing = False


def write_link():
    """The page's address: the settings that differ from the chosen lesson's."""
    defaults = {**lesson_state(st.session_state.pg_lesson), "pg_lesson": next(iter(LESSONS)),
                "pg_layers": list(charts.GAME_LAYERS), "pg_slow": False, "pg_presenter": False}
    return keep_address(LINK_SETTINGS, defaults)


def number(column, label, name, **options):
    return ranged_number(column, label, f"pg_{name}", RANGES, **options)


def settings(side):
    """The sidebar → (model_cfg, train_cfg): the dataset and the knobs GAN Lab has, plus D steps and R1."""
    side.header("Settings")
    side.selectbox("Data", list(DATA_TITLES), key="pg_dataset", format_func=DATA_TITLES.get)
    side.selectbox("Loss", list(LOSSES), key="pg_loss", help="the same losses as image runs; 'minimax' is the "
                   "original saturating one")
    side.selectbox("Optimizer", OPTIMIZERS, key="pg_optimizer")
    left, right = side.columns(2)
    number(left, "G learning rate", "lr_g", format="%.5f", step=1e-4)
    number(right, "D learning rate", "lr_d", format="%.5f", step=1e-4)
    number(left, "D steps per G step", "d_steps")
    number(right, "R1 penalty γ", "r1_gamma", step=0.05, help="0: off")
    number(left, "Noise size", "latent_dim")
    right.selectbox("Noise", NOISES, key="pg_noise")
    number(left, "Hidden layers", "hidden_layers")
    number(right, "Width", "g_width", help="neurons per hidden layer, G and D")
    number(left, "Batch size", "batch_size")
    number(right, "Seed", "seed")


def configs():
    values = {f.name: st.session_state[f"pg_{f.name}"] for config in (PointModelConfig, PointTrainConfig)
              for f in fields(config) if f"pg_{f.name}" in st.session_state}
    values["d_width"] = values["g_width"]
    return preset("mlp2d", **{**values, "lr_decay": False})  # a game played by hand has no budget to decay over


def point_data(dataset):
    """The data to play on; 'Your points' come from a CSV upload and from clicks on the canvas."""
    if dataset != "points":
        return POINT_DATASETS[dataset]()
    placed = st.session_state.setdefault("pg_placed", [])
    upload = st.file_uploader("Points as CSV (x,y per row)", type=["csv", "txt"], key="pg_csv")
    uploaded = points_from_csv(upload.getvalue()) if upload else np.zeros((0, 2))
    points_canvas(placed, uploaded)
    points = np.concatenate([uploaded, np.array(placed, dtype=np.float32).reshape(-1, 2)])
    if len(points) < 2:
        raise GanStudioError("place at least two points on the canvas (click, or drag a lasso) or upload a CSV")
    return user_points(points)


def points_canvas(placed, uploaded):
    """A faint grid of clickable dots: clicking one, or lassoing many, adds them to your points."""
    canvas_col, help_col = st.columns([2, 1])
    event = canvas_col.plotly_chart(charts.canvas_figure([*uploaded, *placed]), on_select="rerun",
                                    selection_mode=("points", "lasso", "box"), key="pg_canvas")
    chosen = tuple((p["x"], p["y"]) for p in event.selection.points if p["curve_number"] == 0)
    if chosen and chosen != st.session_state.get("pg_canvas_last"):
        st.session_state.pg_canvas_last = chosen  # a selection stays selected across reruns: add it once
        placed.extend(chosen)
        st.session_state.pop("pg_gan", None)
        st.rerun()  # draw the canvas again with the new points on it
    help_col.caption(f"{len(placed)} placed, {len(uploaded)} uploaded. Each point is blurred by 2% of the "
                     "cloud's size, so a few clicks make a distribution.")
    if help_col.button("Clear placed points", key="pg_clear_points"):
        placed.clear()
        st.session_state.pop("pg_gan", None)


def current_gan(model_cfg, train_cfg, data):
    """The session's game: rebuilt when the data or the networks change, retuned in place otherwise."""
    identity = (replace(model_cfg, data_scale=0), train_cfg.dataset, train_cfg.optimizer, train_cfg.seed,
                len(data.centers), float(data.centers.sum()))
    gan = st.session_state.get("pg_gan")
    if gan is None or st.session_state.get("pg_identity") != identity:
        gan = st.session_state.pg_gan = PointGAN(model_cfg, train_cfg, data)
        st.session_state.pg_identity = identity
    elif gan.cfg != train_cfg:
        gan.retune(train_cfg)
    return gan


def take(gan, action):
    """Run one of the step buttons' actions; a diverged game pauses with its message."""
    try:
        with single_cpu_thread():
            action(gan)
    except Diverged as error:
        st.session_state.pg_playing = False
        st.session_state.pg_error = str(error)


def play_for(seconds):
    """An action: steps of the game for `seconds` of training time."""
    def action(gan):
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            gan.train_step()
    return action


def controls(gan):
    play, step, d_only, g_only, slow, reset = st.columns([1, 1, 1, 1, 1.3, 1])
    playing = st.session_state.setdefault("pg_playing", False)
    if play.button("Pause" if playing else "Play", key="pg_play", type="primary", width="stretch"):
        st.session_state.pg_playing = not playing
        st.rerun()  # the live view's refresh timer starts or stops with a full rerun
    if step.button("Step", key="pg_step", help="D steps, then one G step", width="stretch"):
        take(gan, PointGAN.train_step)
    if d_only.button("D step", key="pg_step_d", help="one update of the discriminator alone", width="stretch"):
        take(gan, PointGAN.d_step)
    if g_only.button("G step", key="pg_step_g", help="one update of the generator alone", width="stretch"):
        take(gan, PointGAN.g_step)
    slow.toggle("Slow motion", key="pg_slow", help="one step per refresh")
    if reset.button("Reset", key="pg_reset", width="stretch"):
        st.session_state.pop("pg_gan", None)
        st.session_state.pg_playing = False
        st.rerun()


def live_view(presenting):
    """Polled while playing: train for a slice of time, then redraw the figure, the figures and the charts."""
    gan = st.session_state.get("pg_gan")
    if gan is None:
        return
    if st.session_state.get("pg_playing"):
        take(gan, PointGAN.train_step if st.session_state.get("pg_slow") else play_for(STEP_SECONDS))
    if st.session_state.get("pg_error"):
        st.error(plain(st.session_state.pop("pg_error")))
    with single_cpu_thread():
        figures = describe_point_metrics(gan.metrics())
        figure = charts.game_figure(gan, st.session_state.get("pg_layers", charts.GAME_LAYERS),
                                    780 if presenting else 560)
    st.markdown(f"**Step {gan.step:,}** · {gan.updates:,} updates · {figures}")
    figure_col, chart_col = (st.container(), None) if presenting else st.columns([3, 2])
    figure_col.plotly_chart(figure, key="pg_figure")
    if chart_col is not None and gan.history:
        chart_col.plotly_chart(charts.loss_chart(gan.history, x="update"), key="pg_loss_chart")
        chart_col.plotly_chart(charts.score_chart(gan.history, gan.loss.probabilities, x="update"),
                               key="pg_score_chart")


page_setup("playground")
for key in KEPT_KEYS:  # keep settings whose widgets presenter mode does not draw
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
if "pg_lesson" not in st.session_state:
    st.session_state.pg_lesson = next(iter(LESSONS))
    st.session_state.pg_layers = list(charts.GAME_LAYERS)
    apply_lesson()
    st.session_state.pg_link_problems = follow_link(LINK_SETTINGS, first=(("pg_lesson", apply_lesson),))

title_col, link_col, presenter_col = st.columns([4, 1, 1], vertical_alignment="bottom")
title_col.title("2D Playground")
presenting = presenter_col.toggle("Presenter mode", key="pg_presenter", help="controls folded away, the figure large")
lesson = LESSONS[st.session_state.pg_lesson]
if presenting:
    st.markdown(f"### {lesson.title}\n{lesson.explanation}")
else:
    lesson_col, text_col = st.columns([1, 2])
    lesson_col.selectbox("Lesson", list(LESSONS), key="pg_lesson", format_func=lambda k: LESSONS[k].title,
                         on_change=apply_lesson)
    text_col.info(lesson.explanation)
    settings(st.sidebar)
show_problems(st.sidebar, st.session_state.get("pg_link_problems", []))
with link_col.popover("Copy link", icon=":material/link:", help="A link that opens this page with these settings"):
    st.code(share_link(st.context.url, write_link()), language=None, wrap_lines=True)
try:
    model_cfg, train_cfg = configs()
    gan = current_gan(model_cfg, train_cfg, point_data(train_cfg.dataset))
except GanStudioError as error:
    st.warning(plain(error))
    st.stop()
controls(gan)
if not presenting:
    st.pills("Layers", charts.GAME_LAYERS, selection_mode="multi", key="pg_layers")
playing = st.session_state.get("pg_playing", False)
st.fragment(live_view, run_every=TICK_SECONDS if playing else None)(presenting)
if not presenting:
    st.caption("Green: real points. Purple: what G draws now. Background: D's verdict (blue = real, red = fake). "
               "Grey lines: a square grid of noise, bent by G. Orange arrows: where G's loss gradient pushes each "
               "point. Modes and high quality as in the literature: a sample within 3σ of a center is high quality; "
               "a mode is captured when it has one. KL and JS compare 2,500 samples on a 50×50 grid.")

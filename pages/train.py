"""Train: pick a dataset and a model, press Start, and watch the adversarial game live."""
import os
import re
import secrets
from dataclasses import fields
from pathlib import Path

import streamlit as st

from studio.session import (HEARTBEAT_SECONDS, gallery, keep_alive, page_setup, plain, run_manager, saved_dir,
                            session_id, staged_upload, withdraw_from_gallery)
from ganlib import charts
from ganlib.archives import stage_zip_upload
from ganlib.checkpoint import export_generator
from ganlib.config import IMAGE_SIZES, PRECISIONS, WITHOUT_LABELS, ModelConfig, TrainConfig, preset
from ganlib.datasets import DATASETS, conditional_settings
from ganlib.device import available_devices
from ganlib.errors import GanStudioError
from ganlib.host import confined_path, data_root, shared_checkpoints
from ganlib.hub import HUB_NOTE, hub_zip
from ganlib.images import save_gif
from ganlib.lessons import LESSONS
from ganlib.losses import LOSSES, get_loss
from ganlib.rundir import RunDirectory
from ganlib.script import standalone_script
from ganlib.runs import HostLimits
from studio.links import Setting, follow_link, keep_address, ranged_number, share_link, show_problems
from studio.live_view import live_view

# label → (ganlib preset, overrides, the lesson's explanation)
MLP = ("The notebooks' MLP GAN: their layers, Adam 2e-4, batch 64, 50 epochs, plus an R1 penalty (γ 10) on D. "
       "Set R1 to 0 to train it exactly as the notebooks did: it then collapses to a few digits.")
COLOUR = ("The recommended DCGAN on the shipped emoji, in colour at 32 px, for five minutes: colour takes longer "
          "than digits. An R1 penalty keeps D from winning the game (left alone it does, after a few minutes, and "
          "the samples decay), and the learning rates fall to 0 as the five minutes run out. Faces, flags and "
          "symbols appear first; fine detail takes longer. Tick Conditional to ask it for a category (Flags).")
NO_LABELS = ("The recommended DCGAN without the labels: G is never told which digit an image shows and must find the "
             "ten digits on its own, helped by ten latent codes that D must read back. It draws digits too, but "
             "more of them broken or half one digit, half another: where one digit's region of the latent space "
             "meets the next. Run the recommended DCGAN next to it: told the labels, G is handed those regions, "
             "and you can ask it for a 7.")
FEW_SHOT = ("The few-shot GAN after FastGAN (2021) on the shipped emoji for five minutes: its generator passes each "
            "small map's gist straight to the large ones (skip-layer excitation), its discriminator must also "
            "rebuild the real images it sees, and both play the hinge loss on colour-shifted, moved and cut views. "
            "Slower per step than the DCGAN on a CPU; built for a few hundred to a few thousand images.")
PRESETS = {"DCGAN (recommended)": ("dcgan", {}, ""),
           "DCGAN in colour (emoji)": ("dcgan", {"dataset": "emoji", "max_seconds": 300.0}, COLOUR),
           "Few-shot GAN in colour (emoji)": ("fastgan", {"dataset": "emoji"}, FEW_SHOT),
           "Original MLP GAN (notebook)": ("mlp", {}, MLP),
           "Lesson: No labels (unconditional)": ("dcgan", WITHOUT_LABELS, NO_LABELS),
           **{f"Lesson: {lesson.title}": (lesson.image_preset, lesson.image_overrides, lesson.explanation)
              for lesson in LESSONS.values() if lesson.image_preset}}
FAMILIES = ("dcgan", "fastgan", "mlp")  # the image families the Model box and a link may choose
DEFAULT_SECONDS = 60
REFRESH_SECONDS = (1, 2, 5)
REFRESH_HELP = ("How often the charts and grids redraw while a run trains. Drawing takes CPU: when the browser runs "
                "on the machine that trains (a laptop), a slower refresh leaves more of it to training.")
QUALITY = ("The quality meter scores 1,000 samples every epoch. For digits, a classifier trained on the "
           "MNIST sample says which digits G draws: even bars mean every digit is drawn; one tall bar is mode "
           "collapse. In colour, a network trained on the shipped emoji reads the samples: how many it reads as "
           "emoji (how real, emoji only) and how much of the real images' variety they cover (how varied). The "
           "Fréchet distance compares sample features with real ones; dotted lines are where real images land. "
           "In colour, read these as a trend: checked against samples labelled by eye, they hardly tell a "
           "generator's smears from its emoji. The grid does.")
LINK_HELP = ("A link that opens this page with these settings: put it on the projector and the whole room runs the "
             "same experiment.")
HEALTHY = ("Healthy: D(x) stays above D(G(z)) but neither pins to 1 or 0 — the two networks keep each other "
           "busy. D(x) → 1 with D(G(z)) → 0 means D has won and G has stopped learning.")


AUGMENTS = ("", "translation", "cutout", "translation,cutout", "color,translation,cutout")
DATA_SETTINGS = {"dataset", "data_dir", "image_size", "channels"}  # kept on a preset change, unless it brings data
# Each number widget's range: also the values a shared link may set.
RANGES = {"latent_dim": (1, 4096), "batch_size": (1, 4096), "g_width": (1, 1024), "d_width": (1, 1024),
          "lr_g": (0.0, 1.0), "lr_d": (0.0, 1.0), "beta1": (0.0, 0.999), "beta2": (0.0, 0.9999), "d_steps": (1, 20),
          "r1_gamma": (0.0, 1000.0), "r1_every": (1, 1000), "epochs": (0, 100_000), "max_seconds": (0.0, 86_400.0),
          "seed": (0, 2**31 - 1), "d_dropout": (0.0, 0.9), "ema_decay": (0.0, 0.99999), "max_steps": (0, 10**9),
          "latent_codes": (0, 100)}
FLAGS = ("conditional", "d_batchnorm", "lr_decay", "channels_last", "cuda_graph")


def host_limits():
    try:
        return HostLimits.from_environment()
    except GanStudioError as error:  # a misconfigured host: say so, and cap nothing
        st.warning(plain(error))
        return HostLimits()


def preset_state(label, dataset=None, family=None):
    """Every setting widget's value under a preset, by widget key: the preset's values, then what its dataset brings
    (`dataset`: the one chosen, else the preset's own; its size and, for `family`'s DCGAN, its measured recipe), then
    what the preset itself sets (the unconditional lesson stays unconditional on digits)."""
    name, overrides, _ = PRESETS[label]
    dataset = dataset or overrides.get("dataset") or TrainConfig.dataset
    model, train = preset(name, **{**DATASETS[dataset].settings(family or name), **overrides, "dataset": dataset})
    state = {f"train_{f.name}": getattr(config, f.name) for config in (model, train) for f in fields(config)}
    state.update(train_max_seconds=float(overrides.get("max_seconds", DEFAULT_SECONDS)),
                 train_conditional=bool(model.classes))
    return state


def apply_preset():
    """Copy the chosen preset's values into the setting widgets (the data and device stay as chosen, unless the
    preset is about its data)."""
    label = st.session_state.train_preset
    overrides = PRESETS[label][1]
    brings_data = "dataset" in overrides
    kept = {f"train_{name}" for name in {"device", *(() if brings_data else DATA_SETTINGS)}}
    dataset = None if brings_data else st.session_state.get("train_dataset")
    st.session_state.update({key: value for key, value in preset_state(label, dataset).items()
                             if key not in kept or key not in st.session_state})


def apply_conditional():
    """Labels take the place of latent codes. Unticking gives the codes the preset has on this data without labels:
    where labels were the recipe, the label-free DCGAN's (as the CLI's --no-conditional), else the preset's own."""
    state = preset_state(st.session_state.train_preset, st.session_state.train_dataset, st.session_state.train_family)
    codes = WITHOUT_LABELS["latent_codes"] if state["train_conditional"] else state["train_latent_codes"]
    st.session_state.train_latent_codes = 0 if st.session_state.train_conditional else codes


def link_settings(limits):
    """What a shared link may set, each with the values its widget accepts (studio/links.py)."""
    choices = {"preset": tuple(PRESETS), "dataset": tuple(limits.datasets), "family": FAMILIES,
               "image_size": IMAGE_SIZES, "channels": (1, 3), "loss": tuple(LOSSES), "precision": PRECISIONS,
               "augment": AUGMENTS, "device": tuple(available_devices())}
    return [*(Setting(f"train_{name}", type(options[0]), options) for name, options in choices.items()),
            *(Setting(f"train_{name}", bool) for name in FLAGS),
            *(Setting(f"train_{name}", type(low), low=low, high=high) for name, (low, high) in RANGES.items())]


def write_link(limits):
    """The page's address: the settings that differ from the chosen preset's."""
    defaults = {**preset_state(st.session_state.train_preset), "train_preset": next(iter(PRESETS))}
    return keep_address(link_settings(limits), defaults)


def number(column, label, name, **options):
    return ranged_number(column, label, f"train_{name}", RANGES, **options)


def apply_dataset():
    """A dataset brings its natural image size and channels (CIFAR-10: 32 px RGB) and the DCGAN recipe measured on
    it (digits: class-conditional; emoji: no augmentation, no latent codes), as on the command line; the previous
    dataset's recipe goes."""
    state = preset_state(st.session_state.train_preset, st.session_state.train_dataset,
                         st.session_state.train_family)
    brought = {name for spec in DATASETS.values() for name in spec.settings("dcgan")} | {"conditional"}
    st.session_state.update({f"train_{name}": state[f"train_{name}"] for name in brought})


def settings(limits):
    """The sidebar of settings → ((model_cfg, train_cfg), None), or (None, a sentence saying what is wrong)."""
    if "train_family" not in st.session_state:
        st.session_state.train_preset = next(iter(PRESETS))
        apply_preset()
        st.session_state.train_link_problems = follow_link(
            link_settings(limits), first=(("train_preset", apply_preset), ("train_dataset", apply_dataset)))
    side = st.sidebar
    side.header("Settings")
    show_problems(side, st.session_state.get("train_link_problems", []))
    side.selectbox("Preset", list(PRESETS), key="train_preset", on_change=apply_preset)
    explanation = PRESETS[st.session_state.train_preset][2]
    if explanation:
        side.caption(explanation)
    dataset = side.selectbox("Dataset", list(limits.datasets), key="train_dataset", on_change=apply_dataset,
                             format_func=lambda name: DATASETS[name].title)
    data_dir, problem = dataset_source(side) if dataset == "folder" else ("", None)
    side.selectbox("Model", FAMILIES, key="train_family",
                   help="dcgan: the DCGAN of 2015; fastgan: the few-shot GAN (2021) for small colour sets; mlp: the "
                        "notebooks' fully connected GAN")
    side.checkbox("Conditional: ask for a class", key="train_conditional", on_change=apply_conditional,
                  help="G is told which class to draw and D which class each image should be (needs labelled data: "
                       "digits, emoji categories, a folder with one subfolder per class). On by default for digits: "
                       "told the labels, G draws far more legible digits in a minute")
    side.selectbox("Image size", IMAGE_SIZES, key="train_image_size")
    side.radio("Channels", [1, 3], key="train_channels", horizontal=True,
               format_func=lambda c: "grayscale" if c == 1 else "RGB")
    side.selectbox("Loss", list(LOSSES), key="train_loss")
    left, right = side.columns(2)
    number(left, "Latent size", "latent_dim")
    number(right, "Batch size", "batch_size")
    number(left, "G width (ngf)", "g_width")
    number(right, "D width (ndf)", "d_width")
    number(left, "G learning rate", "lr_g", format="%.5f", step=1e-4)
    number(right, "D learning rate", "lr_d", format="%.5f", step=1e-4)
    number(left, "β1", "beta1", format="%.3f", step=0.1)
    number(right, "β2", "beta2", format="%.4f", step=0.001)
    number(left, "D steps per G step", "d_steps")
    number(right, "R1 penalty γ", "r1_gamma", step=1.0,
           help="penalizes D's slope at real images, which keeps G from collapsing onto a few of them; 0: off")
    number(left, "Epochs", "epochs", help="0: until the time limit")
    number(right, "Time limit (s)", "max_seconds", step=10.0, help="0: no limit")
    number(left, "Seed", "seed")
    right.selectbox("Device", available_devices(), key="train_device")
    side.checkbox("BatchNorm in D", key="train_d_batchnorm", help="DCGAN only")
    advanced_settings(side)
    if problem:
        return None, problem
    values = {f.name: st.session_state[f"train_{f.name}"] for config in (ModelConfig, TrainConfig)
              for f in fields(config) if f"train_{f.name}" in st.session_state}
    try:
        values.update(conditional_settings(dataset, data_dir) if st.session_state.train_conditional else {"classes": 0})
        model_cfg, train_cfg = preset(values["family"], **{**values, "data_dir": data_dir})
        run_manager().check(model_cfg, train_cfg)
    except GanStudioError as error:
        return None, str(error)
    return (model_cfg, train_cfg), None


def advanced_settings(side):
    """What few people change: the rest of the configs, so every setting of a run can be set here."""
    with side.expander("Advanced"):
        left, right = st.columns(2)
        number(left, "D dropout", "d_dropout", step=0.1)
        number(right, "EMA of G", "ema_decay", format="%.4f", step=0.001,
               help="grids and exports show a moving average of G's weights; 0 turns it off")
        number(left, "Max steps", "max_steps", help="0: no limit")
        number(right, "R1 every N steps", "r1_every",
               help="1: the R1 penalty in every D step; N: lazily, every N-th step at N times the weight in a D "
                    "update of its own, for a fraction of the cost (colour data: 16)")
        number(right, "Latent codes", "latent_codes",
               help="DCGAN, InfoGAN-style: G gets one of this many codes and D must tell which from the image, so G "
                    "learns distinct kinds of drawing (for digits: the digits); 0: off")
        right.selectbox("Precision", PRECISIONS, key="train_precision",
                        help="auto: bf16 where the hardware runs it fast (GPUs, CPUs with AVX-512 BF16)")
        st.selectbox("Augment what D sees", AUGMENTS, key="train_augment", format_func=lambda p: p or "nothing",
                     help="DiffAugment: the same random shifts and cutouts on real and generated images, so D "
                          "cannot memorise a small dataset")
        st.checkbox("Learning rates decay to 0", key="train_lr_decay",
                    help="linearly over the run's budget: its epochs, steps or time limit, whichever ends it first")
        st.checkbox("channels_last convolutions", key="train_channels_last", help="DCGAN on CPU and CUDA")
        st.checkbox("CUDA graph", key="train_cuda_graph", help="replay each step as one captured graph on a GPU")


def dataset_source(side):
    """(path, problem): a .zip upload, checked before the run starts, or a path inside the host's data folder
    (GAN_STUDIO_DATA_ROOT; without one, no server path can be typed)."""
    upload = side.file_uploader("A .zip of images", type=["zip"], key="train_upload")
    root = data_root()
    path = side.text_input("…or a folder or .zip path in the data folder", key="train_data_path",
                           help=f"relative to {root}").strip() if root else ""
    if upload is None:
        if not path:
            return "", "upload a .zip of images" + (" or give a folder path" if root else "") + " to train on them"
        try:
            return str(confined_path(path, root)), None
        except GanStudioError as error:
            return "", str(error)
    try:
        path = staged_upload("train_staged", [upload],
                             lambda folder: stage_zip_upload(upload.name, upload.getvalue(), folder))
    except GanStudioError as error:
        return "", str(error)
    return str(path), None


def cluster_note():
    """Where runs train, on a host that set GAN_STUDIO_RAY_ADDRESS: the cluster, or why not (one line)."""
    if not os.environ.get("GAN_STUDIO_RAY_ADDRESS", "").strip():
        return ""
    try:
        run_manager().join_cluster()
    except GanStudioError as error:
        return plain(error)
    return plain(run_manager().backend_note)


def start_run(configs):
    model_cfg, train_cfg = configs
    try:
        st.session_state.train_run_id = run_manager().start(session_id(), model_cfg, train_cfg)
    except GanStudioError as error:
        st.error(plain(error))


def current_run():
    run_id = st.session_state.get("train_run_id")
    return run_manager().get(run_id) if run_id else None


def controls(run):
    pause_col, stop_col, _ = st.columns([1, 1, 4])
    if run.status == "paused":
        pause_col.button("Resume", key="train_resume", on_click=run_manager().resume, args=(run.run_id,),
                         type="primary")
    else:
        pause_col.button("Pause", key="train_pause", on_click=run_manager().pause, args=(run.run_id,),
                         disabled=run.status != "running")
    stop_col.button("Stop", key="train_stop", on_click=run_manager().stop, args=(run.run_id,),
                    disabled=not run.active)


def share_view(run):
    """Put this run on the class gallery under a nickname, or take it off again."""
    board = gallery()
    if not board.enabled:
        return
    entry = board.entry_of(run.run_id)
    if entry is None:
        # A form sends the nickname with the click: a text box and a button apart could lose it when the click's
        # rerun overtook the text's (Streamlit issue 8365), and sharing refused an empty nickname.
        with st.form("train_share", border=False, enter_to_submit=False):
            name_col, button_col, _ = st.columns([3, 2, 1], vertical_alignment="bottom")
            name_col.text_input("Nickname for the class gallery", max_chars=24, key="train_nickname",
                                placeholder="1 to 24 letters, digits, spaces")
            button_col.form_submit_button(
                "Share to the class gallery", on_click=share, args=(run,), icon=":material/photo_library:",
                help=f"Each of us keeps at most {board.per_session} runs on the board: sharing another replaces your "
                     "oldest.")
    else:
        name_col, button_col, _ = st.columns([3, 2, 1], vertical_alignment="bottom")
        name_col.caption(plain(f"On the class gallery as {entry.nickname}: everyone on this server sees its grid, "
                               f"status and quality figures. You keep at most {board.per_session} runs there: "
                               "sharing another replaces your oldest."))
        button_col.button("Withdraw from the gallery", key="train_withdraw", on_click=withdraw_from_gallery,
                          args=(entry.entry_id,))
    if st.session_state.get("train_share_error"):  # kept through the live view's reruns until the next share
        st.error(plain(st.session_state.train_share_error))


def share(run):
    st.session_state.pop("train_share_error", None)
    try:
        gallery().share(run, session_id(), st.session_state.get("train_nickname", ""))
    except GanStudioError as error:
        st.session_state.train_share_error = str(error)


def run_view():
    """The run's controls and results; what changes while it trains streams into the live view component, which
    asks for a rerun of this fragment only when the run's state changes."""
    keep_alive()
    run = current_run()
    if run is None:
        return
    if run.started is not None and run.train_cfg.dataset == "folder":
        st.caption(f"Your images: {run.started.data_summary()}.")
    controls(run)
    share_view(run)
    if run.tensorboard:
        st.caption(f"TensorBoard: this run's events go to `{run.tensorboard}`; watch them with `tensorboard --logdir "
                   f"{run.tensorboard.parent}`.")
    if run.status == "failed":
        st.error(plain(run.message))
    live_view(run, run_manager(), refresh=st.session_state.get("train_refresh") or REFRESH_SECONDS[0],
                  captions={"healthy": HEALTHY, "quality": QUALITY}, key="train_live")
    if not run.active:
        results_view(run)
    if st.session_state.get("train_was_active") and not run.active:
        st.session_state.train_was_active = False
        st.rerun()  # one full rerun to show the comparison and free the Start button
    st.session_state.train_was_active = run.active


def code_view(configs):
    """The settings as one standalone PyTorch script, or why this family cannot be written out yet."""
    try:
        script = standalone_script(*configs, source="the Train page's settings")
    except GanStudioError as error:
        st.info(plain(error))
        return
    st.caption("One standalone PyTorch file that trains these settings: the same networks, loss, optimizers and "
               "regularizers, with no GAN Studio import. Run it as `python train_gan.py --data DATA --max-steps N "
               "--out DIR`.")
    st.download_button("Download train_gan.py", script, "train_gan.py", "text/x-python", key="train_code_download")
    st.code(script, language="python", height=400)


def compare_view():
    """Two or more runs of this session on the same charts, their latest grids side by side."""
    runs = [run for run in run_manager().runs_of(session_id()) if run.rows]
    if len(runs) < 2:
        return
    st.subheader("Compare runs")
    numbers = {run.run_id: number for number, run in enumerate(runs, start=1)}
    labels = {run.run_id: run_label(numbers[run.run_id], run) for run in runs}
    chosen = st.multiselect("Runs", list(labels), default=list(labels)[-2:], format_func=labels.get,
                            key="train_compare")
    chosen_runs = [run for run in runs if run.run_id in chosen]
    if len(chosen_runs) < 2:
        st.caption("Pick at least two runs.")
        return
    by_label = {f"run {numbers[run.run_id]}": list(run.rows) for run in chosen_runs}
    loss_col, score_col = st.columns(2)
    loss_col.plotly_chart(charts.compare_chart(by_label, [("loss_d", "loss D"), ("loss_g", "loss G")], "Losses",
                                               "loss"), key="train_compare_losses")
    probabilities = all(get_loss(run.train_cfg.loss).probabilities for run in chosen_runs)
    score_col.plotly_chart(charts.compare_chart(by_label, [("d_real", "D(x)"), ("d_fake", "D(G(z))")],
                                                "The game's scoreboard", "D's output",
                                                y_range=[0, 1] if probabilities else None), key="train_compare_scores")
    for column, run in zip(st.columns(len(chosen_runs)), chosen_runs):
        if run.grids:
            grid = run.grids[-1]
            column.image(grid.image, caption=f"{labels[run.run_id]} · epoch {grid.epoch}, step {grid.step:,}",
                         width="stretch")


def run_label(number, run):
    model, train = run.model_cfg, run.train_cfg
    batchnorm = "" if model.family == "mlp" else (", BatchNorm in D" if model.d_batchnorm else ", no BatchNorm in D")
    return (f"run {number} · {model.family}{batchnorm}, {train.loss}, lr G {train.lr_g:g} / D {train.lr_d:g} · "
            f"{run.status}")


def results_view(run):
    """Downloads and saving, once the run is over (also after a failure: what was trained stays)."""
    if not run.checkpoint_path:
        return
    folder = RunDirectory(run.run_dir)
    st.subheader("Results")
    epoch_grids = [grid.image for grid in run.grids]
    if epoch_grids and not folder.timelapse.exists():
        save_gif(epoch_grids, folder.timelapse, frame_ms=400)
    gif_col, files_col = st.columns([1, 1])
    if folder.timelapse.exists():
        gif_col.image(str(folder.timelapse), caption="Timelapse of the epoch grids", width="stretch")
    for label, path, name in folder.downloads():
        files_col.download_button(label, path.read_bytes(), name, key=f"train_dl_{name}")
    weights = Path(run.checkpoint_path)
    files_col.download_button("Hugging Face Hub folder (.zip)", lambda: hub_zip(weights), "gan-studio-hub.zip",
                              "application/zip", on_click="ignore", key="train_dl_hub", help=HUB_NOTE)
    with files_col.form("train_save", border=False, enter_to_submit=False):  # the name goes with the click
        name = st.text_input("Name for the latent explorer", value=f"my-{run.model_cfg.family}", key="train_save_name")
        saved = st.form_submit_button("Save for the explorer")
    if saved:
        slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:40]
        if not slug:
            files_col.error("give the generator a name made of letters or digits")
        else:
            path = export_generator(weights, saved_dir() / saved_name(slug))
            files_col.success(f"Saved as {path.stem}: the Latent explorer lists it now.")


def saved_name(slug):
    """In a shared folder every save gets a name of its own, so students never overwrite each other's."""
    return f"{slug}-{secrets.token_hex(3)}" if shared_checkpoints() else slug


page_setup("train")
st.title("Train a GAN")
limits = host_limits()
configs, problem = settings(limits)
run = current_run()
params = write_link(limits)
link = share_link(st.context.url, params)
start_col, refresh_col, link_col, note_col = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
start_col.button("Start training", type="primary", disabled=configs is None or (run is not None and run.active),
                 on_click=start_run, args=(configs,), key="train_start")
refresh_col.segmented_control("Live view refresh", REFRESH_SECONDS, default=REFRESH_SECONDS[0], required=True,
                              format_func=lambda s: f"{s} s", key="train_refresh", help=REFRESH_HELP)
with link_col.popover("Copy link", icon=":material/link:", help=LINK_HELP):
    st.code(link, language=None, wrap_lines=True)
if problem:
    note_col.warning(plain(problem))
elif run is None:
    defaults = "" if params else "Defaults train the recommended DCGAN on 5,000 real MNIST digits for one minute. "
    note_col.caption(" ".join(filter(None, [defaults.strip(), limits.describe(), cluster_note()])))
if configs is not None:
    with st.expander("Show the code", icon=":material/code:"):
        code_view(configs)
st.fragment(run_view, run_every=HEARTBEAT_SECONDS)()  # the component streams; this only says the tab is open
if run is None or not run.active:
    compare_view()

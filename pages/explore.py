"""Latent explorer: what did the generator learn? Sample it, walk between samples, compare with real images."""
import io
from pathlib import Path

import streamlit as st
import torch

from studio.drawing import drawing_view
from studio.session import (HEARTBEAT_SECONDS, generator_folders, keep_alive, page_setup, plain, run_manager, session_id,
                       staged_upload)
from ganlib import charts
from ganlib.checkpoint import PREVIOUS, load_generator, stage_upload
from ganlib.config import config_from_dict
from ganlib.datasets import TensorImages, class_names, load_dataset, to_unit_range
from ganlib.errors import GanStudioError
from ganlib.eye_codes import eye_codes
from ganlib.host import run_memory_budget
from ganlib.hub import HUB_NOTE, hub_zip
from ganlib.images import to_pil_grid
from ganlib.latent import (latent_path, latents_for_codes, move_along, principal_directions, render, render_gif,
                          sample_z, with_class, with_codes_among)
from ganlib.nearest import nearest_images, typical_real_distance
from ganlib.quality import QualityScore

SOURCES = ("Shipped and saved", "This session's runs", "Upload")
FIRST_SHOWN = "mnist-cdcgan"  # every visit starts from the cleanest digits: 98% legible (docs/quality.md)
GRID_SIZE = 24
GRID_COLUMNS = 12
CODE_COLUMNS = 8
NEIGHBOURS = 8
DIRECTIONS = 4
SLIDER_REACH = 3.0  # in standard deviations of the latent
TRUNCATION_NOTE = ("Truncation draws z closer to the centre of the Gaussian, trading variety for typical images. "
                   "Digits get more legible; emoji fade towards the average emoji, a white background "
                   "(docs/quality.md: \"Truncation\"). 0 turns it off.")
SLERP_NOTE = ("A Gaussian latent lives near a sphere of radius √D. `lerp` cuts straight through the sphere's "
              "emptier inside, where images fade; `slerp` follows the sphere, so every frame looks typical.")
CLASS_NOTE = ("This generator was trained with labels: the first entries of its latent say which class to draw. "
              "Pick one and every view below draws it: the samples, the walks (same class, another style) and the "
              "directions.")
CODES_NOTE = ("G was never told what its images show, yet each latent code became a kind of drawing (\"What each "
              "latent code draws\", below, has a row per code). Keep to some codes and every view below draws only "
              "those kinds: the samples, the walks and the directions. None chosen: every code.")
NEAREST_NOTE = ("The distance is the pixel difference in the [-1, 1] range: 0 is an exact copy. A real training "
                "image's nearest other one is typically {typical:.2f} away, so fakes far closer than that are "
                "memorized; fakes about that far are new drawings.")


# ---- cached, shared by every session and never changed by one ------------------------------------------

@st.cache_resource(max_entries=8, show_spinner="Loading the generator…")
def cached_generator(path, stamp):
    """(generator in eval mode, checkpoint card and configs); `stamp` reloads a file that was rewritten. A card
    asking for more memory than one run's share of the host is refused before anything is built."""
    return load_generator(path, memory_budget=run_memory_budget())


@st.cache_resource(max_entries=8, show_spinner="Finding the generator's main directions…")
def cached_directions(path, stamp):
    generator, checkpoint = cached_generator(path, stamp)
    return principal_directions(generator, checkpoint.model_cfg.latent_dim, count=DIRECTIONS)


@st.cache_resource(max_entries=2, show_spinner="Loading the training images…")
def cached_training_images(dataset, image_size, channels, data_dir):
    """(uint8 images [N, C, H, W], typical real-to-real distance), or None for a dataset too big to hold."""
    data = load_dataset(dataset, image_size, channels, data_dir)
    if not isinstance(data, TensorImages):
        return None
    return data.images, typical_real_distance(data.images)


def training_images_here(checkpoint, data_dir):
    """The generator's training images where this server has them (uint8 [N, C, H, W]), else None."""
    model, train = checkpoint.model_cfg, checkpoint.train_cfg
    if train.dataset == "folder" and not data_dir:
        return None
    try:
        training = cached_training_images(train.dataset, model.image_size, model.channels, data_dir)
    except GanStudioError:
        return None
    return training[0] if training else None


def file_stamp(path):
    stat = Path(path).stat()
    return stat.st_mtime_ns, stat.st_size


# ---- choosing a generator ------------------------------------------------------------------------------

def choose_checkpoint():
    """The sidebar: the chosen checkpoint's path, or None after saying what is missing; a refused upload raises."""
    side = st.sidebar
    side.header("Generator")
    source = side.radio("Source", SOURCES, key="explore_source")
    if source == SOURCES[0]:
        labels = {path: f"{path.stem} ({label})" if label != "shipped" else path.stem
                  for label, folder in generator_folders()
                  for path in sorted(folder.glob("*.safetensors"), key=lambda p: (p.stem != FIRST_SHOWN, p.stem))
                  if not path.stem.endswith(PREVIOUS)}
        if not labels:
            st.info("No generators yet: train one on the Train page and save it.")
            return None
        return side.selectbox("Checkpoint", list(labels), format_func=labels.get, key="explore_shipped")
    if source == SOURCES[1]:
        runs = [run for run in run_manager().runs_of(session_id()) if run.checkpoint_path]
        if not runs:
            st.info("No run of this session has a checkpoint yet: train one on the Train page.")
            return None
        by_id = {run.run_id: run for run in runs}
        run_id = side.selectbox("Run", list(by_id), key="explore_run", format_func=lambda i: (
            f"{by_id[i].model_cfg.family} on {by_id[i].train_cfg.dataset} · {by_id[i].status} · "
            f"step {by_id[i].progress.step:,}"))
        return Path(by_id[run_id].checkpoint_path)
    uploads = side.file_uploader("A .safetensors checkpoint and its .json card, or a Hub folder as .zip",
                                 accept_multiple_files=True, key="explore_upload")
    if not uploads:
        st.info("Upload a GAN Studio checkpoint: the .safetensors weights together with their .json card, or a .zip "
                "of a Hugging Face Hub folder that `python -m ganlib export --hub` wrote.")
        return None
    return staged_upload("explore_staged", uploads,
                         lambda folder: stage_upload([(upload.name, upload.getvalue()) for upload in uploads], folder))


def describe(checkpoint):
    model, train, card = checkpoint.model_cfg, checkpoint.train_cfg, checkpoint.card
    minutes = card.get("elapsed_seconds", 0) / 60
    return (f"{model.family.upper()} · {model.image_size}×{model.image_size}×{model.channels} · latent "
            f"{model.latent_dim} · trained on {train.dataset} for {card.get('step', 0):,} steps "
            f"({minutes:.1f} min on {card.get('hardware', card.get('device', '?'))})" +
            (f" · quality meter: {config_from_dict(QualityScore, card['quality']).summary()}" if card.get("quality")
             else ""))


# ---- the four views ------------------------------------------------------------------------------------

def class_choice(checkpoint, names):
    """For a conditional generator, the class every view below draws: a function that makes latents ask for it
    (the identity for 'any class', and for generators that were never told classes)."""
    classes = checkpoint.model_cfg.classes
    if not classes:
        return lambda z: z
    st.subheader("Draw me a …")
    choice = st.selectbox("Class", [None, *range(classes)], key="explore_class", help=CLASS_NOTE,
                          format_func=lambda index: "any class" if index is None else names[index])
    return (lambda z: z) if choice is None else (lambda z: with_class(z, choice, classes))


def code_choice(checkpoint):
    """For a generator with latent codes, the codes every view below keeps to: a function that makes latents ask
    for one of them (the identity while none is chosen). A card naming the codes a person found drawing
    recognisable images offers them in one click."""
    codes = checkpoint.model_cfg.latent_codes
    st.subheader("Draw from some codes")
    key = f"explore_codes_{codes}"  # a choice stays valid for any generator with as many codes
    try:
        found = eye_codes(checkpoint.card, codes)
    except GanStudioError as error:
        st.error(plain(error))
        found = None
    if found:
        st.button("The codes that draw recognisable images, by eye", key="explore_eye_codes",
                  on_click=lambda: st.session_state.update({key: list(found.codes)}))
        st.caption(f"A person labelled {found.labelled} fresh samples: {found.share:.0%} of these "
                   f"{len(found.codes)} codes' samples were recognisable, {found.others_share:.0%} of the other "
                   "codes'. Keeping to them trades the kinds the generator cannot draw yet for ones it can, as "
                   "truncation trades variety (docs/quality.md: \"Codes that draw emoji\").")
    chosen = st.multiselect("Codes", range(codes), key=key, placeholder="every code", help=CODES_NOTE)
    return (lambda z: z) if not chosen else (lambda z: with_codes_among(z, chosen, codes))


def samples_view(generator, latent_dim, asked):
    """A numbered grid of samples → (latents [GRID_SIZE, D], images, truncation) for the views below."""
    st.subheader("Random samples")
    seed_col, button_col, truncation_col = st.columns([1, 1, 2])
    seed = seed_col.number_input("Seed", 0, 2**31 - 1, key="explore_seed")
    button_col.button("New samples", key="explore_new", on_click=lambda: st.session_state.update(
        explore_seed=int(torch.randint(2**31 - 1, ())) ))
    truncation = truncation_col.slider("Truncation", 0.0, 3.0, 0.0, 0.1, key="explore_truncation")
    truncation_col.caption(TRUNCATION_NOTE)
    latents = asked(sample_z(GRID_SIZE, latent_dim, seed=seed, truncation=truncation or None))
    images = render(generator, latents)
    columns = st.columns(GRID_COLUMNS)
    for index, image in enumerate(images):
        columns[index % GRID_COLUMNS].image(to_pil_grid(image[None], padding=0, scale=3), caption=f"#{index}",
                                            width="stretch")
    return latents, images, truncation


def codes_view(generator, checkpoint, names):
    """For a generator with latent codes or classes: what it draws for each, the same noise down each column."""
    model_cfg = checkpoint.model_cfg
    if model_cfg.classes:
        st.subheader("Same style, another class")
        st.caption(plain(f"Each row asks for one class (top to bottom: {', '.join(names)}); each column keeps the rest "
                         "of z, which G uses for everything the class leaves open: thickness, slant, size, colour."))
    else:
        st.subheader("What each latent code draws")
        st.caption(f"Each row is one code, 0 to {model_cfg.latent_codes - 1} from the top; each column keeps the rest "
                   "of z. G was never told what its images show: D only had to tell its codes apart, so codes tend to "
                   "become kinds of drawing (on digits often one digit each; on emoji flags, faces, clocks).")
    codes = model_cfg.classes or model_cfg.latent_codes
    latents = latents_for_codes(codes, CODE_COLUMNS, model_cfg.latent_dim,
                                seed=st.session_state.get("explore_seed", 0))
    grid_col, walk_col = st.columns([2, 1])
    grid_col.image(to_pil_grid(render(generator, latents), nrow=CODE_COLUMNS, scale=2), width=CODE_COLUMNS * 60)
    if model_cfg.classes:  # the first column's style, walked through every class
        gif = io.BytesIO()
        render_gif(generator, latents[::CODE_COLUMNS], gif, frame_ms=500, scale=6)
        walk_col.image(gif.getvalue(), caption="one style through every class, looping", width=200)


def interpolation_view(generator, latents, truncation, asked):
    st.subheader("Walk from one sample to another")
    ends = st.radio("Endpoints", ["Samples from the grid", "Two seeds"], horizontal=True, key="explore_ends")
    a_col, b_col, via_col = st.columns([1, 1, 2])
    if ends == "Two seeds":
        seeds = [a_col.number_input("From seed", 0, 2**31 - 1, 0, key="explore_seed_a"),
                 b_col.number_input("To seed", 0, 2**31 - 1, 1, key="explore_seed_b")]
        keys = [asked(sample_z(1, latents.shape[1], seed=s, truncation=truncation or None))[0] for s in seeds]
    else:
        numbers = range(len(latents))
        start = a_col.selectbox("From sample", numbers, 0, format_func=lambda i: f"#{i}", key="explore_from")
        end = b_col.selectbox("To sample", numbers, 1, format_func=lambda i: f"#{i}", key="explore_to")
        via = via_col.multiselect("Through samples (in order)", numbers, format_func=lambda i: f"#{i}",
                                  key="explore_via")
        keys = [latents[i] for i in (start, *via, end)]
    steps_col, loop_col = st.columns([3, 1])
    steps = steps_col.slider("Steps", 2, 24, 10, key="explore_steps")
    closed = loop_col.checkbox("Loop back to the start", key="explore_loop")
    paths = {method: latent_path(keys, steps, method, closed=closed) for method in ("lerp", "slerp")}
    strip_cols = st.columns(2)
    for column, (method, path) in zip(strip_cols, paths.items()):
        column.image(to_pil_grid(render(generator, path), nrow=steps, scale=2), caption=method, width="stretch")
    note_col, chart_col = st.columns([1, 1])
    note_col.caption(SLERP_NOTE)
    chart_col.plotly_chart(charts.latent_norm_chart({m: p.norm(dim=1).tolist() for m, p in paths.items()},
                                                    latents.shape[1] ** 0.5), key="explore_norms")
    animation_view(generator, paths)


def animation_view(generator, paths):
    method_col, speed_col = st.columns([1, 3])
    method = method_col.radio("Animate", list(paths), index=1, horizontal=True, key="explore_gif_method")
    frame_ms = speed_col.slider("Milliseconds per frame", 40, 500, 120, 20, key="explore_frame_ms")
    gif = io.BytesIO()
    render_gif(generator, paths[method], gif, frame_ms=frame_ms, scale=4)
    play_col, download_col = st.columns([1, 3])
    play_col.image(gif.getvalue(), caption=f"{method}, looping")
    download_col.download_button("Download the GIF", gif.getvalue(), f"latent-walk-{method}.gif", "image/gif",
                                 key="explore_gif_download")


def nearest_view(checkpoint, images, focus, data_dir):
    """The training images come from this server's own copy of the dataset, or from `data_dir` (see the page's end)."""
    st.subheader("Invented or memorized?")
    model, train = checkpoint.model_cfg, checkpoint.train_cfg
    if train.dataset == "folder" and not data_dir:
        st.info("This generator was trained on someone's own images, which are not on this server to compare with.")
        return
    try:
        training = cached_training_images(train.dataset, model.image_size, model.channels, data_dir)
    except GanStudioError as error:
        st.info(plain(f"The training images are not available here ({error})."))
        return
    if training is None:
        st.info("The training set is too large to search in memory.")
        return
    training_images, typical = training
    fake = images[focus][None]
    distances, indices = nearest_images(fake, training_images, k=NEIGHBOURS)
    real = to_unit_range(training_images[indices[0]])
    columns = st.columns(NEIGHBOURS + 1)
    columns[0].image(to_pil_grid(fake, padding=0, scale=3), caption=f"sample #{focus}", width="stretch")
    for column, image, distance in zip(columns[1:], real, distances[0].tolist()):
        column.image(to_pil_grid(image[None], padding=0, scale=3), caption=f"{distance:.2f}", width="stretch")
    st.caption(NEAREST_NOTE.format(typical=typical))


def directions_view(generator, path, stamp, latents, focus, asked):
    st.subheader("Move along the generator's main directions")
    try:
        directions, explained = cached_directions(str(path), stamp)
    except GanStudioError as error:
        st.info(plain(error))
        return
    st.caption("Each direction is a principal axis of the generator's first-layer features, mapped back to "
               "the latent space (GANSpace): the ways its drawings vary most. Slide to move the sample.")
    slider_col, image_col = st.columns([3, 1])
    amounts = [slider_col.slider(f"Direction {k + 1} ({share:.1%} of feature variance)", -SLIDER_REACH,
                                 SLIDER_REACH, 0.0, 0.25, key=f"explore_direction_{k}")
               for k, share in enumerate(explained.tolist())]
    moved = render(generator, asked(move_along(latents[focus], directions, amounts)[None]))
    image_col.image(to_pil_grid(moved, padding=0, scale=6), caption=f"sample #{focus}, moved", width="stretch")
    reach = torch.linspace(-SLIDER_REACH, SLIDER_REACH, 7)
    sweeps = asked(torch.stack([latents[focus] + step * direction for direction in directions for step in reach]))
    st.image(to_pil_grid(render(generator, sweeps), nrow=len(reach), scale=2),
             caption=f"Each row: one direction, from −{SLIDER_REACH:g} to +{SLIDER_REACH:g}", width=420)


page_setup("explore")
st.fragment(keep_alive, run_every=HEARTBEAT_SECONDS)()
st.title("Latent explorer")
try:
    path = choose_checkpoint()
    if path is None:
        st.stop()
    stamp = file_stamp(path)
    generator, checkpoint = cached_generator(str(path), stamp)
except (GanStudioError, OSError) as error:
    st.error(plain(error))
    st.stop()
st.caption(plain(describe(checkpoint)))
st.sidebar.download_button("Download as a Hub folder (.zip)", lambda: hub_zip(path), "gan-studio-hub.zip",
                           "application/zip", on_click="ignore", key="explore_hub", help=HUB_NOTE)
# A card's folder path is followed only for this session's own runs: a card from elsewhere could name any server
# folder, or another session's, whose images (nearest view) and subfolder names (class names) it would then show.
data_dir = checkpoint.train_cfg.data_dir if st.session_state.explore_source == SOURCES[1] else ""
names = class_names(checkpoint.train_cfg.dataset, data_dir, checkpoint.model_cfg.classes)
asked = code_choice(checkpoint) if checkpoint.model_cfg.latent_codes else class_choice(checkpoint, names)
latents, images, truncation = samples_view(generator, checkpoint.model_cfg.latent_dim, asked)
if checkpoint.model_cfg.latent_codes or checkpoint.model_cfg.classes:
    codes_view(generator, checkpoint, names)
interpolation_view(generator, latents, truncation, asked)
drawing_view(generator, checkpoint, (str(path), stamp), names, latents, lambda: training_images_here(checkpoint, data_dir))
focus = st.selectbox("Sample to study", range(len(latents)), format_func=lambda i: f"#{i}", key="explore_focus")
nearest_view(checkpoint, images, focus, data_dir)
directions_view(generator, path, stamp, latents, focus, asked)

"""The Latent explorer's "Your own drawing": draw (or upload) an image, project it into the generator, walk from it.

The drawing canvas is a small components-v2 element (drawing_canvas.js). What it sends is treated as any upload: a
PNG data URL of bounded size, decoded and checked by ganlib.projection. The drawing and its projection stay in this
session's state; no link carries them.
"""
import base64
import binascii
import io
from pathlib import Path

import streamlit as st

from studio.session import plain
from ganlib.errors import GanStudioError
from ganlib.latent import latent_path, render_gif, with_class
from ganlib.projection import SEARCH, STEPS, nearest_training_image, prepare_image, project

CSS = """
.gs-draw { display: inline-flex; flex-direction: column; gap: 0.5rem }
.gs-draw-canvas { width: 280px; height: 280px; border: 1px solid rgba(128, 128, 128, 0.5); border-radius: 0.5rem;
  touch-action: none; cursor: crosshair; background: white }
.gs-draw-tools { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem }
.gs-draw-inks { display: flex; gap: 0.25rem }
.gs-draw-ink { width: 1.5rem; height: 1.5rem; border-radius: 50%; border: 2px solid rgba(128, 128, 128, 0.5);
  cursor: pointer; padding: 0 }
.gs-draw-chosen { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px }
.gs-draw-clear { font: inherit; padding: 0.25rem 0.75rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(128, 128, 128, 0.5); background: transparent; color: inherit }
"""
PAPER = "#ffffff"
GRAY_INKS = ["#000000"]  # a digit generator turns dark ink on light paper into MNIST's light ink on dark
COLOUR_INKS = ["#000000", "#e8b830", "#d83a3a", "#2f6fd0", "#3a9a4a", "#8a4fbf", "#ffffff"]
PEN = 22  # pixels of the 280-pixel canvas: about MNIST's stroke once scaled to 28
MAX_DRAWING_CHARS = 4 * 2**20  # a 280 × 280 PNG is far smaller; the page's state can be forged
WALK_STEPS = 16
LESSON = ("A GAN can draw only what it learned. Projection searches the generator's latent space for the point whose "
          f"drawing is closest to yours: it starts from the best of {SEARCH:,} random samples (for a conditional "
          "generator, the best of every class) and moves them downhill on the pixel difference plus the difference "
          "the quality meter's network sees. Draw a digit and the digit generator answers with its own version. Draw "
          "a letter, a face or a scribble and see what it answers with; then try the notebooks' MLP generator, whose "
          "blurrier drawings answer less well.")
SOURCES = ("Draw", "Upload a picture")

_canvas = st.components.v2.component("gan_studio_drawing", css=CSS,
                                     js=Path(__file__).with_name("drawing_canvas.js").read_text(encoding="utf-8"))


def drawn_image(model_cfg):
    """The canvas (for a colour generator with colour inks) → PNG bytes of the drawing, or None before any stroke."""
    inks = COLOUR_INKS if model_cfg.channels == 3 else GRAY_INKS
    result = _canvas(data={"paper": PAPER, "inks": inks, "pen": PEN}, key="explore_canvas", default={"drawing": ""},
                     on_drawing_change=lambda: None, width="content")
    return decode_drawing(result.drawing) if result.drawing else None


def decode_drawing(url):
    """PNG bytes of the canvas's data URL; anything else is refused in one sentence."""
    prefix = "data:image/png;base64,"
    if not isinstance(url, str) or not url.startswith(prefix) or len(url) > MAX_DRAWING_CHARS:
        raise GanStudioError("the drawing did not arrive as a PNG of a canvas: clear it and draw again")
    try:
        return base64.b64decode(url[len(prefix):], validate=True)
    except (binascii.Error, ValueError) as error:
        raise GanStudioError("the drawing did not arrive as a PNG of a canvas: clear it and draw again") from error


@st.fragment
def drawing_view(generator, checkpoint, identity, names, latents, training_images):
    """Draw or upload, Project, see yours beside the generator's closest and the nearest real image, then walk from
    it. `identity`: the generator's file stamp (a projection belongs to one generator); `training_images()`: uint8
    [N, C, H, W] or None."""
    model_cfg, dataset = checkpoint.model_cfg, checkpoint.train_cfg.dataset
    st.subheader("Your own drawing")
    st.caption(LESSON)
    draw_col, result_col = st.columns([1, 2])
    with draw_col:
        source = st.radio("Your image", SOURCES, horizontal=True, key="explore_draw_source")
        try:
            if source == SOURCES[0]:
                image = drawn_image(model_cfg)
            else:
                upload = st.file_uploader("A picture", key="explore_draw_upload")
                image = upload.getvalue() if upload else None
        except GanStudioError as error:
            st.error(plain(error))
            image = None
        label = None
        if model_cfg.classes:
            label = st.selectbox("Search", [None, *range(model_cfg.classes)], key="explore_project_class",
                                 format_func=lambda i: "every class" if i is None else f"class {names[i]} only")
        pressed = st.button("Project", type="primary", disabled=image is None, key="explore_project",
                            help="Find the generator's closest drawing to yours")
    if pressed:
        projected(result_col, generator, model_cfg, dataset, image, label, identity, training_images)
    found = st.session_state.get("explore_projection")
    if found is None or found[0] != identity:
        result_col.info("Draw on the canvas (or upload a picture), then press Project.")
        return
    found = found[1]
    result_col.image(found.picture(), width="content")
    drew = f" It drew {found.drew(names)}." if found.label is not None else ""
    result_col.caption(plain(f"The generator's closest drawing is {found.distance:.2f} from yours (root-mean-square "
                             f"pixel difference, 0 is a copy); the best of {SEARCH:,} random samples was "
                             f"{found.random_distance:.2f}; {found.seconds:.1f} s.{drew}"))
    walk_view(result_col, generator, model_cfg, found, names, latents)


def projected(column, generator, model_cfg, dataset, image, label, identity, training_images):
    """Project with a progress bar; the result (or one sentence saying why not) lands in this session's state."""
    try:
        target = prepare_image(image, model_cfg, dataset)
    except GanStudioError as error:
        column.error(plain(error))
        return
    progress = column.progress(0.0, text="Projecting…")
    found = project(generator, model_cfg, dataset, target, label, STEPS,
                    on_progress=lambda done, total: progress.progress(done / total, text=f"Projecting… step {done}"))
    progress.empty()
    training = training_images()
    if training is not None:
        found.nearest_real = nearest_training_image(found.input, training)
    st.session_state.explore_projection = (identity, found)


def walk_view(column, generator, model_cfg, found, names, latents):
    """A GIF from the projection to a sample of the grid above, or (conditional) to another class in its style."""
    targets = {f"sample #{i}": latents[i] for i in range(len(latents))}
    if model_cfg.classes:
        targets = {**{f"class {name}, your style": with_class(found.latent, index, model_cfg.classes)[0]
                      for index, name in enumerate(names)}, **targets}
    choice = column.selectbox("Walk from your drawing to", list(targets), key="explore_walk_to")
    gif = io.BytesIO()
    render_gif(generator, latent_path([found.latent[0], targets[choice]], WALK_STEPS, "slerp"), gif, frame_ms=120,
               scale=4)
    column.image(gif.getvalue(), caption=f"From your drawing to {choice}")
    column.download_button("Download the walk", gif.getvalue(), "walk-from-my-drawing.gif", "image/gif",
                           on_click="ignore", key="explore_walk_download")

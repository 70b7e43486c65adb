"""A generator as a Hugging Face Hub model repository: `python -m ganlib export CHECKPOINT --hub DIR [--push REPO]`.

The folder holds the generator's weights and card (generator.safetensors + generator.json, what `ganlib.load` and
every command read), a sample grid, and a README.md model card whose YAML header the Hub reads. Its figures are
GAN Studio's own quality meter, named as such: they are not Inception FID and do not compare with published FIDs.
"""
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

from .checkpoint import EXPORTED_NAME, export_generator, resolve_checkpoint_path
from .datasets import DATASETS
from .errors import ConfigError, UploadFailed
from .text import printable

SAMPLES = "samples.png"
SAMPLES_SEED = 0
HUB_FILES = {"README.md", f"{EXPORTED_NAME}.safetensors", f"{EXPORTED_NAME}.json", SAMPLES, ".gitattributes"}
HUB_NOTE = ("A folder that is a ready Hugging Face Hub model repository: the weights and card, a sample grid and a "
            "README.md model card. Unzip it and upload it with `hf upload USER/NAME FOLDER`; GAN Studio's command "
            "line, notebooks and Latent explorer load it as it is.")
LICENCE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
FIGURES = (  # (card key, what it says, its floor's key): the meter's figures a model card shows, in plain words
    ("frechet", "Fréchet distance in the meter's features (lower is better)", "real_frechet"),
    ("legible", "share of samples its digit classifier reads surely", None),
    ("as_asked", "share drawn as the digit asked for", None),
    ("classes_covered", "digits drawn at least a quarter of their fair share (of 10)", None),
    ("recognised", "share of samples read surely as a kind of emoji", "real_recognised"),
    ("coverage", "share of real images with a sample among their nearest neighbours (variety)", "real_coverage"),
    ("diversity", "spread of samples ÷ spread of real images (about 1 is healthy)", None),
)


def export_hub(path, folder, licence=None):
    """Write the Hub folder for a run folder or checkpoint into `folder` (new, or a previous export to refresh);
    returns the folder."""
    from .api import load  # (the api imports the engine's other fronts; this module is one of them)

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or {p.name for p in folder.iterdir()} - HUB_FILES):
        raise ConfigError(f"--hub {folder} already holds other files: choose a new folder (an earlier export is "
                          "refreshed in place)")
    weights = resolve_checkpoint_path(path)
    generator = load(weights)  # the generator alone, checked as every front checks weights
    if generator.train_cfg.dataset not in DATASETS:
        raise ConfigError("the Hub folder is for image generators; a 2D Playground generator has no pictures to show")
    licence = licence or DATASETS[generator.train_cfg.dataset].licence
    if not LICENCE.match(licence):
        raise ConfigError(f"--license {licence[:40]!r} is not a licence identifier the Hub knows (e.g. mit, "
                          "cc-by-4.0, apache-2.0, other)")
    folder.mkdir(parents=True, exist_ok=True)
    export_generator(weights, folder / EXPORTED_NAME)
    generator.sample(64, seed=SAMPLES_SEED, nrow=8).save(folder / SAMPLES)
    (folder / "README.md").write_text(model_card(generator.checkpoint.card, generator, licence))
    return folder


def hub_zip(path, licence=None):
    """The Hub folder of a checkpoint as .zip bytes, for a download button."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = export_hub(path, Path(scratch) / "hub", licence=licence)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(folder.iterdir()):
                archive.write(file, file.name)
    return buffer.getvalue()


def check_repo_id(repo_id):
    """USER/NAME, or one line (an empty --push is a mistake, not a silent 'no upload')."""
    if not REPO_ID.match(repo_id):
        raise ConfigError(f"--push {repo_id[:100]!r} is not a Hub repository id (USER/NAME)")


def push_hub(folder, repo_id, private=False):
    """Upload a Hub folder to `repo_id` (created if new) with huggingface_hub; returns the repository's URL. A missing
    package is a ConfigError; no network or a refused token an UploadFailed, in one line that says the folder stays."""
    check_repo_id(repo_id)
    try:
        from huggingface_hub import HfApi
    except ImportError as error:
        raise ConfigError('--push needs huggingface_hub: pip install "gan-studio[hub]" (or pip install '
                          "huggingface_hub), then log in with `hf auth login`") from error
    api = HfApi()
    try:
        url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                          commit_message="Upload a GAN Studio generator")
    except Exception as error:  # noqa: BLE001 — network, HTTP and auth errors of several libraries: one line each
        raise UploadFailed(f"the upload to {repo_id} failed ({upload_reason(error)}); the folder {folder} is written "
                           "and complete: push it again once that is fixed") from error
    return str(url)


def upload_reason(error):
    """Why an upload failed, in a few words: a refused token, or the library's own message on one line, cut short."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status in (401, 403):
        return f"the Hub refused the token (HTTP {status}): log in with `hf auth login`"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def model_card(card, generator, licence):
    """README.md: the Hub's YAML header (every value a JSON string, which YAML reads as written), then what the
    generator is, how to load and sample it, how it was trained and what the meter says."""
    model_cfg, train_cfg = generator.model_cfg, generator.train_cfg
    spec = DATASETS[train_cfg.dataset]
    tags = ["gan", "gan-studio", model_cfg.family, train_cfg.dataset, "pytorch"]
    tags += ["class-conditional"] if model_cfg.classes else []
    header = ["---", f"license: {json.dumps(licence)}", 'library_name: "gan-studio"',
              'pipeline_tag: "unconditional-image-generation"', "tags:", *(f"- {json.dumps(tag)}" for tag in tags)]
    header += ["datasets:", f"- {json.dumps(spec.hub_id)}"] if spec.hub_id else []
    shape = f"{model_cfg.image_size}×{model_cfg.image_size} {'RGB' if model_cfg.channels == 3 else 'grayscale'}"
    kind = f"class-conditional ({model_cfg.classes} classes) " if model_cfg.classes else ""
    lines = [*header, "---", "", f"# A {kind}{model_cfg.family.upper()} generator of {spec.title.split(' (')[0]}", "",
             f"A GAN generator that draws {shape} images from a {model_cfg.latent_dim}-number latent, trained with "
             "GAN Studio (its `ganlib` engine).", "",
             f"![64 samples, seed {SAMPLES_SEED}]({SAMPLES})", "", f"*64 samples, seed {SAMPLES_SEED}.*", "",
             "## Use it", "", "```python", "import ganlib  # pip install gan-studio (the repository's ganlib)", "",
             'generator = ganlib.load("path/to/this/folder")  # after huggingface_hub.snapshot_download(REPO_ID)',
             "generator.sample(64, seed=0)  # a grid (PIL image)" if not model_cfg.classes else
             f"generator.sample(64, seed=0, label={json.dumps(generator.classes[0])})  # a grid of one class",
             "generator.interpolate(seed_a=0, seed_b=1, steps=24)  # a GIF of a walk in its latent space", "```", "",
             "Or from a shell: `python -m ganlib sample FOLDER --n 64 --out samples.png`; the Latent explorer of the "
             "app opens it as an uploaded .zip of this folder.", ""]
    if model_cfg.classes:
        lines += ["Its classes, by name or number:", "", *fenced(", ".join(generator.classes)), ""]
    lines += ["## Training", ""]
    lines += [f"- {name}: {value}" for name, value in training_facts(card, train_cfg)]
    if card.get("command"):
        lines += ["", "The command that trained it:", "", *fenced(card["command"])]
    lines += ["", "## Quality", "", "Measured by GAN Studio's own quality meter on 1,000 samples against the real "
              "images of its dataset, each beside real images' own figure (the floor). These are **not** Inception "
              "FID and do not compare with published FIDs; docs/quality.md in GAN Studio says what they are worth.",
              ""]
    lines += quality_table(card.get("quality") or {})
    return "\n".join(lines) + "\n"


def training_facts(card, train_cfg):
    """(name, value) lines of the card's facts that say how the generator was trained."""
    facts = [("dataset", f"`{train_cfg.dataset}`"), ("loss", f"`{train_cfg.loss}`"),
             ("batch size", train_cfg.batch_size), ("learning rates (G, D)", f"{train_cfg.lr_g:g}, {train_cfg.lr_d:g}")]
    for key, name in (("step", "steps"), ("epoch", "epochs"), ("elapsed_seconds", "training seconds"),
                      ("images_per_second", "images per second"), ("hardware", "hardware"),
                      ("precision", "precision")):
        if key in card:
            facts.append((name, printable(str(card[key]))))
    return facts


def quality_table(quality):
    """The meter's figures as a Markdown table, those the card holds."""
    rows = [(what, quality[key], quality.get(floor)) for key, what, floor in FIGURES if key in quality]
    if not rows:
        return ["(no figures: this checkpoint's card holds none)"]
    table = ["| figure | this generator | real images (floor) |", "|---|---|---|"]
    shown = lambda value: "" if value is None else f"{value:.3g}"
    return table + [f"| {what} | {shown(value)} | {shown(floor)} |" for what, value, floor in rows]


def fenced(text):
    """Outside text (a typed command, a folder's class names) as a code block it cannot leave: the fence is longer
    than any run of backticks inside, and control characters are escaped."""
    text = printable(text)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return [fence, text, fence]

"""Projecting your own image into a generator (GAN inversion): which of the generator's drawings is closest to yours?

The method is iGAN's and StyleGAN2's projector, made small. The image is brought to the generator's shape (for a digit
generator the ink is centred in a 20-pixel box as MNIST's digits were, and dark ink on light paper is turned light on
dark). A random search over SEARCH latents picks the starts: the best few overall, and for a conditional generator the
best of every class (or of the class asked for). Adam then moves all starts at once to lower a pixel loss plus a
feature loss in the quality meter's network, with a pull towards the shell where N(0, I) latents live (a latent far
outside it draws what the generator never learned). A conditional generator's class stays fixed for each start; the
best start wins and names the class.
"""
import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from .datasets import decode_image, to_unit_range
from .errors import GanStudioError
from .latent import render, sample_z
from .nearest import nearest_images
from .quality import DIGIT_DATASETS, meter_input, meter_network

SEARCH = 1000  # random latents tried first: the starts come from them, and their best is the figure to beat
STARTS = 8  # the best random latents refined (a conditional generator adds its best of each class)
STEPS = 150
LEARNING_RATE = 0.05
FEATURE_WEIGHT = 0.5  # the meter's features: shape over exact pixels (a 7 drawn thinner is still a 7)
SHELL_WEIGHT = 0.05  # keeps |z|² / D near 1, where the generator was trained
MAX_IMAGE_BYTES = 20 * 2**20
DIGIT_BOX = 20 / 28  # MNIST's digits: the ink fitted in 20 × 20 pixels of 28 × 28, centred by its mass


@dataclass(repr=False)
class Projection:
    """What a projection found: images [1, C, H, W] in [-1, 1], the latent [1, D], and distances as root-mean-square
    pixel differences in [-1, 1] (0 is a copy, 1 is far)."""

    input: torch.Tensor
    projection: torch.Tensor
    latent: torch.Tensor
    distance: float
    random_distance: float  # the best of SEARCH random samples of the same generator, by the same measure
    label: int = None  # a conditional generator's class (or a latent code) the projection draws
    seconds: float = 0.0
    nearest_real: torch.Tensor = None  # the training image nearest yours [1, C, H, W], where the data is at hand

    def picture(self):
        """Yours, the generator's closest and the nearest real image side by side (a PIL image)."""
        return side_by_side(self, self.nearest_real)

    def drew(self, names=()):
        """What the projection drew besides its style: 'class 7' (of a conditional generator's `names`), 'latent code
        3' (a label-free generator's codes), or '' for neither."""
        if self.label is None:
            return ""
        return f"class {names[self.label]}" if self.label < len(names) else f"latent code {self.label}"

    def __repr__(self):
        drew = f", {self.drew()}" if self.label is not None else ""
        return (f"<Projection: distance {self.distance:.3f} (the best of {SEARCH:,} random samples: "
                f"{self.random_distance:.3f}){drew}, {self.seconds:.1f} s>")

    def _repr_png_(self):  # a notebook shows the picture
        buffer = io.BytesIO()
        self.picture().save(buffer, format="PNG")
        return buffer.getvalue()


def read_image(source):
    """Bytes of an image from a path, bytes or a PIL image; a missing, empty or oversized file is refused in words."""
    if isinstance(source, Image.Image):
        buffer = io.BytesIO()
        source.save(buffer, format="PNG")
        return buffer.getvalue()
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise GanStudioError(f"there is no image file at {path}")
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise GanStudioError(f"{path.name} is larger than {MAX_IMAGE_BYTES // 2**20} MB; a drawing or photo to "
                                 "project is far smaller")
        data = path.read_bytes()
    if not data:
        raise GanStudioError("the image is empty (0 bytes)")
    if len(data) > MAX_IMAGE_BYTES:
        raise GanStudioError(f"the image is larger than {MAX_IMAGE_BYTES // 2**20} MB")
    return data


def prepare_image(source, model_cfg, dataset):
    """The image as the generator draws: [1, C, H, W] in [-1, 1] at its size and channels; digits centred as MNIST's.
    Anything Pillow cannot read, or an image too large to decode safely, or one flat colour, is refused in words."""
    data = read_image(source)
    size, channels = model_cfg.image_size, model_cfg.channels
    digits = dataset in DIGIT_DATASETS and channels == 1
    try:
        pixels = decode_image(data, size * 4 if digits else size, channels)
    except Image.DecompressionBombError as error:
        raise GanStudioError(f"the image is too large to open safely ({error})") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise GanStudioError("that file is not an image Pillow can read (PNG, JPEG, GIF, WebP, BMP, TIFF …)") from error
    if int(pixels.max()) - int(pixels.min()) < 8:
        raise GanStudioError("the image is one flat colour: there is nothing in it to project")
    if digits:
        pixels = centred_digit(pixels[0].numpy(), size)[None]
    return to_unit_range(pixels[None])


def centred_digit(gray, size):
    """uint8 [size, size] of a grayscale drawing, MNIST-style: light ink on dark, the ink's bounding box fitted in
    DIGIT_BOX of the frame and its centre of mass at the middle."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 127:  # dark ink on light paper (a scan, a photo, a typed digit)
        gray = 255 - gray
    gray = np.clip(gray.astype(np.float32) - np.median(border if border.mean() <= 127 else 255 - border), 0, 255)
    rows, cols = np.nonzero(gray > 0.25 * gray.max())
    ink = gray[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = DIGIT_BOX * size / max(ink.shape)
    height, width = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    ink = np.asarray(Image.fromarray(ink.astype(np.uint8)).resize((width, height), Image.Resampling.LANCZOS))
    total = max(float(ink.sum()), 1e-9)
    centre_row = (ink.sum(1) * np.arange(height)).sum() / total
    centre_col = (ink.sum(0) * np.arange(width)).sum() / total
    top = int(np.clip(round(size / 2 - centre_row - 0.5), 0, size - height))
    left = int(np.clip(round(size / 2 - centre_col - 0.5), 0, size - width))
    frame = np.zeros((size, size), np.uint8)
    frame[top:top + height, left:left + width] = ink
    return torch.from_numpy(frame)


def rms(a, b):
    """Root-mean-square difference of each image in `a` [N, C, H, W] from `b` [1, C, H, W]."""
    return (a - b).pow(2).flatten(1).mean(1).sqrt()


def project(generator, model_cfg, dataset, target, label=None, steps=STEPS, seed=0, on_progress=None):
    """A Projection of `target` (prepare_image's [1, C, H, W]) into `generator` (eval mode): `label`, an index, fixes a
    conditional generator's class. `on_progress(done, total)` is called as the steps go."""
    started = time.perf_counter()
    device = next(generator.parameters()).device
    target = target.to(device)
    choices = model_cfg.classes or model_cfg.latent_codes  # one-hot entries first in z: fixed, not optimized
    candidates = sample_z(SEARCH, model_cfg.latent_dim, seed=seed, device=device)
    if choices:
        asked = torch.full((SEARCH,), label, device=device) if label is not None else \
            torch.arange(SEARCH, device=device) % choices
        candidates[:, :choices] = F.one_hot(asked, choices).float()
    drawn = render(generator, candidates).to(device)
    distances = rms(drawn, target)
    starts = distances.topk(STARTS, largest=False).indices
    if choices and label is None:  # every class gets its chance: its own best start
        per_class = [torch.nonzero(asked == c)[distances[asked == c].argmin()] for c in range(choices)]
        starts = torch.unique(torch.cat([starts, *per_class]))
    network = meter_network(dataset, device)
    digits = dataset in DIGIT_DATASETS
    with torch.no_grad():
        target_features = network.features(meter_input(target, digits))
    fixed = candidates[starts, :choices]
    style = candidates[starts, choices:].clone().requires_grad_(True)
    optimizer = torch.optim.Adam([style], lr=LEARNING_RATE)
    for step in range(steps):
        images = generator(torch.cat([fixed, style], 1))
        features = network.features(meter_input(images.float(), digits))
        pixel = (images.float() - target).pow(2).flatten(1).mean(1)
        feature = 1 - F.cosine_similarity(features, target_features.expand_as(features), dim=1)
        shell = (style.pow(2).mean(1) - 1).pow(2)
        loss = (pixel + FEATURE_WEIGHT * feature + SHELL_WEIGHT * shell).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if on_progress:
            on_progress(step + 1, steps)
    with torch.no_grad():
        latents = torch.cat([fixed, style.detach()], 1)
        images = render(generator, latents).to(device)
        final = rms(images, target) + FEATURE_WEIGHT * (1 - F.cosine_similarity(
            network.features(meter_input(images, digits)), target_features.expand(len(images), -1), dim=1))
        best = int(final.argmin())
    return Projection(input=target.cpu(), projection=images[best:best + 1].cpu(), latent=latents[best:best + 1].cpu(),
                      distance=float(rms(images[best:best + 1], target)), random_distance=float(distances.min()),
                      label=int(fixed[best].argmax()) if choices else None, seconds=time.perf_counter() - started)


def nearest_training_image(image, training_images):
    """The training image (uint8 [N, C, H, W]) nearest `image` [1, C, H, W] in pixels, as [1, C, H, W] in [-1, 1]."""
    _, indices = nearest_images(image, training_images, k=1)
    return to_unit_range(training_images[indices[0]].cpu())


def side_by_side(projection, nearest_real=None, panel=168):
    """One picture: your image, the generator's closest drawing and (where given, [1, C, H, W]) the nearest real
    training image, each captioned with its distance from yours."""
    from PIL import ImageDraw, ImageFont

    from .images import to_pil_grid

    panels = [(projection.input, "yours"), (projection.projection, f"generator's closest: {projection.distance:.2f}")]
    if nearest_real is not None:
        panels.append((nearest_real, f"nearest real: {float(rms(nearest_real, projection.input)):.2f}"))
    font = ImageFont.load_default(size=13)
    gap, caption = 12, 22
    picture = Image.new("RGB", (len(panels) * (panel + gap) - gap, panel + caption), "white")
    pen = ImageDraw.Draw(picture)
    for index, (image, text) in enumerate(panels):
        tile = to_pil_grid(image, padding=0).convert("RGB").resize((panel, panel), Image.Resampling.NEAREST)
        picture.paste(tile, (index * (panel + gap), 0))
        pen.text((index * (panel + gap) + panel / 2, panel + 4), text, fill="black", font=font, anchor="ma")
    return picture


# --- a projection's file: `project --out FILE.npz`, read back by `interpolate --from/--to` ---------------------------

LATENT_LIMIT = 20.0  # no number of a latent drawn from N(0, 1) strays this far (20 σ); larger ones are not latents
MAX_FILE_BYTES = 2**20


def save_projection(path, found, generator_id):
    """The arrays of a projection and the id (weights hash) of the generator it belongs to."""
    np.savez_compressed(path, projection=found.projection.numpy(), input=found.input.numpy(),
                        latent=found.latent.numpy(), distance=np.float32(found.distance),
                        random_distance=np.float32(found.random_distance),
                        label=np.int64(-1 if found.label is None else found.label), generator=np.str_(generator_id))


def read_projection_latent(path, latent_dim, generator_id, name=None):
    """The latent [latent_dim] a projection file holds, checked before use: a file `project` wrote, for this generator
    (`generator_id`, its weights hash; older files name none), with numbers a generator was trained on."""
    name = name or Path(path).name
    try:
        if Path(path).stat().st_size > MAX_FILE_BYTES:
            raise GanStudioError(f"{name} is larger than a projection's file")
        with open(path, "rb") as f:
            arrays = np.load(f, allow_pickle=False)
            if not isinstance(arrays, np.lib.npyio.NpzFile):  # a plain .npy array
                raise GanStudioError(f"{name} is not a .npz file that `project` wrote")
            with arrays:
                latent = arrays["latent"] if "latent" in arrays.files else None
                owner = str(arrays["generator"]) if "generator" in arrays.files else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise GanStudioError(f"{name} is not a .npz file that `project` wrote") from error
    if owner is not None and owner != generator_id:
        raise GanStudioError(f"{name} holds a latent of another generator: project your image into this one first")
    if latent is None:
        raise GanStudioError(f"{name} holds no latent of this generator ({latent_dim} finite numbers)")
    return checked_latent(latent, latent_dim, name)


def checked_latent(values, latent_dim, name="the latent"):
    """A latent [latent_dim] as float32 from any array or tensor of floats, or one line saying why it is none."""
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if array.dtype.kind != "f" or array.size != latent_dim or not np.isfinite(array).all():
        raise GanStudioError(f"{name} holds no latent of this generator ({latent_dim} finite numbers)")
    if np.abs(array).max() > LATENT_LIMIT:
        raise GanStudioError(f"{name} holds numbers beyond ±{LATENT_LIMIT:g}, far outside the normal distribution the "
                             "generator was trained on: not a latent of it")
    return torch.from_numpy(array.reshape(latent_dim).astype(np.float32))

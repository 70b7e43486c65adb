"""Datasets: one registry of names, each giving uint8 images at the model's size and channel count.

Images are decoded and resized once at load time and kept as one uint8 tensor on the training device, so
the loop does no per-image work: a batch is one index into that tensor and one conversion to [-1, 1].
Only a folder too large for memory streams from disk through DataLoader workers.
"""
import functools
import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.error import URLError

import numpy as np
import torch
from PIL import Image, ImageOps

from .archives import IMAGE_SUFFIXES, checked_zip_members, open_zip
from .errors import DatasetError
from .host import run_memory_budget
from .memory import gigabytes
from .text import folded, printable

SAMPLE_PATH = Path(__file__).parent / "data" / "mnist_5k.npz"
EMOJI_PATH = Path(__file__).parent / "data" / "emoji_64.npz"  # built by ganlib/emoji_archive.py
OFFLINE_HINT = "use --dataset mnist-sample, which ships with GAN Studio and works offline"


def cache_dir():
    return Path(os.environ.get("GAN_STUDIO_DATA", Path.home() / ".cache" / "gan-studio"))


def memory_budget_bytes():
    """Decoded datasets larger than this stream from disk (folders) or are refused (zips, which cannot stream):
    GAN_STUDIO_DATA_MEMORY_MB (default 4096), and never more than a run's share of the host's memory."""
    return min(int(float(os.environ.get("GAN_STUDIO_DATA_MEMORY_MB", 4096)) * 2**20), run_memory_budget())


def to_unit_range(images_uint8):
    """uint8 [B, C, H, W] → float [B, C, H, W] in [-1, 1]."""
    return images_uint8.float().div_(127.5).sub_(1.0)


def batch_indices(order, batch_size):
    """`order` (a permutation) cut into whole batches, the ragged last one dropped."""
    return [order[start:start + batch_size] for start in range(0, len(order) - batch_size + 1, batch_size)]


@dataclass
class TensorImages:
    """A dataset held whole in memory as uint8 [N, C, H, W], with class labels [N] where it has them."""

    images: torch.Tensor
    labels: torch.Tensor = None
    skipped: int = 0

    def __len__(self):
        return len(self.images)

    def to(self, device):
        self.images = self.images.to(device)
        self.labels = self.labels.to(device) if self.labels is not None else None
        return self

    def batches(self, order, batch_size):
        """Yield float batches in [-1, 1] following `order` (a permutation), dropping the ragged last one."""
        for index in batch_indices(order.to(self.images.device), batch_size):
            yield to_unit_range(self.images[index])

    def labelled_batches(self, order, batch_size):
        """Like batches, each with its class labels: (images, labels [B])."""
        for index in batch_indices(order.to(self.images.device), batch_size):
            yield to_unit_range(self.images[index]), self.labels[index]


class ImageFiles(torch.utils.data.Dataset):
    """Image files decoded on demand (for folders too large for memory), as uint8 [C, H, W]."""

    def __init__(self, paths, image_size, channels):
        self.paths, self.image_size, self.channels = paths, image_size, channels

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return decode_image(Path(self.paths[index]).read_bytes(), self.image_size, self.channels)


@dataclass
class StreamedImages:
    files: ImageFiles
    labels: torch.Tensor = None
    skipped: int = 0
    device: torch.device = torch.device("cpu")

    def __len__(self):
        return len(self.files)

    def to(self, device):
        self.device = torch.device(device)
        return self

    def batches(self, order, batch_size):
        chunks = [index.tolist() for index in batch_indices(order, batch_size)]
        loader = torch.utils.data.DataLoader(self.files, batch_sampler=chunks, num_workers=min(4, os.cpu_count() or 1))
        for batch in loader:
            yield to_unit_range(batch.to(self.device, non_blocking=True))

    def labelled_batches(self, order, batch_size):
        for images, index in zip(self.batches(order, batch_size), batch_indices(order, batch_size)):
            yield images, self.labels[index].to(self.device)


def max_image_pixels():
    """GAN_STUDIO_MAX_IMAGE_MEGAPIXELS (default 40): larger images are skipped before they are decoded, far below
    Pillow's own decompression-bomb limit (~179 megapixels, where a single RGB image takes over 500 MB)."""
    return int(float(os.environ.get("GAN_STUDIO_MAX_IMAGE_MEGAPIXELS", 40)) * 1e6)


def decode_image(data, image_size, channels):
    """Bytes of any Pillow-readable image → uint8 [C, H, W], resized and center-cropped to a square."""
    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > max_image_pixels():  # only the header has been read so far
            raise Image.DecompressionBombError(f"{img.width}×{img.height} pixels")
        img = ImageOps.exif_transpose(img)
        img = img.convert("RGBA" if img.mode in ("P", "LA") else img.mode)
        if img.mode in ("RGBA", "PA"):  # composite transparency onto white so it does not turn black
            img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img.convert("RGBA"))
        if img.mode.startswith("I;16") or img.mode in ("I", "F"):  # 16-bit and float scans → 8 bit
            arr = np.asarray(img, dtype=np.float64)
            span = max(arr.max() - arr.min(), 1e-9)
            img = Image.fromarray(((arr - arr.min()) / span * 255).astype(np.uint8))
        img = ImageOps.fit(img.convert("L" if channels == 1 else "RGB"), (image_size, image_size),
                           Image.Resampling.BICUBIC)
        array = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(array.reshape(image_size, image_size, channels).copy()).permute(2, 0, 1)


def resize_tensor_images(images, image_size, channels, chunk=4096):
    """uint8 [N, C, H, W] → uint8 [N, channels, image_size, image_size], in chunks to bound memory."""
    out = []
    for part in images.split(chunk):
        if part.shape[1] != channels:
            part = part.expand(-1, 3, -1, -1) if channels == 3 else rgb_to_gray(part)
        if part.shape[-1] != image_size or part.shape[-2] != image_size:
            from torchvision.transforms.v2.functional import resize  # only when needed: torchvision takes 1.8 s

            part = resize(part, [image_size, image_size], antialias=True)
        out.append(part.contiguous())
    return torch.cat(out)


def rgb_to_gray(images_uint8):
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images_uint8.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)


# --- the registry ------------------------------------------------------------------------------------

@functools.cache
def mnist_sample_arrays():
    """(uint8 images [5000, 1, 28, 28], labels [5000]) of the shipped digits, read once per process.

    Besides saving every run the read, this keeps numpy's header parsing (ast.literal_eval) out of training
    threads: CPython 3.11's AST construction is not thread-safe (python/cpython gh-106905), and Streamlit
    parses page scripts on other threads at the same time."""
    with np.load(SAMPLE_PATH) as npz:
        return torch.from_numpy(npz["images"]).unsqueeze(1), torch.from_numpy(npz["labels"]).long()


def load_mnist_sample(image_size, channels, data_dir=""):
    """The 5,000 real MNIST digits shipped with the project (500 of each class): offline and instant."""
    images, labels = mnist_sample_arrays()
    return TensorImages(resize_tensor_images(images, image_size, channels).clone(), labels.clone())


@functools.cache
def emoji_arrays():
    """(uint8 images [N, 3, 64, 64], labels [N], category names) of the shipped Twemoji emoji, read once per process
    (and, like the MNIST sample, before any training thread starts: see mnist_sample_arrays)."""
    with np.load(EMOJI_PATH) as npz:
        return (torch.from_numpy(npz["images"]).permute(0, 3, 1, 2).contiguous(),
                torch.from_numpy(npz["labels"]).long(), tuple(npz["categories"].tolist()))


def emoji_subcategories():
    """(the shipped emoji's subcategory indices [N], the subcategory names): what the colour meter learned."""
    with np.load(EMOJI_PATH) as npz:
        return torch.from_numpy(npz["subcategory_labels"]).long(), tuple(npz["subcategories"].tolist())


def load_emoji(image_size, channels, data_dir=""):
    """The 1,906 Twemoji emoji shipped with the project (colour, on white): offline and instant."""
    images, labels, _ = emoji_arrays()
    return TensorImages(resize_tensor_images(images, image_size, channels).clone(), labels.clone())


def torchvision_dataset(dataset_cls, title, data_dir):
    """Download (or reuse) a torchvision dataset; a failed download becomes one sentence, not a traceback."""
    root = Path(data_dir) if data_dir else cache_dir()
    folder = root / getattr(dataset_cls, "base_folder", dataset_cls.__name__)
    had_files = folder.exists()
    try:
        return dataset_cls(str(root), train=True, download=True)
    except (URLError, OSError, RuntimeError, ValueError, EOFError) as error:
        if had_files and not isinstance(error, URLError):  # torchvision trusted files it found: cut short, or damaged
            raise DatasetError(f"the {title} files in {folder} are incomplete or corrupt (an interrupted download?); "
                               "delete that folder and try again") from error
        raise DatasetError(f"could not download {title} into {root} (no network?); {OFFLINE_HINT}") from error


def mnist_like_loader(class_name, title):
    def load(image_size, channels, data_dir=""):
        import torchvision.datasets

        dataset = torchvision_dataset(getattr(torchvision.datasets, class_name), title, data_dir)
        images = dataset.data.unsqueeze(1)  # uint8 [N, 1, 28, 28]
        return TensorImages(resize_tensor_images(images, image_size, channels), dataset.targets.long())

    load.__doc__ = f"{title} through torchvision, downloaded into the cache folder."
    return load


def load_cifar10(image_size, channels, data_dir=""):
    """CIFAR-10 through torchvision, downloaded into the cache folder."""
    import torchvision.datasets

    dataset = torchvision_dataset(torchvision.datasets.CIFAR10, "CIFAR-10", data_dir)
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2)  # uint8 [N, 3, 32, 32]
    return TensorImages(resize_tensor_images(images, image_size, channels), torch.tensor(dataset.targets))


def load_folder(image_size, channels, data_dir=""):
    """A folder of images (flat or with class subfolders) or a .zip of them, resized and center-cropped."""
    path = folder_path(data_dir)
    if path.is_file():
        return load_zip(path, image_size, channels)
    paths = folder_images(path)
    labels, _ = class_folders([p.relative_to(path).as_posix() for p in paths])
    if len(paths) * channels * image_size ** 2 > memory_budget_bytes():
        return StreamedImages(ImageFiles(paths, image_size, channels), labels)
    return decode_all([p.read_bytes for p in paths], image_size, channels, str(path), labels)


def folder_path(data_dir):
    """The path of an existing folder or .zip of images, or a DatasetError saying what is wrong with it."""
    if not data_dir:
        raise DatasetError("the folder dataset needs a folder or .zip of images: pass --data-dir PATH")
    path = Path(data_dir).expanduser()
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    if not path.is_dir() and not (path.is_file() and zipfile.is_zipfile(path)):
        raise DatasetError(f"{path.name} is neither a folder nor a .zip of images")
    return path


def folder_images(path):
    paths = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DatasetError(f"no images found in {path} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return paths


def class_folders(relative_paths):
    """(labels [N] or None, class names): images kept in one subfolder per class (two or more) are labelled by
    their subfolder, sorted by name. A single folder around everything (as zips often have) is looked through."""
    parts = [PurePosixPath(p).parts for p in relative_paths]
    while parts and all(len(p) > 2 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    names = sorted({p[0] for p in parts})
    if any(len(p) < 2 for p in parts) or len(names) < 2:
        return None, ()
    check_distinct_names(names)
    index = {name: i for i, name in enumerate(names)}
    return torch.tensor([index[p[0]] for p in parts]), tuple(names)


def check_distinct_names(names):
    """Class folders whose names differ only in case or Unicode encoding ('cat' and 'Cat', the two encodings of
    'café') look like one class in the picker and cannot both be asked for by name: refused, naming both."""
    seen = {}
    for name in names:
        other = seen.setdefault(folded(name), name)
        if other != name:
            raise DatasetError(f"the class folders {printable(other)!r} and {printable(name)!r} differ only in letter "
                               "case or in how an accent is encoded: rename or merge one of them")


def folder_classes(data_dir):
    """The class names of a folder or .zip of images (empty when it has no class subfolders)."""
    path = folder_path(data_dir)
    if path.is_file():
        with open_zip(path, path.name) as archive:
            members = [info.filename for info in checked_zip_members(archive, path.name)[0]]
    else:
        members = [p.relative_to(path).as_posix() for p in folder_images(path)]
    return class_folders(members)[1]


def load_zip(path, image_size, channels):
    with open_zip(path, path.name) as archive:
        members, skipped = checked_zip_members(archive, path.name)
        decoded, budget = len(members) * channels * image_size ** 2, memory_budget_bytes()
        if decoded > budget:  # counted from the archive's directory, before decoding anything
            raise DatasetError(f"{len(members):,} images at {image_size}×{image_size}×{channels} would take "
                               f"{gigabytes(decoded)} of memory, more than the {gigabytes(budget)} a run may use "
                               "here: lower the image size or upload fewer images")
        readers = [(lambda info=info: archive.read(info)) for info in members]
        labels, _ = class_folders([info.filename for info in members])
        data = decode_all(readers, image_size, channels, path.name, labels)
    data.skipped += skipped
    return data


def decode_all(readers, image_size, channels, where, labels=None):
    """Decode every image (threads: Pillow releases the GIL), skipping and counting unreadable files."""
    def decode(read):
        try:
            return decode_image(read(), image_size, channels)
        except Exception:  # noqa: BLE001 — hostile bytes make Pillow and zlib raise many kinds; each is one skip
            return None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        decoded = list(pool.map(decode, readers))
    kept = [i for i, image in enumerate(decoded) if image is not None]
    if not kept:
        raise DatasetError(f"no readable images in {where}: {len(decoded)} files, none of them an image")
    return TensorImages(torch.stack([decoded[i] for i in kept]), labels[kept] if labels is not None else None,
                        skipped=len(decoded) - len(kept))


# Measured on emoji (docs/quality.md: "Emoji at 64 px", "The colour preset"): left alone, D wins a colour run after a
# few minutes and the samples decay; an R1 penalty (γ 1) with learning rates falling to 0 holds it, and the penalty
# taken lazily, every 16th step, trains 2.6× the steps in the same time at 32 px. Emoji are the only colour data
# here, so your own images and CIFAR-10 take the same settings untested.
COLOUR_RECIPE = {"r1_gamma": 1.0, "r1_every": 16, "lr_decay": True}
# DiffAugment drew worse on emoji in 8,000 steps than none in 4,000. Twenty latent codes, which pay on digits, made
# 64-px walks pass through emoji instead of smears in 8,000 steps (`emoji64-dcgan-codes`); they were not measured in
# the five-minute 32-px preset, which keeps none.
EMOJI_RECIPE = {**COLOUR_RECIPE, "augment": "", "latent_codes": 0}
DIGITS = tuple("0123456789")
# Measured on the MNIST sample (docs/quality.md: "Class-conditional"): told each digit's label, the recommended DCGAN
# draws 95–96% legible digits in its minute, against 70–72% when it must find the ten digits itself. Labelled digits
# therefore train class-conditional unless asked not to (`--no-conditional`, or the page's checkbox).
DIGITS_RECIPE = {"classes": len(DIGITS), "latent_codes": 0}


@dataclass(frozen=True)
class DatasetSpec:
    load: object  # (image_size, channels, data_dir) → TensorImages | StreamedImages
    image_size: int  # the natural size and channels, used when the user names none
    channels: int
    title: str
    images: int = 0  # how many images it decodes to (for the memory estimate); 0: known only once listed
    dcgan_recipe: dict = field(default_factory=dict)  # DCGAN settings measured best on this dataset (docs/quality.md)
    class_names: object = ()  # what a conditional GAN can be asked to draw: names, or a function of the data folder
    licence: str = "other"  # the data's licence, as the Hub names it: a model card's default
    hub_id: str = ""  # the dataset's id on the Hugging Face Hub, where it has one

    def classes(self, data_dir=""):
        """The dataset's class names (empty: it has no labels, so no conditional GAN)."""
        return self.class_names(data_dir) if callable(self.class_names) else self.class_names

    def settings(self, family):
        """What the dataset brings to a run of `family`: its natural size (the few-shot GAN's 32 px for 28-px
        digits) and channels, and its DCGAN recipe."""
        size = max(self.image_size, 32) if family == "fastgan" else self.image_size
        return {"image_size": size, "channels": self.channels, **(self.dcgan_recipe if family == "dcgan" else {})}


FASHION_CLASSES = ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

DATASETS = {
    "mnist-sample": DatasetSpec(load_mnist_sample, 28, 1, "MNIST sample (5,000 digits, offline)", 5_000,
                                DIGITS_RECIPE, class_names=DIGITS, licence="cc-by-sa-3.0", hub_id="ylecun/mnist"),
    "emoji": DatasetSpec(load_emoji, 32, 3, "Emoji (1,906 Twemoji in colour, offline)", 1_906, EMOJI_RECIPE,
                         class_names=lambda data_dir: emoji_arrays()[2], licence="cc-by-4.0"),
    "mnist": DatasetSpec(mnist_like_loader("MNIST", "MNIST"), 28, 1, "MNIST (download)", 60_000, DIGITS_RECIPE,
                         class_names=DIGITS, licence="cc-by-sa-3.0", hub_id="ylecun/mnist"),
    "fashion-mnist": DatasetSpec(mnist_like_loader("FashionMNIST", "Fashion-MNIST"), 28, 1,
                                 "Fashion-MNIST (download)", 60_000, class_names=FASHION_CLASSES, licence="mit",
                                 hub_id="zalando-datasets/fashion_mnist"),
    "cifar10": DatasetSpec(load_cifar10, 32, 3, "CIFAR-10 (download)", 50_000, COLOUR_RECIPE,
                           class_names=CIFAR10_CLASSES, licence="unknown", hub_id="uoft-cs/cifar10"),
    "folder": DatasetSpec(load_folder, 64, 3, "Your images (folder or .zip)", dcgan_recipe=COLOUR_RECIPE,
                          class_names=folder_classes),
}


def conditional_settings(name, data_dir=""):
    """The settings that make a run class-conditional on a dataset: one class per label, no latent codes (the class
    takes their place in z), or a DatasetError saying the dataset has no labels."""
    classes = DATASETS[name].classes(data_dir)
    if not classes:
        raise DatasetError(f"{DATASETS[name].title} has no class labels to condition on (a folder needs one "
                           "subfolder of images per class)")
    return {"classes": len(classes), "latent_codes": 0}


def class_names(dataset, data_dir, classes):
    """The names of a conditional run's classes ('0'…'9', 'Flags'), or their numbers where the data is gone (a
    folder's names are its subfolders': pass its path only where the caller may read that folder)."""
    try:
        names = DATASETS[dataset].classes(data_dir)
    except (DatasetError, OSError, KeyError):
        names = ()
    return tuple(names) if len(names) == classes else tuple(str(i) for i in range(classes))


def load_dataset(name, image_size, channels, data_dir=""):
    """Images of the named dataset at the model's size: TensorImages, or StreamedImages if too large."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}")
    return DATASETS[name].load(image_size, channels, data_dir)

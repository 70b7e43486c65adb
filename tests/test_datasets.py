import io
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganlib.datasets import DATASETS, emoji_arrays, load_dataset
from ganlib.emoji_archive import build_emoji_archive, emoji_entries, vendor_images
from ganlib.errors import DatasetError


def batches(data, batch_size=4):
    return list(data.batches(torch.arange(len(data)), batch_size))


def test_mnist_sample_ships_5000_labelled_digits(digits):
    assert digits.images.shape == (5000, 1, 28, 28) and digits.images.dtype == torch.uint8
    assert torch.bincount(digits.labels).tolist() == [500] * 10
    first = batches(digits, 64)[0]
    assert first.min() == -1 and first.max() == 1 and first.dtype == torch.float32


def test_mnist_sample_resizes_and_converts_channels():
    data = load_dataset("mnist-sample", 64, 3)
    assert data.images.shape == (5000, 3, 64, 64)
    assert torch.equal(data.images[:, 0], data.images[:, 2])  # gray copied into RGB


def test_emoji_ship_in_colour_at_32_and_64_px_with_their_categories():
    small, large = load_dataset("emoji", 32, 3), load_dataset("emoji", 64, 3)
    assert small.images.shape == (1906, 3, 32, 32) and large.images.shape == (1906, 3, 64, 64)
    assert DATASETS["emoji"].image_size == 32 and DATASETS["emoji"].channels == 3
    _, _, categories = emoji_arrays()
    assert categories[0] == "Smileys & Emotion" and "Component" not in categories
    assert torch.bincount(large.labels).min() > 50  # every category has emoji of its own
    corners = large.images[:, :, 0, 0].float()  # most emoji leave the corner transparent: the white background
    assert (corners == 255).all(1).float().mean() > 0.5
    colour = (large.images[:, 0].float() - large.images[:, 2].float()).abs().mean()
    assert colour > 10  # red and blue differ: real colour, not gray copied into RGB


def emoji_package(folder, entries):
    """A tiny emoji-datasource-twitter package in its own format: emoji.json and 64-px RGBA PNGs."""
    images = folder / "img" / "twitter" / "64"
    images.mkdir(parents=True)
    records = []
    for order, (name, category, subcategory, rgba) in enumerate(entries):
        Image.new("RGBA", (64, 64), rgba).save(images / f"{name}.png")
        records.append({"short_name": name, "image": f"{name}.png", "category": category, "subcategory": subcategory,
                        "sort_order": order, "has_img_twitter": True})
    records.append({"short_name": "no-image", "image": "x.png", "category": "Objects", "subcategory": "tool",
                    "sort_order": 99, "has_img_twitter": False})
    (folder / "emoji.json").write_text(json.dumps(records[::-1]))  # the file's order is not the sort order
    return folder


def test_emoji_archive_is_built_from_the_npm_package_format(tmp_path):
    package = emoji_package(tmp_path / "package", [
        ("grin", "Smileys & Emotion", "face-smiling", (255, 200, 0, 255)),
        ("skin", "Component", "skin-tone", (200, 150, 100, 255)),
        ("ghost", "Smileys & Emotion", "face-costume", (0, 0, 0, 0)),
        ("apple", "Food & Drink", "food-fruit", (220, 0, 0, 128))])
    out = tmp_path / "emoji.npz"
    assert build_emoji_archive(package, out) == 3  # the component and the emoji without an image are left out
    with np.load(out) as npz:
        assert npz["images"].shape == (3, 64, 64, 3) and npz["images"].dtype == np.uint8
        assert npz["names"].tolist() == ["grin", "ghost", "apple"]
        assert npz["categories"].tolist() == ["Smileys & Emotion", "Food & Drink"]
        assert npz["labels"].tolist() == [0, 0, 1]
        assert npz["subcategories"].tolist() == ["face-costume", "face-smiling", "food-fruit"]
        assert npz["subcategory_labels"].tolist() == [1, 0, 2]  # what the colour meter learns to name
        pixels = npz["images"][:, 10, 10].tolist()
    assert pixels[0] == [255, 200, 0]
    assert pixels[1] == [255, 255, 255]  # fully transparent: the white background
    assert pixels[2] in ([237, 127, 127], [238, 128, 128], [237, 128, 128])  # half-transparent red over white


def test_batches_follow_the_order_and_drop_the_ragged_end(digits):
    order = torch.tensor([4, 1, 3, 0, 2])
    out = list(digits.batches(order, 2))
    assert len(out) == 2
    assert torch.equal(out[0], digits.images[[4, 1]].float() / 127.5 - 1)


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_idx_files_load_through_the_real_code_path(tiny_mnist_raw, name, folder):
    root, images, labels = tiny_mnist_raw
    data = load_dataset(name, 28, 1, data_dir=str(root))
    assert torch.equal(data.images[:, 0], torch.from_numpy(images))
    assert data.labels.tolist() == labels.tolist()
    assert load_dataset(name, 32, 3, data_dir=str(root)).images.shape == (8, 3, 32, 32)


def test_cifar10_pickled_batches_load_through_the_real_code_path(tiny_cifar_raw):
    root, train = tiny_cifar_raw
    data = load_dataset("cifar10", 32, 3, data_dir=str(root))
    assert data.images.shape == (10, 3, 32, 32)
    assert torch.equal(data.images, torch.from_numpy(train))
    assert load_dataset("cifar10", 28, 1, data_dir=str(root)).images.shape == (10, 1, 28, 28)


def test_failed_download_names_the_offline_dataset(tmp_path, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # refused at once
    with pytest.raises(DatasetError, match="could not download MNIST .* use --dataset mnist-sample"):
        load_dataset("mnist", 28, 1, data_dir=str(tmp_path))


def save_png(path, size=(40, 30), color=(200, 10, 10)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


def test_folder_with_class_subfolders_is_resized_and_center_cropped(tmp_path):
    save_png(tmp_path / "cats" / "a.png", size=(80, 40))
    save_png(tmp_path / "dogs" / "b.jpg", size=(30, 60), color=(0, 0, 255))
    (tmp_path / "notes.txt").write_text("not an image")
    data = load_dataset("folder", 32, 3, data_dir=str(tmp_path))
    assert data.images.shape == (2, 3, 32, 32)
    assert data.images[0, 0].float().mean() > 190 and data.images[1, 2].float().mean() > 240
    gray = load_dataset("folder", 28, 1, data_dir=str(tmp_path))
    assert gray.images.shape == (2, 1, 28, 28)


def test_zip_of_images_loads_and_counts_what_it_skipped(tmp_path):
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(3):
            buffer = io.BytesIO()
            Image.new("RGB", (64, 64), (i * 80, 0, 0)).save(buffer, "PNG")
            z.writestr(f"faces/{i}.png", buffer.getvalue())
        z.writestr("faces/readme.txt", "hello")
        z.writestr("faces/broken.png", b"not a png at all")
    data = load_dataset("folder", 64, 3, data_dir=str(archive))
    assert data.images.shape == (3, 3, 64, 64)
    assert data.skipped == 2


def test_palette_rgba_and_16_bit_images_become_plain_pixels(tmp_path):
    Image.new("P", (10, 10), 3).save(tmp_path / "palette.png")
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(tmp_path / "transparent.png")
    Image.fromarray(np.full((10, 10), 40000, dtype=np.uint16)).save(tmp_path / "deep.png")
    data = load_dataset("folder", 28, 3, data_dir=str(tmp_path))
    assert data.images.shape == (3, 3, 28, 28)
    transparent = data.images[2]  # sorted: deep, palette, transparent
    assert transparent.float().mean() == 255  # composited onto white, not black


@pytest.mark.parametrize("setup,message", [
    (lambda p: p.mkdir(), "no images found in"),
    (lambda p: None, "does not exist"),
    (lambda p: (p.mkdir(), (p / "a.png").write_bytes(b"\x89PNG garbage")), "no readable images in"),
])
def test_folders_without_images_are_explained(tmp_path, setup, message):
    folder = tmp_path / "data"
    setup(folder)
    with pytest.raises(DatasetError, match=message):
        load_dataset("folder", 28, 1, data_dir=str(folder))


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(DatasetError, match="choose one of " + ", ".join(DATASETS)):
        load_dataset("imagenet", 28, 1)


def test_large_folders_stream_from_disk(tmp_path, monkeypatch):
    for i in range(6):
        save_png(tmp_path / f"{i}.png", color=(i * 40, 0, 0))
    monkeypatch.setenv("GAN_STUDIO_DATA_MEMORY_MB", "0.001")
    data = load_dataset("folder", 28, 3, data_dir=str(tmp_path))
    assert type(data).__name__ == "StreamedImages" and len(data) == 6
    out = list(data.batches(torch.tensor([5, 0, 1, 2, 3, 4]), 3))
    assert len(out) == 2 and out[0].shape == (3, 3, 28, 28)
    assert out[0][0, 0].mean() > out[0][1, 0].mean()  # image 5 (reddest) first, as ordered


def test_zip_without_images_is_explained(tmp_path):
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "no pictures here")
    with pytest.raises(DatasetError, match=r"no images found in notes.zip \(1 other files\)"):
        load_dataset("folder", 28, 1, data_dir=str(archive))


@pytest.mark.parametrize("count,channels,nrow,padding", [(1, 1, 8, 2), (5, 1, 3, 2), (64, 3, 8, 2), (10, 3, 4, 0)])
def test_grids_are_laid_out_as_torchvision_lays_them_out(count, channels, nrow, padding):
    from torchvision.utils import make_grid

    from ganlib.images import tile

    images = torch.rand(count, channels, 7, 9, generator=torch.Generator().manual_seed(count))
    assert torch.equal(tile(images, nrow, padding), make_grid(images, nrow=nrow, padding=padding))


def test_another_vendors_drawings_are_read_from_its_own_folder(tmp_path):
    package = emoji_package(tmp_path / "package", [("grin", "Smileys & Emotion", "face-smiling", (255, 200, 0, 255)),
                                                   ("apple", "Food & Drink", "food-fruit", (220, 0, 0, 255))])
    google = package / "img" / "google" / "64"
    google.mkdir(parents=True)
    Image.new("RGBA", (64, 64), (0, 0, 255, 255)).save(google / "apple.png")  # Google draws only the apple here
    records = json.loads((package / "emoji.json").read_text())
    for record in records:
        record["has_img_google"] = record["short_name"] == "apple"
    (package / "emoji.json").write_text(json.dumps(records))
    entries = emoji_entries(package, "google")
    assert [e["short_name"] for e in entries] == ["apple"]
    assert vendor_images(package, entries, "google")[:, 10, 10].tolist() == [[0, 0, 255]]
    assert vendor_images(package, entries)[:, 10, 10].tolist() == [[220, 0, 0]]  # the same emoji as Twitter draws it

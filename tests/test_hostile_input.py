"""Careless and hostile files, built here: each is refused or skipped with its own sentence, nothing written.

(Checkpoint pickles, truncated or swapped weights and foreign cards: tests/test_checkpoint.py; odd image
modes and folders without images: tests/test_datasets.py; bad command-line values: tests/test_cli.py.)
"""
import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import write_idx
from ganlib.archives import stage_zip_upload
from ganlib.datasets import load_dataset
from ganlib.errors import DatasetError


def png_bytes(size=(32, 32), mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, "white" if mode != "1" else 1).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_of(entries, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("entries,message", [
    ({"faces/ok.png": png_bytes(), "../../etc/cron.d/evil.png": png_bytes()}, "unsafe path '../../etc/cron.d/evil.png'"),
    ({"faces/ok.png": png_bytes(), "/tmp/evil.png": png_bytes()}, "unsafe path '/tmp/evil.png'"),
    ({"faces/ok.png": png_bytes(), "bomb.png": bytes(30 * 2**20)}, "(a zip bomb?)"),
    ({"notes.txt": b"hello", "data.csv": b"1,2"}, "no images found in upload.zip (2 other files)"),
])
def test_a_dangerous_or_empty_zip_is_refused_before_anything_is_written(tmp_path, entries, message):
    with pytest.raises(DatasetError, match=re.escape(message)):
        stage_zip_upload("upload.zip", zip_of(entries), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_zip_limits_on_entries_and_unpacked_size_apply_before_reading(tmp_path, monkeypatch):
    images = {f"faces/{i}.png": png_bytes() for i in range(5)}
    monkeypatch.setenv("GAN_STUDIO_ZIP_MAX_ENTRIES", "3")
    with pytest.raises(DatasetError, match="has 5 files, more than the limit of 3"):
        stage_zip_upload("upload.zip", zip_of(images), tmp_path)
    monkeypatch.setenv("GAN_STUDIO_ZIP_MAX_ENTRIES", "100")
    monkeypatch.setenv("GAN_STUDIO_ZIP_MAX_MB", "1")
    noise = np.random.default_rng(0).integers(0, 256, 2 * 2**20, dtype=np.uint8).tobytes()  # incompressible
    with pytest.raises(DatasetError, match="unpacks to 2 MB, more than the limit of 1 MB"):
        stage_zip_upload("upload.zip", zip_of({"big.png": noise}, zipfile.ZIP_STORED), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_something_that_is_not_a_zip_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="faces.zip is not a valid .zip file"):
        stage_zip_upload("faces.zip", b"PK\x03\x04 but nothing after", tmp_path)


def test_fake_pngs_and_decompression_bombs_are_skipped_and_counted(tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        (folder / f"real{i}.png").write_bytes(png_bytes())
    (folder / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a PNG at all")
    (folder / "bomb.png").write_bytes(png_bytes((9000, 9000), mode="1"))  # 81 megapixels, a few kB on disk
    data = load_dataset("folder", 32, 3, str(folder))
    assert len(data) == 3 and data.skipped == 2


def test_a_download_cut_short_is_not_taken_for_a_complete_one(tmp_path):
    """torchvision trusts MNIST files that exist; a truncated one gets a sentence that says what to delete."""
    images, labels = np.zeros((8, 28, 28), np.uint8), np.arange(8, dtype=np.uint8)
    raw = tmp_path / "MNIST" / "raw"
    for name, array in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels),
                        ("t10k-images-idx3-ubyte", images[:2]), ("t10k-labels-idx1-ubyte", labels[:2])):
        write_idx(raw / name, array)
    truncated = raw / "train-images-idx3-ubyte"
    truncated.write_bytes(truncated.read_bytes()[:3000])
    with pytest.raises(DatasetError, match=re.escape(f"the MNIST files in {tmp_path / 'MNIST'} are incomplete")):
        load_dataset("mnist", 28, 1, str(tmp_path))

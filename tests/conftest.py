"""Fixtures: tiny datasets in the exact files the real loaders read, and a headless Chromium."""
import hashlib
import os
import pickle
import struct

import numpy as np
import pytest
from ganlib.datasets import TensorImages, load_mnist_sample

# Ray's switch for a cluster of one machine, before any test imports ray: every node and driver the tests start binds
# to 127.0.0.1 and reports it (no traffic to the machine's other addresses).
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"


def write_idx(path, array):
    """An IDX file as MNIST ships it: magic (0, 0, dtype 0x08 = uint8, ndim), big-endian dims, data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist_raw(tmp_path):
    """Writes MNIST/raw and FashionMNIST/raw IDX files with 8 known images; returns (root, images, labels)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 28, 28), dtype=np.uint8)
    labels = np.arange(8, dtype=np.uint8)
    for folder in ("MNIST", "FashionMNIST"):
        write_idx(tmp_path / folder / "raw" / "train-images-idx3-ubyte", images)
        write_idx(tmp_path / folder / "raw" / "train-labels-idx1-ubyte", labels)
        write_idx(tmp_path / folder / "raw" / "t10k-images-idx3-ubyte", images[:2])
        write_idx(tmp_path / folder / "raw" / "t10k-labels-idx1-ubyte", labels[:2])
    return tmp_path, images, labels


@pytest.fixture
def tiny_cifar_raw(tmp_path, monkeypatch):
    """Writes cifar-10-batches-py with pickled batches of 2 images each, as torchvision reads them.

    torchvision verifies each file's MD5 against the real CIFAR-10's; the tiny files get their own MD5s.
    """
    import torchvision.datasets

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    cls = torchvision.datasets.CIFAR10
    written = {}
    for name, _ in cls.train_list + cls.test_list:
        data = rng.integers(0, 256, size=(2, 3 * 32 * 32), dtype=np.uint8)
        (folder / name).write_bytes(pickle.dumps({"data": data, "labels": [1, 2]}))
        written[name] = data
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))
    md5 = lambda name: hashlib.md5((folder / name).read_bytes()).hexdigest()
    monkeypatch.setattr(cls, "train_list", [[n, md5(n)] for n, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[n, md5(n)] for n, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5("batches.meta")})
    train = np.concatenate([written[n] for n, _ in cls.train_list]).reshape(-1, 3, 32, 32)
    return tmp_path, train


@pytest.fixture(scope="session")
def digits():
    """The shipped MNIST sample at 28×28×1."""
    return load_mnist_sample(28, 1)


@pytest.fixture
def small_digits(digits):
    """640 real digits: 10 steps per epoch at batch 64, for fast trainer tests."""
    return TensorImages(digits.images[:640].clone(), digits.labels[:640].clone())


@pytest.fixture
def tiny_configs():
    """(ModelConfig, TrainConfig) of a very small DCGAN on the CPU; call with TrainConfig overrides."""
    return tiny_dcgan


def tiny_dcgan(**overrides):
    from ganlib.config import ModelConfig, TrainConfig

    model = ModelConfig(family="dcgan", g_width=8, d_width=8, latent_dim=16)
    train = TrainConfig(**{"batch_size": 64, "device": "cpu", "seed": 3, **overrides})
    return model, train


@pytest.fixture
def collect():
    """An event sink: call it as on_event, read .events afterwards."""
    class Sink(list):
        def __call__(self, event):
            self.append(event)

        def of(self, kind):
            return [e for e in self if isinstance(e, kind)]

        def rows(self):
            from ganlib.events import Metrics

            return [row for event in self.of(Metrics) for row in event.rows]

    return Sink()


@pytest.fixture(scope="module")
def browser():
    from browser_app import CHROMIUM
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()

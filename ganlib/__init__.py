"""ganlib: the GAN engine behind GAN Studio (models, losses, datasets, trainer, checkpoints, latent tools).

In a notebook: `run = ganlib.train(dataset="mnist-sample", max_seconds=60)`, `ganlib.load(path).sample(64)`.
"""

__version__ = "0.1.0"

from .api import load, train  # noqa: E402  (after the version, which setuptools reads without importing)

__all__ = ["load", "train", "__version__"]

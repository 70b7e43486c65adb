"""ganlib: the GAN engine behind GAN Studio (models, losses, datasets, trainer, checkpoints, latent tools).

In a notebook: `run = ganlib.train(dataset="mnist-sample", max_seconds=60)`, `ganlib.load(path).sample(64)`.
"""

__version__ = "0.1.0"

__all__ = ["load", "train", "__version__"]


def __getattr__(name):
    """`ganlib.train` and `ganlib.load`, imported on first use: `import ganlib` alone does not load PyTorch, so the
    command line can say in words when PyTorch cannot load at all (a host's memory limit below what it maps)."""
    if name in ("load", "train"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'ganlib' has no attribute {name!r}")

"""ganlib: the GAN engine behind GAN Studio (models, losses, datasets, trainer, checkpoints, latent tools)."""

__version__ = "0.1.0"

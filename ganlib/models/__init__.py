"""The network families, one file each: each is one Generator and one Discriminator class parameterized by a
config. Only networks live here: no optimizers, no devices, no I/O.

Discriminators return logits of shape [B]; losses turn them into probabilities where they need to, which
keeps BCE numerically safe under autocast.
"""
from .common import (asked_classes, average_weight, batchnorm_layers, calibrate_batchnorm, chosen_codes,
                     update_average, with_code)
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .fastgan import FastGANDiscriminator, FastGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .points import PointDiscriminator, PointGenerator

MODEL_FAMILIES = {
    "mlp": (MLPGenerator, MLPDiscriminator),
    "dcgan": (DCGANGenerator, DCGANDiscriminator),
    "fastgan": (FastGANGenerator, FastGANDiscriminator),
    "mlp2d": (PointGenerator, PointDiscriminator),
}


def build_models(cfg):
    """(generator, discriminator) for a validated ModelConfig or PointModelConfig, on the CPU in fp32."""
    generator_cls, discriminator_cls = MODEL_FAMILIES[cfg.validate().family]
    return generator_cls(cfg), discriminator_cls(cfg)


def build_generator(cfg):
    """The generator alone: what sampling needs."""
    return MODEL_FAMILIES[cfg.validate().family][0](cfg)

"""Lesson presets: each shows one phenomenon of the adversarial game, on 2D points and, where it applies, on
images — the same losses and the same failures, seen in both.

Each setting was chosen by measuring (docs/design.md: "The 2D GAN"): the collapse lesson stays on one or two of the
ring's eight modes, its fix covers all eight within about ten seconds on a 2-core CPU.
"""
from dataclasses import dataclass, field

from .config import WITHOUT_LABELS


@dataclass(frozen=True)
class Lesson:
    title: str
    explanation: str  # two or three sentences shown beside the plot
    playground: dict  # overrides of the mlp2d preset, the dataset included
    image_preset: str = ""  # the Train page preset showing the same thing on images; "" where it does not apply
    image_overrides: dict = field(default_factory=dict)


LESSONS = {
    "healthy": Lesson(
        "Healthy training",
        "D and G learn at a similar pace, and an R1 penalty keeps D's slopes gentle. The heatmap stays near 0.5 "
        "where the real points are, the generated points flow into all eight modes, and the losses settle "
        "instead of running away.",
        {"dataset": "ring8"}, "dcgan"),
    "collapse": Lesson(
        "Mode collapse",
        "G learns ten times faster than D. Whenever D notices where G's points are, G jumps as a whole to the "
        "spot D currently likes best, so its points stay in one clump that hops around the ring instead of "
        "spreading over the eight modes. On images, the notebooks' MLP GAN does the same (trained as they trained it, "
        "without the R1 penalty): it draws only a few digits.",
        {"dataset": "ring8", "lr_g": 2e-3, "lr_d": 2e-4, "r1_gamma": 0.0}, "mlp", {"r1_gamma": 0.0}),
    "collapse-fix": Lesson(
        "A fix for collapse: let D keep up",
        "The same learning rates as the collapse lesson, but D takes five steps for each of G's. Now D maps the "
        "whole plane before G moves, one clump is no longer a winning answer, and the points spread over all "
        "eight modes. On images, the DCGAN covers all ten digits where the MLP GAN collapsed, even without being "
        "told which digit each image shows.",
        {"dataset": "ring8", "lr_g": 2e-3, "lr_d": 2e-4, "r1_gamma": 0.0, "d_steps": 5}, "dcgan", WITHOUT_LABELS),
    "strong-d": Lesson(
        "Discriminator too strong: the vanishing gradient",
        "With the original minimax loss, G minimizes log(1 − D(G(z))), whose slope vanishes when D is sure its "
        "points are fake. D here takes ten fast steps per G step, wins outright (D(G(z)) ≈ 0), and the arrows "
        "of G's push shrink to nothing: G stops moving. Switch the loss to 'bce' (non-saturating) and it moves again.",
        {"dataset": "ring8", "loss": "minimax", "d_steps": 10, "lr_d": 3e-3, "lr_g": 1e-4, "r1_gamma": 0.0},
        "dcgan", {"loss": "minimax", "lr_d": 2e-3, "lr_g": 2e-4, "d_steps": 3, "classes": 0,
                  "latent_codes": 0}),
    "high-lr": Lesson(
        "Learning rate too high: oscillation",
        "Both networks take steps thirty times larger than healthy. Each overshoots the other's last move, so "
        "the generated points swing across the plane and the losses oscillate instead of settling. On images, "
        "lr 0.2 with Adam's usual momentum (β1 0.9) breaks G in its first steps: its outputs saturate, D wins "
        "outright and G never recovers.",
        {"dataset": "ring8", "lr_g": 3e-2, "lr_d": 3e-2, "r1_gamma": 0.0},
        # lr 0.1 at β1 0.5 let G recover in 5 of 8 runs (seeds 0-3, bf16 and fp32): D's win hung on rounding.
        # The failure lessons keep the DCGAN as they were measured: without labels or latent codes.
        "dcgan", {"lr_g": 0.2, "lr_d": 0.2, "beta1": 0.9, "classes": 0, "latent_codes": 0}),
}

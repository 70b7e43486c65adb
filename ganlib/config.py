"""The two dataclasses that describe a run: what network (ModelConfig) and how it trains (TrainConfig).

Both are saved whole in every checkpoint card, so a run can always be rebuilt from its JSON.
"""
from dataclasses import asdict, dataclass, fields, replace

from .errors import ConfigError

IMAGE_SIZES = (28, 32, 64, 128, 256)
PRECISIONS = ("auto", "fp32", "bf16")
IMAGE_FAMILIES = ("mlp", "dcgan", "fastgan")
NOISES = ("gaussian", "uniform")
OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class ModelConfig:
    family: str = "dcgan"  # "mlp", "dcgan" or "fastgan"
    image_size: int = 28
    channels: int = 1
    latent_dim: int = 100
    g_width: int = 32  # dcgan: ngf; mlp: G hidden layers are (w, 2w, 4w)
    d_width: int = 32  # dcgan: ndf; mlp: D hidden layers are (4w, 2w)
    d_batchnorm: bool = True  # dcgan only: BatchNorm in D's inner layers
    d_dropout: float = 0.0  # Dropout after each hidden D layer, as in the PyTorch notebook
    latent_codes: int = 0  # dcgan: InfoGAN-style, the first K latent entries pick one of K codes D must read back
    classes: int = 0  # class-conditional: the first K latent entries pick the class to draw; D is told each class

    def validate(self):
        check_choice("model", self.family, IMAGE_FAMILIES)
        if not is_whole(self.image_size) or self.image_size not in IMAGE_SIZES:
            sizes = ", ".join(map(str, IMAGE_SIZES))
            raise ConfigError(f"image size {self.image_size} is not supported; choose one of {sizes}")
        if self.family == "fastgan" and self.image_size < 32:
            raise ConfigError(f"the few-shot GAN doubles its maps from 4 px, so it draws 32 px and up, not "
                              f"{self.image_size}: choose image size 32 or more")
        if not is_whole(self.channels) or self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), not {self.channels}")
        for name in ("latent_dim", "g_width", "d_width"):
            check_whole(name, getattr(self, name), 1, 4096)
        check_range("d_dropout", self.d_dropout, 0.0, 0.9)
        check_flag("d_batchnorm", self.d_batchnorm)
        check_whole("latent_codes", self.latent_codes, 0, 100)
        if self.latent_codes and (self.family != "dcgan" or self.latent_codes >= self.latent_dim):
            raise ConfigError("latent codes need the DCGAN and a latent size larger than the number of codes")
        check_whole("classes", self.classes, 0, 1000)
        if self.classes and (self.latent_codes or self.classes >= self.latent_dim):
            raise ConfigError("a conditional GAN draws the class it is asked for instead of latent codes: set latent "
                              "codes to 0 and keep the latent size larger than the number of classes")
        return self


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "mnist-sample"
    data_dir: str = ""  # folder or .zip for the "folder" dataset; cache folder override for downloads
    loss: str = "bce"
    epochs: int = 20  # 0: no epoch limit; the time or step limit ends the run
    max_steps: int = 0  # 0: no limit
    max_seconds: float = 0.0  # 0: no limit
    batch_size: int = 64
    lr_g: float = 2e-3  # G learns twice as fast as D: measured best in 60-second runs
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1  # discriminator updates per generator update
    r1_gamma: float = 0.0  # weight of the R1 penalty ‖∇D(x)‖² on real images; 0: off
    r1_every: int = 1  # 1: the penalty in every D loss; N: lazily, every N-th step at N× in a D update of its own
    augment: str = ""  # DiffAugment policy for what D sees, e.g. "translation,cutout"; "": none
    lr_decay: bool = False  # learning rates fall linearly to 0 over the budget (epochs, steps or seconds)
    ema_decay: float = 0.999  # grids and exports show an exponential moving average of G; 0 turns it off
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # "auto": bf16 autocast where the device runs it fast
    channels_last: bool = True  # DCGAN convolutions in NHWC on CPU and CUDA
    cuda_graph: bool = True  # CUDA, one process: replay each step as one captured graph

    def validate(self):
        from .augment import POLICIES, check_policy
        from .datasets import DATASETS
        from .device import DEVICE_CHOICES
        from .losses import LOSSES

        check_choice("dataset", self.dataset, DATASETS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("precision", self.precision, PRECISIONS)
        check_whole("epochs", self.epochs, 0, 100_000)
        check_whole("max_steps", self.max_steps, 0, 10**9)
        check_range("max_seconds", self.max_seconds, 0, 10**7)
        if not (self.epochs or self.max_steps or self.max_seconds):
            raise ConfigError("a run needs an end: set epochs, a step limit or a time limit (0 epochs means "
                              "\"until the time or step limit\")")
        check_whole("batch_size", self.batch_size, 1, 65_536)
        check_range("lr_g", self.lr_g, 1e-8, 1.0, low_inclusive=True)
        check_range("lr_d", self.lr_d, 1e-8, 1.0, low_inclusive=True)
        check_range("beta1", self.beta1, 0.0, 0.999)
        check_range("beta2", self.beta2, 0.0, 0.9999)
        check_whole("d_steps", self.d_steps, 1, 20)
        check_range("r1_gamma", self.r1_gamma, 0.0, 1000.0)
        check_whole("r1_every", self.r1_every, 1, 1000)
        if not isinstance(self.augment, str) or check_policy(self.augment):
            raise ConfigError(f"augment must name augmentations separated by commas ({', '.join(POLICIES)}), "
                              f"not {str(self.augment)[:40]!r}")
        check_range("ema_decay", self.ema_decay, 0.0, 0.99999)
        check_whole("seed", self.seed, 0, 2**63 - 1)
        check_choice("device", self.device, DEVICE_CHOICES)
        check_flag("channels_last", self.channels_last)
        check_flag("cuda_graph", self.cuda_graph)
        check_flag("lr_decay", self.lr_decay)
        if not isinstance(self.data_dir, str) or len(self.data_dir) > 4096:
            raise ConfigError("data_dir must be a path")
        return self

    @property
    def lazy_r1(self):
        """R1 in a D update of its own every r1_every-th step, rather than in every D loss."""
        return self.r1_gamma > 0 and self.r1_every > 1


@dataclass(frozen=True)
class PointModelConfig:
    """The 2D Playground's networks: MLPs from noise to a point, and from a point to one logit."""
    family: str = "mlp2d"
    latent_dim: int = 2  # noise size
    noise: str = "gaussian"  # or "uniform" on [-1, 1]
    hidden_layers: int = 3
    g_width: int = 128
    d_width: int = 128
    data_scale: float = 1.0  # half the side of the data's square: G's outputs are multiplied by it, D's inputs divided

    def validate(self):
        check_choice("model", self.family, ("mlp2d",))
        check_choice("noise", self.noise, NOISES)
        check_whole("latent_dim", self.latent_dim, 1, 256)
        check_whole("hidden_layers", self.hidden_layers, 1, 8)
        for name in ("g_width", "d_width"):
            check_whole(name, getattr(self, name), 1, 1024)
        check_range("data_scale", self.data_scale, 1e-6, 1e6)
        return self


@dataclass(frozen=True)
class PointTrainConfig:
    """How a 2D GAN trains. Defaults measured on ring8 and grid25 (docs/design.md: "The 2D GAN")."""
    dataset: str = "ring8"
    loss: str = "bce"
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.9
    d_steps: int = 1
    batch_size: int = 256
    r1_gamma: float = 0.1  # weight of the R1 penalty ‖∇D(x)‖² on real points: keeps D smooth, G precise
    ema_decay: float = 0.999  # exports and `sample` use a moving average of G, as image runs do
    lr_decay: bool = True  # learning rates fall linearly to 0 over the budget (steps or seconds)
    max_steps: int = 15_000
    max_seconds: float = 0.0  # 0: no limit
    seed: int = 0
    device: str = "cpu"  # these networks are too small for a GPU to pay

    def validate(self):
        from .losses import LOSSES
        from .points import POINT_DATASETS

        check_choice("dataset", self.dataset, [*POINT_DATASETS, "points"])
        check_choice("loss", self.loss, LOSSES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("lr_g", self.lr_g, 1e-8, 10.0)
        check_range("lr_d", self.lr_d, 1e-8, 10.0)
        check_range("beta1", self.beta1, 0.0, 0.999)
        check_range("beta2", self.beta2, 0.0, 0.9999)
        check_whole("d_steps", self.d_steps, 1, 20)
        check_whole("batch_size", self.batch_size, 1, 65_536)
        check_range("r1_gamma", self.r1_gamma, 0.0, 1000.0)
        check_range("ema_decay", self.ema_decay, 0.0, 0.99999)
        check_whole("max_steps", self.max_steps, 1, 10**9)
        check_range("max_seconds", self.max_seconds, 0, 10**7)
        check_whole("seed", self.seed, 0, 2**63 - 1)
        return self


# The notebooks' MLP GAN: their layers and training exactly, plus an R1 penalty on D, without which it collapses to
# a few digits (r1_gamma=0 gives the notebooks' run); and the recommended DCGAN, whose defaults above were chosen
# by measuring 60-second runs on a 2-core CPU (docs/quality.md: "Choosing the defaults"). It is a one-minute run
# that trains for the whole minute, however fast the machine (no epoch limit), with ten latent codes
# (docs/quality.md: "Levers for a 60-second run"); on labelled digits their dataset recipe makes it class-conditional.
PRESETS = {
    "mlp": (ModelConfig(family="mlp", g_width=256, d_width=256, d_batchnorm=False),
            TrainConfig(epochs=50, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, ema_decay=0.0, r1_gamma=10.0)),
    "dcgan": (ModelConfig(latent_codes=10), TrainConfig(epochs=0, max_seconds=60.0)),
    # The few-shot GAN for colour (ganlib/models/fastgan.py): FastGAN's hinge loss, DiffAugment and Adam settings
    "fastgan": (ModelConfig(family="fastgan", image_size=32, channels=3, g_width=16, d_width=16),
                TrainConfig(epochs=0, max_seconds=300.0, loss="hinge", augment="color,translation,cutout", lr_g=2e-4,
                            lr_d=2e-4, batch_size=32)),
    "mlp2d": (PointModelConfig(), PointTrainConfig()),
}
# The recommended DCGAN on labelled digits when it is not told the labels (their recipe is class-conditional,
# ganlib/datasets.py): its latent codes take the labels' place.
WITHOUT_LABELS = {"classes": 0, "latent_codes": PRESETS["dcgan"][0].latent_codes}


def epochs_of(train_cfg):
    """'/20' after an epoch number, or nothing for a run that the time or step limit ends."""
    return f"/{train_cfg.epochs}" if train_cfg.epochs else ""


def config_classes(family):
    """(model config class, train config class) of a model family: what a checkpoint card is read into."""
    return (PointModelConfig, PointTrainConfig) if family == "mlp2d" else (ModelConfig, TrainConfig)


def check_choice(what, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"unknown {what} {str(value)[:40]!r}; choose one of {', '.join(choices)}")


def check_flag(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, not {value!r}")


def is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_whole(name, value, low, high):
    """A count (widths, epochs, batch size): a whole number in range."""
    if not is_whole(value):
        raise ConfigError(f"{name} must be a whole number, not {str(value)[:40]!r}")
    check_range(name, value, low, high)


def check_range(name, value, low, high, low_inclusive=True):
    """Reject wrong types and out-of-range numbers with the setting's name in the message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, not {value!r}")
    if value != value or value > high or value < low or (value == low and not low_inclusive):
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {value:g}")


def config_to_dict(config):
    return asdict(config)


def config_from_dict(cls, data):
    """Rebuild a config (or any dataclass of a card) from a dict, ignoring unknown keys so older cards still load."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


def preset(name, **overrides):
    """(ModelConfig, TrainConfig) for a preset with some fields replaced; unknown names list the valid ones."""
    check_choice("preset", name, PRESETS)
    model, train = PRESETS[name]
    model_fields, train_fields = ({f.name for f in fields(config)} for config in (model, train))
    unknown = set(overrides) - model_fields - train_fields
    if unknown:
        raise ConfigError(f"{', '.join(sorted(unknown))} does not apply to the {name} model")
    model = replace(model, **{k: v for k, v in overrides.items() if k in model_fields})
    train = replace(train, **{k: v for k, v in overrides.items() if k in train_fields})
    return model, train

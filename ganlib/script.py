"""`python -m ganlib code`: a run's setup as one standalone PyTorch script, for reading and for taking home.

The script is script_template.py.txt with the run's settings filled in and only the parts the run uses kept: the
template marks optional parts with `#if FEATURE` / `#else` / `#endif` lines, and settings with {{name}}. Every
setting goes in as a Python literal that reads back as exactly that value, so no text from outside (a file name, a
card's field) can ever become code in a script a classmate runs.
"""
import math
import re
from pathlib import Path

from .errors import ConfigError

TEMPLATE = Path(__file__).with_name("script_template.py.txt")
DEFAULT_STEPS = 3000  # what a run without a step limit gets: about the recommended preset's minute on 2 CPU cores


def features(model_cfg, train_cfg):
    """The template's optional parts this setup needs."""
    conditional, codes = bool(model_cfg.classes), bool(model_cfg.latent_codes)
    policy = set(filter(None, train_cfg.augment.split(",")))
    return {name for name, wanted in {
        model_cfg.family: True, "conditional": conditional, "codes": codes, "one_hot": conditional or codes,
        "plain_d": model_cfg.family == "dcgan" and not (conditional or codes),
        "plain_judge": not (conditional or codes), "dropout": model_cfg.family == "dcgan" and model_cfg.d_dropout > 0,
        "d_batchnorm": model_cfg.d_batchnorm, "any_r1": train_cfg.r1_gamma > 0,
        "r1": train_cfg.r1_gamma > 0 and not train_cfg.lazy_r1, "lazy_r1": train_cfg.lazy_r1,
        "gp": train_cfg.loss == "wgan-gp",
        "augment": bool(policy), "color": "color" in policy, "translation": "translation" in policy, "cutout": "cutout" in policy,
        "ema": train_cfg.ema_decay > 0, "lr_decay": train_cfg.lr_decay,
        f"loss_{'wgan' if train_cfg.loss == 'wgan-gp' else train_cfg.loss}": True}.items() if wanted}


def keep_wanted(lines, wanted):
    """The template's lines without the marker lines and without the parts whose feature is not wanted."""
    kept, stack = [], []  # stack: for each open #if, whether its current branch is kept
    for line in lines:
        marker = line.strip()
        if marker.startswith("#if "):
            stack.append(marker[4:] in wanted)
        elif marker == "#else":
            stack[-1] = not stack[-1]
        elif marker == "#endif":
            stack.pop()
        elif all(stack):
            kept.append(line)
    return kept


def standalone_script(model_cfg, train_cfg, source):
    """The script's text: a PyTorch file that trains this setup with no GAN Studio import."""
    if model_cfg.family not in ("mlp", "dcgan", "fastgan"):
        raise ConfigError(f"the {model_cfg.family} family cannot be written out as a script")
    values = {**vars(model_cfg), **vars(train_cfg),
              "steps": train_cfg.max_steps or DEFAULT_STEPS, "SOURCE": source,
              "TITLE": f"{model_cfg.family.upper()} on {train_cfg.dataset}, {model_cfg.image_size}×{model_cfg.image_size}"
                       f"×{model_cfg.channels}{', class-conditional' if model_cfg.classes else ''}"}
    lines = keep_wanted(TEMPLATE.read_text().splitlines(), features(model_cfg, train_cfg))
    text = re.sub(r"{{(\w+)}}", lambda match: literal(values[match.group(1)]), "\n".join(lines) + "\n")
    return re.sub(r"\n{4,}", "\n\n\n", text)  # at most two blank lines where dropped parts were


def literal(value):
    """Python source for a setting that evaluates to exactly `value`: quotes, backslashes and newlines in text are
    escaped by repr, so the text stays one string; any other kind of value is refused."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"a setting of {value} cannot be written into a script")
    if not isinstance(value, (bool, int, float, str)):
        raise ConfigError(f"a setting of type {type(value).__name__} cannot be written into a script")
    return repr(value)

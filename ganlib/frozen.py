"""The networks shipped in ganlib/data (the meter's digit classifier and colour network): written as safetensors
with a JSON card beside them, and loaded frozen, or refused in one sentence naming the command that rebuilds them."""
import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import CheckpointError


def save_network(model, card, out):
    """Write OUT.safetensors (the weights) and OUT.json (the card); returns the card."""
    out = Path(out).with_suffix(".safetensors")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out))
    out.with_suffix(".json").write_text(json.dumps(card, indent=2))
    return card


def load_network(build, path, what, command, device="cpu"):
    """build(state dict) → the network, with the weights at `path` loaded, in eval mode and frozen."""
    try:
        state = load_file(str(path))
        model = build(state)
        model.load_state_dict(state)
    except (OSError, SafetensorError, KeyError, RuntimeError) as error:
        raise CheckpointError(f"{what} at {path} could not be read ({error}); rebuild it with: {command}") from error
    return model.to(device).eval().requires_grad_(False)

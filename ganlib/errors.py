"""User-facing errors: each carries one sentence a person can act on.

The app shows the message in the page and the CLI prints it and exits 2, so the text must stand alone.
"""


class GanStudioError(Exception):
    """Base class for errors caused by the user's input, not by a bug."""


class ConfigError(GanStudioError):
    """A hyperparameter or combination of settings that cannot work."""


class DatasetError(GanStudioError):
    """A dataset that cannot be loaded: no network, no images, a corrupt file."""


class CheckpointError(GanStudioError):
    """A checkpoint that cannot be loaded safely or does not match its card."""


class MismatchedCard(CheckpointError):
    """Weights whose hash is not the one their card records: replaced, or a save cut off between its renames."""


class Diverged(GanStudioError):
    """A NaN or infinite loss: the run stops and the last good checkpoint stays."""


class UploadFailed(GanStudioError):
    """An upload that did not go through (no network, a refused token): the local files it would send are kept."""


def is_out_of_memory(error):
    """An allocation that failed: Python's MemoryError, the CPU allocator's RuntimeError ("can't allocate memory"),
    CUDA's and MPS's OutOfMemoryError. No torch here: the app's router asks before any page imports it."""
    text = str(error)
    return isinstance(error, MemoryError) or "can't allocate memory" in text or "out of memory" in text.lower()


def torch_cannot_load(error):
    """PyTorch's libraries could not be mapped: the process's address-space limit is below what torch maps."""
    return isinstance(error, ImportError) and "failed to map segment" in str(error)


TORCH_CANNOT_LOAD = ("PyTorch cannot load within this process's address-space limit (ulimit -v, prlimit --as): its CUDA "
                     "build maps about 3.2 GB as it loads. Raise the limit (the command line needs about 4 GB, the app "
                     "about 6 GB), or install the CPU-only build of torch")

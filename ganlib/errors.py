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

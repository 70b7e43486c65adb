"""The class gallery: runs their owners chose to share, ranked by the quality meter, for a whole room to watch.

Nothing is shared without its owner's say-so, and only what the gallery shows: a nickname, the newest grid, the
run's status and the meter's figures. Entries outlive their runs (a student who closes the tab stays on the board
with the last grid), up to the host's cap, oldest dropped first. One session holds a few entries at most (a new
share replaces its own oldest), so no one can push the class off the board, and no two entries carry nicknames
that look alike, so no one can pass for a classmate on the projector.
"""
import io
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from .config import epochs_of
from .errors import ConfigError
from .host import gallery_limit, gallery_per_session
from .runs import ACTIVE
from .text import lookalike_key

NICKNAME = re.compile(r"[\w .'!?-]{1,24}")  # letters of any script, digits, spaces and a little punctuation


def checked_nickname(text):
    """The nickname, stripped, or a ConfigError saying what a nickname may be."""
    nickname = " ".join(str(text).split())
    if not NICKNAME.fullmatch(nickname):
        raise ConfigError("a nickname is 1 to 24 letters, digits and spaces (and - ' . ! ?)")
    return nickname


@dataclass
class Entry:
    """One shared run as the gallery shows it: refreshed from the run while the server still holds it."""
    entry_id: str
    session_id: str
    run_id: str
    nickname: str
    shared_at: float = field(default_factory=time.monotonic)
    grid_png: bytes = b""  # the newest grid, encoded once per grid
    grid_step: int = -1
    where: str = ""  # "Epoch 3/20 · step 234"
    state: str = "starting"  # the run's status; "ended" once the server has forgotten the run
    score: object = None  # the newest QualityScore, or None before the first epoch ends
    dataset: str = ""

    def rank_key(self):
        """Best first: digits by legible share, emoji by the share read as emoji, then other data; ties by
        Fréchet distance over the real floor; entries not yet scored last."""
        if self.score is None:
            return (2, 0.0, 0.0)
        distance = self.score.frechet / max(self.score.real_frechet or 1.0, 1e-9)
        readable = self.score.legible if self.score.legible is not None else self.score.recognised
        if readable is not None:
            return (0, -readable, distance)
        return (1, 0.0, distance)

    def refresh(self, run):
        if run is None:  # the run's session left and the server forgot it: keep the last picture
            self.state = "ended" if self.state in ACTIVE else self.state
            return
        self.dataset = run.train_cfg.dataset
        if run.grids and run.grids[-1].step != self.grid_step:
            buffer = io.BytesIO()
            run.grids[-1].image.save(buffer, format="PNG")
            self.grid_png, self.grid_step = buffer.getvalue(), run.grids[-1].step
        if run.quality:
            self.score = run.quality[-1].score
        if run.progress is not None:
            self.where = f"Epoch {int(run.progress.epoch)}{epochs_of(run.train_cfg)} · step {run.progress.step:,}"
        self.state = run.status


class Gallery:
    """The server's gallery: one per process, shared by every session (ganlib never imports Streamlit)."""

    def __init__(self, limit=None, per_session=None):
        self._limit = limit  # None: the host's setting, read at each use
        self._per_session = per_session  # likewise
        self._entries = {}  # entry id → Entry, oldest first
        self._lock = threading.Lock()

    @property
    def limit(self):
        return gallery_limit() if self._limit is None else self._limit

    @property
    def per_session(self):
        return gallery_per_session() if self._per_session is None else self._per_session

    @property
    def enabled(self):
        return self.limit > 0

    def share(self, run, session_id, nickname):
        """Put a session's own run on the board (once: sharing again renames it); returns the entry id."""
        if not self.enabled:
            raise ConfigError("this server's class gallery is turned off")
        if run is None or run.session_id != session_id:
            raise ConfigError("only a run of your own can be shared")
        nickname = checked_nickname(nickname)
        with self._lock:
            entry = self.entry_of(run.run_id)
            self._check_unique(nickname, session_id)
            if entry is None:
                entry = Entry(f"entry-{secrets.token_hex(12)}", session_id, run.run_id, nickname)
                self._entries[entry.entry_id] = entry
                own = [key for key, e in self._entries.items() if e.session_id == session_id]
                for key in own[:max(0, len(own) - self.per_session)]:  # the session's own oldest make room
                    del self._entries[key]
                while len(self._entries) > self.limit:  # the oldest entry leaves first
                    del self._entries[next(iter(self._entries))]
            entry.nickname = nickname
        entry.refresh(run)
        return entry.entry_id

    def _check_unique(self, nickname, session_id):
        """A nickname that looks like another session's on the board is refused (a session may reuse its own)."""
        key = lookalike_key(nickname)
        taken = next((e.nickname for e in self._entries.values()
                      if e.session_id != session_id and lookalike_key(e.nickname) == key), None)
        if taken is not None:
            raise ConfigError(f"that nickname looks like {taken}, already on the board: choose another")

    def withdraw(self, entry_id, session_id):
        """Take an entry off the board: only the session that shared it can (one already gone is fine)."""
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is not None and entry.session_id != session_id:
                raise ConfigError("only the one who shared an entry can withdraw it")
            self._entries.pop(entry_id, None)

    def entry_of(self, run_id):
        return next((e for e in list(self._entries.values()) if e.run_id == run_id), None)

    def board(self, find_run):
        """Every entry, refreshed through find_run(run_id) → Run or None, best first."""
        entries = list(self._entries.values())
        for entry in entries:
            entry.refresh(find_run(entry.run_id))
        return sorted(entries, key=Entry.rank_key)

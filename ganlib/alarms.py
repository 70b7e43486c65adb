"""Failure alarms for image runs: the three classic ways a GAN run goes wrong, spotted early in its metric
traces and said in plain words, each with the fix most likely to help.

Functions of the rows the trainer logs and the quality meter's scores, so each is tested on made-up traces; a
run's AlarmWatch keeps what they need as the run grows, so a live page's question costs the same at any length.
"""
import collections
import heapq
import threading
from dataclasses import dataclass
from statistics import fmean

WINDOW = 40  # logged rows per comparison window (the trainer logs every few steps)
CATCHING_UP = 0.01  # a rise in mean D(G(z)) over one window that shows G gaining on a winning D


@dataclass(frozen=True)
class Alarm:
    kind: str  # "discriminator-wins", "mode-collapse" or "diverging"
    message: str
    fix: str


def discriminator_wins(rows, probabilities):
    """D(x) → 1 and D(G(z)) → 0 with D(G(z)) not rising: G no longer gets a useful gradient.

    G's progress is read from D(G(z)), not from G's loss: once D wins outright G's loss is dominated by a few
    samples D is surest of and swings by tens of percent either way between windows (bf16 and fp32 runs of one
    lesson differed only in that), while the mean D(G(z)) of a beaten G stays near 0 in every precision."""
    if not probabilities or len(rows) < 2 * WINDOW:
        return None
    earlier, recent = rows[-2 * WINDOW:-WINDOW], rows[-WINDOW:]
    d_real, d_fake = fmean(r["d_real"] for r in recent), fmean(r["d_fake"] for r in recent)
    d_fake_then = fmean(r["d_fake"] for r in earlier)
    if d_real > 0.9 and d_fake < 0.1 and d_fake < d_fake_then + CATCHING_UP:
        return Alarm("discriminator-wins",
                     f"The discriminator is winning outright: D(x) ≈ {d_real:.2f}, D(G(z)) ≈ {d_fake:.2f}, and G's "
                     f"samples are not gaining on it (D(G(z)) {d_fake_then:.3f} → {d_fake:.3f}), so G hardly learns.",
                     "Lower D's learning rate (or raise G's), use the non-saturating 'bce' loss, or add dropout to D.")
    return None


def mode_collapse(diversities):
    """The samples of the fixed noise batch getting alike: their diversity (per epoch) falling from its peak."""
    if len(diversities) < 2:
        return None
    peak, now = max(diversities[:-1]), diversities[-1]
    if now < 0.6 * peak or now < 0.3:
        return Alarm("mode-collapse",
                     f"Mode collapse: the samples are getting alike (diversity {peak:.2f} at best, {now:.2f} now; "
                     "real images score 1).",
                     "Try the DCGAN preset, a lower G learning rate, or the WGAN-GP loss; more epochs rarely help.")
    return None


GROWING = (("loss_d", "D's loss"), ("loss_g", "G's loss"), ("grad_norm_d", "D's gradient"),
           ("grad_norm_g", "G's gradient"))


def diverging_from(usual, recent):
    """The diverging alarm for the last window's rows, given each column's usual size."""
    for column, what in GROWING:
        now = fmean(abs(r[column]) for r in recent)
        if now > 10 * max(usual[column], 0.1):
            return Alarm("diverging",
                         f"Training is diverging: {what} is {now / max(usual[column], 1e-12):.0f}× its usual size "
                         f"({usual[column]:.2g} → {now:.2g}).",
                         "Halve both learning rates, or keep β1 at 0.5; if it keeps growing, stop and restart.")
    return None


class RunningMedian:
    """The median of a growing list of numbers in O(log n) an addition: the lower half in a max-heap, the upper
    half in a min-heap."""

    def __init__(self):
        self.lower, self.upper = [], []  # lower holds negated values

    def add(self, value):
        if self.lower and value > -self.lower[0]:
            heapq.heappush(self.upper, value)
        else:
            heapq.heappush(self.lower, -value)
        if len(self.lower) > len(self.upper) + 1:
            heapq.heappush(self.upper, -heapq.heappop(self.lower))
        elif len(self.upper) > len(self.lower):
            heapq.heappush(self.lower, -heapq.heappop(self.upper))

    @property
    def value(self):
        if len(self.lower) > len(self.upper):
            return -self.lower[0]
        return (-self.lower[0] + self.upper[0]) / 2


class AlarmWatch:
    """The alarms of a run as it grows: rows and diversities are added as they come, and asking costs the same at
    any run length (a live page asks every second). Safe to add from one thread while others ask."""

    def __init__(self, probabilities=True):
        self.probabilities = probabilities
        self.count = 0
        self.recent = collections.deque(maxlen=2 * WINDOW)
        self.usual = {column: RunningMedian() for column, _ in GROWING}  # of every row before the last window
        self.diversities = []
        self._lock = threading.Lock()

    def add_rows(self, rows):
        with self._lock:
            for row in rows:
                if len(self.recent) >= WINDOW:  # the row leaving the last window becomes part of the usual
                    leaving = self.recent[-WINDOW]
                    for column, median_of in self.usual.items():
                        median_of.add(abs(leaving[column]))
                self.recent.append(row)
                self.count += 1
        return self

    def add_diversity(self, diversity):
        with self._lock:
            self.diversities.append(diversity)
        return self

    def diverging(self):
        """Losses or gradients blowing up: ten times their usual size (the median before the last window) over the
        last window."""
        with self._lock:
            if self.count < 2 * WINDOW:
                return None
            usual = {column: median_of.value for column, median_of in self.usual.items()}
            recent = list(self.recent)[-WINDOW:]
        return diverging_from(usual, recent)

    def alarms(self):
        """The alarms that ring now, most urgent first."""
        with self._lock:
            recent, diversities = list(self.recent), list(self.diversities)
        found = (self.diverging(), discriminator_wins(recent, self.probabilities), mode_collapse(diversities))
        return [alarm for alarm in found if alarm]


def check_alarms(rows, diversities, probabilities=True):
    """The alarms that ring for a run's metric rows and per-epoch sample diversities, most urgent first."""
    watch = AlarmWatch(probabilities).add_rows(rows)
    for diversity in diversities:
        watch.add_diversity(diversity)
    return watch.alarms()

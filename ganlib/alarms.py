"""Failure alarms for image runs: the three classic ways a GAN run goes wrong, spotted early in its metric
traces and said in plain words, each with the fix most likely to help.

Pure functions of the rows the trainer logs and the quality meter's scores, so each is tested on made-up traces.
"""
from dataclasses import dataclass
from statistics import fmean, median

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


def diverging(rows):
    """Losses or gradients blowing up: ten times their usual size over the last window."""
    if len(rows) < 2 * WINDOW:
        return None
    recent = rows[-WINDOW:]
    for column, what in (("loss_d", "D's loss"), ("loss_g", "G's loss"), ("grad_norm_d", "D's gradient"),
                         ("grad_norm_g", "G's gradient")):
        usual, now = median(abs(r[column]) for r in rows[:-WINDOW]), fmean(abs(r[column]) for r in recent)
        if now > 10 * max(usual, 0.1):
            return Alarm("diverging",
                         f"Training is diverging: {what} is {now / max(usual, 1e-12):.0f}× its usual size "
                         f"({usual:.2g} → {now:.2g}).",
                         "Halve both learning rates, or keep β1 at 0.5; if it keeps growing, stop and restart.")
    return None


def check_alarms(rows, diversities, probabilities=True):
    """The alarms that ring for a run's metric rows and per-epoch sample diversities, most urgent first."""
    found = (diverging(rows), discriminator_wins(rows, probabilities), mode_collapse(diversities))
    return [alarm for alarm in found if alarm]

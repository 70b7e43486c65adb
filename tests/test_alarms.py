import csv
from pathlib import Path

import pytest

from ganlib.alarms import WINDOW, AlarmWatch, check_alarms, discriminator_wins, mode_collapse


def trace(n, **columns):
    """n metric rows; each column is a value or a function of the row index."""
    defaults = dict(loss_d=1.2, loss_g=0.9, d_real=0.6, d_fake=0.4, grad_norm_d=2.0, grad_norm_g=1.5)
    values = {**defaults, **columns}
    return [{"step": i, **{k: v(i) if callable(v) else v for k, v in values.items()}} for i in range(n)]


def test_a_healthy_run_rings_no_alarm():
    rows = trace(300, loss_g=lambda i: 0.9 + 0.05 * (i % 7) / 7)
    assert check_alarms(rows, [0.9, 0.95, 0.93, 0.97]) == []


def test_discriminator_winning_with_g_loss_climbing_rings_and_names_a_fix():
    rows = trace(100, d_real=0.6, d_fake=0.4) + trace(2 * WINDOW, d_real=0.97, d_fake=0.02,
                                                          loss_g=lambda i: 2.0 + 0.1 * i)
    alarm = discriminator_wins(rows, probabilities=True)
    assert alarm.kind == "discriminator-wins" and "D(x) ≈ 0.97" in alarm.message and "learning rate" in alarm.fix
    assert discriminator_wins(rows, probabilities=False) is None  # hinge / WGAN scores are not probabilities


def test_a_confident_d_while_g_catches_up_is_not_an_alarm():
    rows = trace(200, d_real=0.95, d_fake=lambda i: 0.002 + 0.0004 * i, loss_g=lambda i: 6.0 - 0.02 * i)
    assert discriminator_wins(rows, probabilities=True) is None
    stuck = trace(200, d_real=0.95, d_fake=0.05, loss_g=3.0)
    assert discriminator_wins(stuck, probabilities=True).kind == "discriminator-wins"


def test_a_beaten_g_rings_however_its_loss_swings():
    """Once D wins outright G's loss is ruled by a few samples and swings either way; D(G(z)) stays near 0."""
    falling = trace(100) + trace(2 * WINDOW, d_real=0.999, d_fake=0.0002, loss_g=lambda i: 40.0 - 0.3 * i)
    alarm = discriminator_wins(falling, probabilities=True)
    assert alarm.kind == "discriminator-wins" and "D(G(z)) 0.000 → 0.000" in alarm.message


def test_falling_diversity_rings_mode_collapse():
    alarm = mode_collapse([0.8, 0.9, 0.7, 0.45])
    assert alarm.kind == "mode-collapse" and "0.90 at best, 0.45 now" in alarm.message
    assert mode_collapse([0.8, 0.9, 0.85]) is None
    assert mode_collapse([0.5]) is None  # one epoch says nothing about a trend
    assert mode_collapse([0.5, 0.25]).kind == "mode-collapse"


def diverging(rows):
    return AlarmWatch().add_rows(rows).diverging()


def test_losses_ten_times_their_usual_size_ring_diverging():
    rows = trace(200) + trace(WINDOW, loss_d=40.0)
    alarm = diverging(rows)
    assert alarm.kind == "diverging" and "D's loss is 33×" in alarm.message and "Halve" in alarm.fix
    gradients = trace(200) + trace(WINDOW, grad_norm_g=500.0)
    assert "G's gradient" in diverging(gradients).message
    assert diverging(trace(200) + trace(WINDOW, loss_d=3.0)) is None


def test_a_watch_fed_in_batches_rings_as_the_whole_trace_does_at_every_length():
    """The live page's watch gets rows a few at a time; at each length it must say what the whole trace says.
    The usual size is an exact running median: checked against statistics.median on uneven values."""
    import random
    from statistics import median

    rng = random.Random(0)
    rows = trace(150, loss_d=lambda i: rng.uniform(0.5, 2.0)) + trace(WINDOW, loss_d=30.0, d_real=0.99, d_fake=0.01)
    watch, seen = AlarmWatch(), 0
    while seen < len(rows):
        batch = rows[seen:seen + rng.randint(1, 9)]
        watch.add_rows(batch)
        seen += len(batch)
        assert [a.message for a in watch.alarms()] == [a.message for a in check_alarms(rows[:seen], [])]
        if seen > WINDOW:
            assert watch.usual["loss_d"].value == median(abs(r["loss_d"]) for r in rows[:seen - WINDOW])
    assert [a.kind for a in watch.alarms()] == ["diverging", "discriminator-wins"]


def test_alarms_come_most_urgent_first():
    rows = trace(200) + trace(WINDOW, loss_g=lambda i: 50.0 + i, d_real=0.99, d_fake=0.01)
    assert [a.kind for a in check_alarms(rows, [0.9, 0.2])] == ["diverging", "discriminator-wins", "mode-collapse"]


def recorded(name):
    """A metric trace recorded by the CLI (tests/data; recorded on a 2-core Xeon with AMX, where 'auto' runs bf16):
    python -m ganlib train --model dcgan --epochs 2 --seed 0 --lr 0.2 --beta1 0.9 --precision bf16|fp32."""
    with open(Path(__file__).parent / "data" / f"{name}.csv") as f:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(f)]


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_the_high_lr_lesson_rings_d_wins_in_either_precision_at_every_refresh(precision):
    rows = recorded(f"high-lr-lesson-{precision}")
    for seen in range(2 * WINDOW, len(rows) + 1):  # whatever number of steps a page refresh happens to see
        assert [alarm.kind for alarm in check_alarms(rows[:seen], [])] == ["discriminator-wins"]


def test_a_g_that_recovers_from_a_high_learning_rate_rings_nothing():
    rows = recorded("lr0.1-recovers-bf16")  # lr 0.1 at β1 0.5, seed 1: D(G(z)) back to ~0.43 by step 80
    assert all(check_alarms(rows[:seen], []) == [] for seen in range(2 * WINDOW, len(rows) + 1))

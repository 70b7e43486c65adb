from ganlib.alarms import WINDOW, check_alarms, discriminator_wins, diverging, mode_collapse


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
    rows = trace(200, d_real=0.95, d_fake=0.05, loss_g=lambda i: 6.0 - 0.02 * i)
    assert discriminator_wins(rows, probabilities=True) is None
    stuck = trace(200, d_real=0.95, d_fake=0.05, loss_g=3.0)
    assert discriminator_wins(stuck, probabilities=True).kind == "discriminator-wins"


def test_falling_diversity_rings_mode_collapse():
    alarm = mode_collapse([0.8, 0.9, 0.7, 0.45])
    assert alarm.kind == "mode-collapse" and "0.90 at best, 0.45 now" in alarm.message
    assert mode_collapse([0.8, 0.9, 0.85]) is None
    assert mode_collapse([0.5]) is None  # one epoch says nothing about a trend
    assert mode_collapse([0.5, 0.25]).kind == "mode-collapse"


def test_losses_ten_times_their_usual_size_ring_diverging():
    rows = trace(200) + trace(WINDOW, loss_d=40.0)
    alarm = diverging(rows)
    assert alarm.kind == "diverging" and "D's loss is 33×" in alarm.message and "Halve" in alarm.fix
    gradients = trace(200) + trace(WINDOW, grad_norm_g=500.0)
    assert "G's gradient" in diverging(gradients).message
    assert diverging(trace(200) + trace(WINDOW, loss_d=3.0)) is None


def test_alarms_come_most_urgent_first():
    rows = trace(200) + trace(WINDOW, loss_g=lambda i: 50.0 + i, d_real=0.99, d_fake=0.01)
    assert [a.kind for a in check_alarms(rows, [0.9, 0.2])] == ["diverging", "discriminator-wins", "mode-collapse"]

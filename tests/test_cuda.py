"""The CUDA path (bf16 autocast, channels_last, the step replayed as one CUDA graph).

Skipped where no CUDA GPU is present, as in CI; run on a GPU machine with `pytest tests/test_cuda.py`.
"""
import threading

import pytest
import torch

from ganlib.checkpoint import load_checkpoint
from ganlib.config import ModelConfig, TrainConfig
from ganlib.datasets import TensorImages
from ganlib.events import Failed, Finished, Metrics, QualityScored
from ganlib.trainer import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def train(data, events, run_dir=None, resume=None, model=ModelConfig(), **fields):
    trainer = Trainer(model, TrainConfig(**{"device": "cuda", "seed": 5, **fields}), data=data,
                      on_event=events.append, run_dir=run_dir, resume=resume, report_every=5)
    trainer.run()
    assert not [e.message for e in events if isinstance(e, Failed)]
    return trainer


def losses(events):
    return torch.tensor([[row["loss_d"], row["loss_g"]] for e in events if isinstance(e, Metrics) for row in e.rows])


@pytest.mark.parametrize("model,fields", [(ModelConfig(), {}),
                                          (ModelConfig(family="mlp", g_width=64, d_width=64), {"r1_gamma": 10.0})])
def test_the_replayed_graph_trains_as_the_eager_step_does(small_digits, model, fields):
    """fp32, same seed: the captured step (after its eager warm-up) gives the eager step's losses and weights,
    R1's double backward included."""
    torch.backends.cudnn.deterministic = True
    try:
        eager_events, graph_events = [], []
        settings = {"model": model, "precision": "fp32", "max_steps": 12, **fields}
        eager = train(small_digits, eager_events, cuda_graph=False, **settings)
        graphed = train(small_digits, graph_events, cuda_graph=True, **settings)
    finally:
        torch.backends.cudnn.deterministic = False
    assert graphed.gan._step_fn.graph is not None  # steps 3 to 12 were replays
    assert len(losses(graph_events)) == 12
    torch.testing.assert_close(losses(graph_events), losses(eager_events), rtol=1e-4, atol=1e-5)
    for averaged, reference in zip(graphed.gan.sample_generator.parameters(), eager.gan.sample_generator.parameters()):
        torch.testing.assert_close(averaged, reference, rtol=1e-4, atol=1e-5)


def test_default_cuda_settings_learn_digits_and_resume(tmp_path, digits):
    """bf16 + channels_last + graph: five epochs of the shipped digits score better than the first did, and
    the checkpoint resumes into a new graph."""
    digits, events = TensorImages(digits.images.clone(), digits.labels.clone()), []  # moved to the GPU: a copy
    train(digits, events, run_dir=tmp_path, epochs=5)
    scores = [e.score for e in events if isinstance(e, QualityScored)]
    assert torch.isfinite(losses(events)).all()
    assert scores[-1].frechet < scores[0].frechet and scores[-1].classes_covered >= 8
    more = []
    train(digits, more, resume=load_checkpoint(tmp_path), epochs=6)
    finished = [e for e in more if isinstance(e, Finished)][0]
    assert finished.reason == "completed" and finished.epoch == 6


def test_two_runs_capture_and_replay_their_graphs_side_by_side(small_digits):
    """As the app hosts them: each run in its own thread, one capturing while the other trains."""
    results = {}

    def run(name, seed):
        events = []
        data = TensorImages(small_digits.images.clone(), small_digits.labels.clone())
        results[name] = (train(data, events, seed=seed, max_steps=40), events)

    threads = [threading.Thread(target=run, args=(name, seed)) for name, seed in (("a", 1), ("b", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for trainer, events in results.values():
        assert trainer.gan._step_fn.graph is not None and len(losses(events)) == 40
        assert torch.isfinite(losses(events)).all()
    assert not torch.equal(losses(results["a"][1]), losses(results["b"][1]))

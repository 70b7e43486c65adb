"""Two CPU processes with gloo: the ranks stay in sync, and what rank 0 writes loads in a single process."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ganlib.cli import main
from ganlib.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
TINY = ["--ngf", "8", "--ndf", "8", "--latent-dim", "16", "--device", "cpu", "--batch-size", "32"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def thread_names():
    """This process's OS threads by name (Linux)."""
    return [(task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()]


def train_one_rank(rank, world_size, port, out):
    """What torchrun does for each process, then this rank's weights and last losses to files; leaving the group
    must stop gloo's threads (left running into interpreter shutdown, they aborted the process now and then)."""
    from ganlib.distributed import leave_process_group
    from ganlib.datasets import load_mnist_sample
    from ganlib.trainer import Trainer
    from conftest import tiny_dcgan

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    model, train = tiny_dcgan(max_steps=5, batch_size=32)
    trainer = Trainer(model, train, data=load_mnist_sample(28, 1))
    trainer.run()
    weights = {f"{name}.{k}": v.contiguous() for name, network in
               (("generator", trainer.gan.generator), ("averaged", trainer.gan.sample_generator), ("discriminator", trainer.gan.discriminator))
               for k, v in network.named_parameters()}
    save_file(weights, str(Path(out) / f"rank{rank}.safetensors"))
    (Path(out) / f"rank{rank}.json").write_text(json.dumps({"step": trainer.step, **trainer.last_metrics}))
    assert any("gloo" in name for name in thread_names())
    leave_process_group()
    assert not [name for name in thread_names() if "gloo" in name]


def test_two_ranks_hold_identical_weights_after_training_on_different_shards(tmp_path):
    torch.multiprocessing.spawn(train_one_rank, args=(2, free_port(), str(tmp_path)), nprocs=2)
    rank0, rank1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    assert rank0.keys() == rank1.keys() and len(rank0) > 10
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    losses0, losses1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert losses0["step"] == losses1["step"] == 5
    assert losses0["loss_d"] != losses1["loss_d"]  # each rank scored its own shard of the data


def test_torchrun_trains_and_rank_0_writes_a_checkpoint_that_loads_in_one_process(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             "--master_port", str(free_port()), "-m", "ganlib", "train", "--dataset", "mnist-sample",
                             "--max-steps", "4", "--out", str(out), *TINY],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-6000:]  # the failing rank's own words come before the summary
    assert "× 2 processes" in result.stderr and result.stdout.count("max_steps: ") == 1  # rank 0 alone reports
    card = load_checkpoint(out).card
    assert card["world_size"] == 2 and card["step"] == 4
    assert main(["sample", str(out), "--n", "3", "--out", str(tmp_path / "s.npz"), "--device", "cpu"]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (3, 1, 28, 28)

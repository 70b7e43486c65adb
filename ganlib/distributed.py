"""Several processes, one model: what `torchrun --nproc_per_node N -m ganlib train` needs.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; each rank trains on its own shard of every batch order,
DistributedDataParallel averages the gradients, and rank 0 alone writes files. A plain `python -m ganlib`
run (and the app) sees world size 1 and never touches torch.distributed.
"""
import gc
import importlib
import os

import torch
import torch.distributed as dist


def rank_and_world_size():
    """(rank, world size) from torchrun's environment; (0, 1) for a single process."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def join_process_group(device):
    """Join the group torchrun started (NCCL on GPUs, gloo on CPUs); returns this rank's device."""
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    # torch.optim imports torch._dynamo on its first use; imported after the group exists, it left the group's gloo
    # threads running after leave_process_group (tests/test_distributed.py), so it comes first
    importlib.import_module("torch._dynamo")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def leave_process_group():
    """Leave, and stop gloo's threads now: left running into interpreter shutdown, they aborted the process now
    and then ('terminate called without an active exception'). The DDP wrappers a finished run dropped still hold
    the group in reference cycles, hence the collection."""
    if dist.is_initialized():
        dist.destroy_process_group()
        gc.collect()


def any_rank(flag, device):
    """True on every rank when `flag` is true on at least one: ranks must agree on when to stop."""
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())

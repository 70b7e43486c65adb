"""Replay a whole training step as one CUDA graph.

At batch 64 a DCGAN step is several hundred small kernels (forward, backward, optimizers, moving average)
that each run for microseconds; launching them one by one from Python costs more than running them. A graph
captured once launches them all in one call. Inputs that change each step (the real batch and its labels, the noise
generator's state, the moving average's weight) must live in fixed tensors, and the optimizers must be
capturable.
"""
import torch

WARMUP_STEPS = 2  # eager steps first: cuDNN picks its kernels, the optimizers create their state


class GraphedStep:
    """Call like `step(real)` or `step(real, labels)`: eager for the first WARMUP_STEPS calls, then captured once
    and replayed."""

    def __init__(self, step, rng):
        self.step, self.rng = step, rng
        self.calls = 0
        self.graph = self.static_inputs = self.static_out = None

    def __call__(self, *inputs):
        self.calls += 1
        if self.calls <= WARMUP_STEPS:
            return self._warm_up(*inputs)
        if self.graph is None:
            self._capture(*inputs)
        else:
            for static, tensor in zip(self.static_inputs, inputs):
                static.copy_(tensor)
        self.graph.replay()
        return self.static_out.clone()  # the next replay overwrites static_out

    def _warm_up(self, *inputs):
        """Eager steps on a side stream, as capture requires of the work it records."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            out = self.step(*inputs)
        torch.cuda.current_stream().wait_stream(side)
        return out

    def _capture(self, *inputs):
        """Record one step without running it; the replay that follows runs it."""
        self.static_inputs = [tensor.clone() for tensor in inputs]
        self.graph = torch.cuda.CUDAGraph()
        self.graph.register_generator_state(self.rng)  # each replay draws fresh noise from it
        # thread_local: other runs of the app train on the same GPU from their own threads meanwhile
        with torch.cuda.graph(self.graph, capture_error_mode="thread_local"):
            self.static_out = self.step(*self.static_inputs)

"""Where a training step's time goes on a CUDA GPU: the trainer's replayed step for the 64×64×3 DCGAN, timed and
profiled kernel by kernel.

It answers how close to the bf16 peak the step can get at a batch size: the convolution kernels alone, at the
speed cuDNN runs them for these shapes, set a ceiling no removal of the other kernels could pass.

    python -m benchmarks.gpu_step_profile --batch-size 64
"""
import argparse
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from ganlib.bench import CASES, peak_flops, step_flops_per_image
from ganlib.config import preset
from ganlib.gan import GAN

CONVOLUTION_WORDS = ("conv", "xmma", "cutlass", "implicit_gemm", "dgrad", "wgrad", "fprop")


def time_steps(gan, real, steps):
    """Milliseconds per step, replayed after a warm-up (the first steps capture the CUDA graph)."""
    for _ in range(10):
        gan.train_step(real)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        gan.train_step(real)
    torch.cuda.synchronize()
    return (time.perf_counter() - started) / steps * 1e3


def kernel_times(gan, real, steps=20):
    """{kernel name: (calls per step, microseconds per step)} over `steps` profiled steps."""
    with profile(activities=[ProfilerActivity.CUDA]) as profiler:
        for _ in range(steps):
            gan.train_step(real)
        torch.cuda.synchronize()
    rows = {}
    for event in profiler.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            calls, micros = rows.get(event.name, (0, 0.0))
            rows[event.name] = (calls + 1 / steps, micros + event.device_time / steps)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--top", type=int, default=12, help="how many of the longest kernels to list")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("error: this profile needs a CUDA GPU")
    family, overrides = CASES["dcgan64"]
    model_cfg, train_cfg = preset(family, batch_size=args.batch_size, device="cuda", **overrides)
    step_flops = step_flops_per_image(model_cfg)[1] * args.batch_size
    peak = peak_flops(torch.device("cuda"), torch.bfloat16)
    torch.backends.cudnn.benchmark = True
    gan = GAN(model_cfg, train_cfg, torch.device("cuda"))  # the defaults: bf16, channels_last, one CUDA graph
    real = torch.rand(args.batch_size, 3, 64, 64, device="cuda") * 2 - 1

    step_ms = time_steps(gan, real, args.steps)
    rows = kernel_times(gan, real)
    kernel_ms = sum(micros for _, micros in rows.values()) / 1e3
    convolution_ms = sum(micros for name, (_, micros) in rows.items()
                         if any(word in name.lower() for word in CONVOLUTION_WORDS)) / 1e3

    def share(ms):
        return step_flops / (ms / 1e3) / peak

    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}; "
          f"bf16 peak {peak / 1e12:,.0f} TFLOP/s; DCGAN 64×64×3, batch {args.batch_size}: "
          f"{step_flops / 1e9:,.0f} GFLOP per step")
    print(f"step        {step_ms:7.3f} ms  {args.batch_size / step_ms * 1e3:9,.0f} img/s  {share(step_ms):6.1%} of peak")
    print(f"kernels     {kernel_ms:7.3f} ms  ({sum(calls for calls, _ in rows.values()):.0f} per step)")
    print(f"convolutions{convolution_ms:7.3f} ms  a step of nothing else would reach {share(convolution_ms):.1%} of peak")
    for name, (calls, micros) in sorted(rows.items(), key=lambda row: -row[1][1])[:args.top]:
        print(f"  {micros:8.1f} µs  ×{calls:4.1f}  {name[:100]}")


if __name__ == "__main__":
    main()

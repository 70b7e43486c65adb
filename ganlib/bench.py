"""`python -m ganlib bench`: the project's trainer against the loop everyone starts from, side by side.

Same device, same networks, same images, same batch size. The reference loop is written as the PyTorch
DCGAN example and the original notebooks write it: an ImageFolder with per-image transforms behind a
DataLoader with worker processes, BCE on sigmoid probabilities, D's weight gradients computed in the G
step, and a host sync for every logged number every step. Achieved FLOP/s are counted from layer shapes
and set against the device's measured peak (a large matrix product).
"""
import itertools
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from .config import preset
from .datasets import load_dataset, mnist_sample_arrays
from .errors import ConfigError, GanStudioError
from .device import autocast_dtype, describe_device, resolve_device
from .models import build_models, calibrate_batchnorm
from .quality import QualityMeter
from .events import Failed, Metrics
from .trainer import Trainer

# name → (preset, overrides): the notebooks' MLP GAN, the recommended DCGAN, and the DCGAN example's 64×64×3,
# without latent codes, so both loops train the same networks.
CASES = {
    "mlp28": ("mlp", {}),
    "dcgan28": ("dcgan", {"latent_codes": 0}),
    "dcgan64": ("dcgan", {"image_size": 64, "channels": 3, "g_width": 64, "d_width": 64, "latent_codes": 0}),
}


def lever_settings(device):
    """(label, TrainConfig fields) for the trainer with each speed lever added in turn, plainest first."""
    plain = {"precision": "fp32", "channels_last": False, "cuda_graph": False}
    settings = [("fp32", plain), ("fp32 + channels_last", {**plain, "channels_last": True})]
    if device.type == "cuda":
        bf16 = {**plain, "precision": "bf16"}
        settings += [("bf16", bf16), ("bf16 + channels_last", {**bf16, "channels_last": True}),
                     ("bf16 + CUDA graph", {**bf16, "cuda_graph": True}),
                     ("bf16 + channels_last + CUDA graph", {**bf16, "channels_last": True, "cuda_graph": True})]
    return settings


def write_digit_folder(folder, count=5000):
    """The shipped MNIST sample as PNG files in folder/digits/, the layout ImageFolder reads; returns folder."""
    target = Path(folder) / "digits"
    target.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(mnist_sample_arrays()[0][:count, 0].numpy()):
        Image.fromarray(image).save(target / f"{index:05d}.png")
    return Path(folder)


# --- counting work -----------------------------------------------------------------------------------

def forward_flops(module, example):
    """FLOPs (2 per multiply-add) of one forward pass through the Linear and convolution layers."""
    macs = 0

    def count(layer, inputs, output):
        nonlocal macs
        if isinstance(layer, nn.Linear):
            macs += output.numel() * layer.in_features
        elif isinstance(layer, nn.ConvTranspose2d):  # every input pixel scatters into a k×k patch of each output
            macs += inputs[0].numel() * layer.out_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, nn.Conv2d):
            macs += output.numel() * layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]

    layers = [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    hooks = [layer.register_forward_hook(count) for layer in layers]
    try:
        with torch.no_grad():
            module.eval()(example)
    finally:
        for hook in hooks:
            hook.remove()
    return 2 * macs


def step_flops_per_image(model_cfg):
    """(reference, trainer) FLOPs per image of one training step; a backward pass costs two forwards.

    Reference: G fwd+bwd, D fwd+bwd on real and on fake, then D fwd+bwd again for G's loss = 3G + 9D.
    Trainer: the same, except the G step skips D's weight gradients (only its input gradient) = 3G + 8D.
    """
    generator, discriminator = build_models(model_cfg)
    z = torch.zeros(2, model_cfg.latent_dim)
    g = forward_flops(generator, z) / 2
    d = forward_flops(discriminator, generator(z)) / 2
    return 3 * g + 9 * d, 3 * g + 8 * d


def peak_flops(device, dtype, size=None, repeats=5):
    """FLOP/s of a large square matrix product on `device` in `dtype`: the practical ceiling."""
    size = size or (8192 if device.type == "cuda" else 2048)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b  # warm up
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize(device)
    return 2 * size ** 3 * repeats / (time.perf_counter() - started)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- the two loops -----------------------------------------------------------------------------------

def reference_loop(model_cfg, train_cfg, folder, steps, warmup, device):
    """(img/s over `steps` steps after `warmup`, generator): the DCGAN example's loop, as it writes it."""
    import torchvision.datasets as dset
    import torchvision.transforms as transforms

    size, channels = model_cfg.image_size, model_cfg.channels
    dataset = dset.ImageFolder(str(folder), transform=transforms.Compose(
        ([transforms.Grayscale(1)] if channels == 1 else []) +
        [transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor(),
         transforms.Normalize((0.5,) * channels, (0.5,) * channels)]))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=train_cfg.batch_size, shuffle=True, num_workers=2,
                                             drop_last=True)
    torch.manual_seed(train_cfg.seed)
    netG, netD = (network.to(device) for network in build_models(model_cfg))
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=train_cfg.lr_d, betas=(train_cfg.beta1, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=train_cfg.lr_g, betas=(train_cfg.beta1, 0.999))
    log = []
    batches = itertools.chain.from_iterable(itertools.repeat(dataloader))
    for i, (data, _) in enumerate(itertools.islice(batches, warmup + steps)):
        if i == warmup:
            synchronize(device)
            started = time.perf_counter()
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real = data.to(device)
        label = torch.full((real.size(0),), 1.0, device=device)
        output = torch.sigmoid(netD(real))
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(real.size(0), model_cfg.latent_dim, device=device)
        fake = netG(noise)
        label.fill_(0.0)
        output = torch.sigmoid(netD(fake.detach()))
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(1.0)
        output = torch.sigmoid(netD(fake))
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        log.append((errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
    synchronize(device)
    return steps * train_cfg.batch_size / (time.perf_counter() - started), netG


def trainer_loop(model_cfg, train_cfg, data, steps, warmup):
    """(img/s over `steps` steps after `warmup`, the generator grids show): the project's Trainer."""
    marks = {}

    def on_event(event):  # the clock starts at the first report after the warm-up (epoch ends report too)
        if isinstance(event, Metrics) and event.step >= warmup:
            marks.setdefault("warm", (event.step, event.elapsed))
        if isinstance(event, Failed):
            marks["failed"] = event.message

    trainer = Trainer(model_cfg, replace(train_cfg, max_steps=warmup + steps), data=data, on_event=on_event,
                      report_every=warmup)
    trainer.run()  # with no run folder it writes nothing; its last report syncs the device
    if "failed" in marks:
        raise GanStudioError(f"the trainer failed: {marks['failed']}")
    warm_step, warm_elapsed = marks["warm"]
    if warm_step >= trainer.step:
        raise ConfigError(f"{steps} steps are too few to time after the warm-up: ask for more --steps")
    return (trainer.step - warm_step) * train_cfg.batch_size / (trainer.elapsed - warm_elapsed), trainer.gan.sample_generator


def quality_of(generator, meter, model_cfg, device):
    """The quality meter's figures for a generator, sampled in eval mode with calibrated BatchNorm."""
    calibrate_batchnorm(generator, model_cfg.latent_dim, device, torch.Generator(device).manual_seed(0))
    figures = meter.score_generator(generator.eval(), model_cfg)
    return {"frechet": round(figures.frechet, 2), "classes_covered": figures.classes_covered,
            "confidence": round(figures.confidence, 3)}


# --- the benchmark -----------------------------------------------------------------------------------

def run_bench(case_names, *, steps=20, warmup=3, batch_size=64, device="auto", quality=False, levers=False, log=print):
    """Time both loops for each case (and, with `levers`, the trainer with each speed lever in turn); returns a
    JSON-ready dict and logs a line per finding."""
    if warmup < 1 or steps < 1 or batch_size < 1:
        raise ConfigError("--steps, --warmup and --batch-size must be at least 1")
    device = resolve_device(device)
    peaks = {"fp32": peak_flops(device, torch.float32)}
    if autocast_dtype(device, "auto") == torch.bfloat16:
        peaks["bf16"] = peak_flops(device, torch.bfloat16)
    log(f"{describe_device(device)}: matrix-product peak " +
        ", ".join(f"{name} {flops / 1e9:,.0f} GFLOP/s" for name, flops in peaks.items()))
    results = {"device": device.type, "hardware": describe_device(device), "machine": platform.machine(),
               "torch": torch.__version__, "batch_size": batch_size, "steps": steps, "warmup": warmup,
               "peak_gflops": {name: round(flops / 1e9, 1) for name, flops in peaks.items()}, "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_digit_folder(tmp)
        for name in case_names:
            family, overrides = CASES[name]
            model_cfg, train_cfg = preset(family, dataset="folder", data_dir=str(folder), batch_size=batch_size,
                                          device=device.type, **overrides)
            data = load_dataset("folder", model_cfg.image_size, model_cfg.channels, str(folder)).to(device)
            reference_flops, trainer_flops = step_flops_per_image(model_cfg)
            reference_speed, reference_generator = reference_loop(model_cfg, train_cfg, folder, steps, warmup, device)
            trainer_speed, trainer_generator = trainer_loop(model_cfg, train_cfg, data, steps, warmup)
            trainer_precision = "bf16" if autocast_dtype(device, train_cfg.precision) == torch.bfloat16 else "fp32"
            case = {
                "case": name, "model": model_cfg.family, "image": f"{model_cfg.image_size}x{model_cfg.image_size}x"
                f"{model_cfg.channels}", "widths": [model_cfg.g_width, model_cfg.d_width],
                "reference_img_s": round(reference_speed, 1), "trainer_img_s": round(trainer_speed, 1),
                "speedup": round(trainer_speed / reference_speed, 2),
                "gflop_per_image": {"reference": round(reference_flops / 1e9, 4), "trainer": round(trainer_flops / 1e9, 4)},
                "reference_gflops": round(reference_speed * reference_flops / 1e9, 1),
                "trainer_gflops": round(trainer_speed * trainer_flops / 1e9, 1),
                "trainer_precision": trainer_precision,
            }
            case["reference_utilization"] = round(case["reference_gflops"] / results["peak_gflops"]["fp32"], 3)
            case["trainer_utilization"] = round(case["trainer_gflops"] / results["peak_gflops"][trainer_precision], 3)
            if quality:
                meter = QualityMeter.for_data("mnist-sample", data, device=device)
                case["reference_quality"] = quality_of(reference_generator, meter, model_cfg, device)
                case["trainer_quality"] = quality_of(trainer_generator, meter, model_cfg, device)
            log(format_case(case))
            if levers:
                case["levers"] = time_levers(model_cfg, train_cfg, data, steps, warmup, device, trainer_flops, peaks, log)
            results["cases"].append(case)
    return results


def time_levers(model_cfg, train_cfg, data, steps, warmup, device, flops_per_image, peaks, log):
    """The trainer's img/s with each lever of lever_settings(), against the peak of the precision it uses."""
    rows = []
    for label, fields in lever_settings(device):
        try:
            speed, _ = trainer_loop(model_cfg, replace(train_cfg, **fields), data, steps, warmup)
        except GanStudioError as error:  # one lever failing on this device is a finding, not the end
            rows.append({"settings": label, "failed": str(error)})
            log(f"  {label:44} {error}")
            continue
        peak = peaks.get(fields["precision"], peaks["fp32"])
        rows.append({"settings": label, "img_s": round(speed, 1), "gflops": round(speed * flops_per_image / 1e9, 1),
                     "utilization": round(speed * flops_per_image / peak, 3)})
        log(f"  {label:44} {speed:10,.1f} img/s  {rows[-1]['gflops']:8,.1f} GFLOP/s  "
            f"{rows[-1]['utilization']:.1%} of {fields['precision']} peak")
    return rows


def format_case(case):
    line = (f"{case['case']:8} {case['image']:9} reference {case['reference_img_s']:8,.1f} img/s "
            f"({case['reference_gflops']:6,.1f} GFLOP/s, {case['reference_utilization']:.0%} of fp32 peak) · "
            f"trainer {case['trainer_img_s']:8,.1f} img/s ({case['trainer_gflops']:6,.1f} GFLOP/s, "
            f"{case['trainer_utilization']:.0%} of {case['trainer_precision']} peak) · {case['speedup']:.2f}×")
    if "trainer_quality" in case:
        line += (f" · Fréchet after the same steps: reference {case['reference_quality']['frechet']}, "
                 f"trainer {case['trainer_quality']['frechet']}")
    return line

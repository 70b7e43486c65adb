"""Differentiable augmentation for D (DiffAugment, Zhao et al. 2020): the same random colour change, translation and
cutout, applied to real and generated images alike before D sees them, so a small dataset (5,000 digits) does not let
D memorise its real images. Every op is differentiable in the images, so G still learns through it.

Pure tensor code: `generator` draws the offsets, on the images' device (a replayed CUDA graph reuses it).
"""
import torch

POLICIES = ("color", "translation", "cutout")


def check_policy(policy):
    """Names in a comma-separated policy that are not augmentations (for config validation)."""
    return [name for name in policy.split(",") if name and name not in POLICIES]


def diff_augment(images, policy, generator=None):
    """images [B, C, H, W] → the same shape, each image shifted and/or cut out at random per `policy`."""
    for name in policy.split(","):
        if name == "color":
            images = color(images, generator)
        elif name == "translation":
            images = translate(images, generator)
        elif name == "cutout":
            images = cutout(images, generator)
    return images


def color(images, generator):
    """DiffAugment's colour op on [-1, 1] images: per image, brightness shifted by up to ±0.5, saturation scaled
    by 0 to 2 and contrast by 0.5 to 1.5 (the paper's ranges on [0, 1] images, doubled for [-1, 1])."""
    batch = images.shape[0]
    draw = lambda low, high: low + (high - low) * torch.rand(batch, 1, 1, 1, device=images.device,
                                                            generator=generator, dtype=images.dtype)
    images = images + draw(-1.0, 1.0)
    grey = images.mean(1, keepdim=True)
    images = grey + (images - grey) * draw(0.0, 2.0)
    mean = images.mean((1, 2, 3), keepdim=True)
    return mean + (images - mean) * draw(0.5, 1.5)


def translate(images, generator, ratio=0.125):
    """Shift each image by up to ratio × its size in x and y, filling with zeros; a gather, so gradients flow."""
    batch, _, height, width = images.shape
    shift_y, shift_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = torch.randint(-shift_y, shift_y + 1, (batch, 1, 1), device=images.device, generator=generator)
    dx = torch.randint(-shift_x, shift_x + 1, (batch, 1, 1), device=images.device, generator=generator)
    rows = (torch.arange(height, device=images.device).view(1, height, 1) + dy + 1).clamp(0, height + 1)
    cols = (torch.arange(width, device=images.device).view(1, 1, width) + dx + 1).clamp(0, width + 1)
    padded = torch.nn.functional.pad(images, [1, 1, 1, 1])  # the one-pixel border is the fill
    index = torch.arange(batch, device=images.device).view(batch, 1, 1)
    return padded.permute(0, 2, 3, 1)[index, rows, cols].permute(0, 3, 1, 2)


def cutout(images, generator, ratio=0.5):
    """Zero a square of ratio × the size centred at a random pixel of each image (it may hang over the edge)."""
    batch, _, height, width = images.shape
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    top = torch.randint(0, height, (batch, 1, 1), device=images.device, generator=generator) - size_y // 2
    left = torch.randint(0, width, (batch, 1, 1), device=images.device, generator=generator) - size_x // 2
    rows = torch.arange(height, device=images.device).view(1, height, 1)
    cols = torch.arange(width, device=images.device).view(1, 1, width)
    inside = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return images * (~inside).unsqueeze(1).to(images.dtype)

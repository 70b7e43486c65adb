"""Turning tensors into pictures people look at: image grids (torchvision), 2D point clouds, PNGs and GIFs (Pillow)."""
import math

import torch
from PIL import Image, ImageDraw
from torchvision.utils import make_grid


def to_pil_grid(images, nrow=None, padding=2, scale=1):
    """Float images [N, C, H, W] in [-1, 1] → one RGB grid picture (nrow defaults to a square).

    `scale` enlarges by whole pixels (nearest neighbour), so a 28-px digit stays sharp on a big screen
    instead of being smoothed by the browser.
    """
    nrow = nrow or math.ceil(math.sqrt(len(images)))
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, padding=padding, normalize=True, value_range=(-1, 1))
    picture = Image.fromarray(grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy())
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    return picture


def save_gif(frames, path, frame_ms=100, loop=0):
    """Write PIL frames as an animated GIF (to a path or a binary file) that loops forever by default."""
    first, *rest = [frame.convert("P", palette=Image.Palette.ADAPTIVE) for frame in frames]
    first.save(path, format="GIF", save_all=True, append_images=rest, duration=frame_ms, loop=loop, disposal=2)
    return path


def scatter_picture(clouds, bound, size=480):
    """Draw [(points [N, 2], RGB colour)] over the square [−bound, bound]², later clouds on top: the 2D
    Playground's real and generated points as a PNG for the command line."""
    picture = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(picture)
    for points, colour in clouds:
        pixels = ((points.detach().float().cpu() / bound + 1) / 2 * (size - 1)).tolist()
        for x, y in pixels:
            y = size - 1 - y  # y grows upwards on a chart, downwards in a picture
            draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)
    return picture

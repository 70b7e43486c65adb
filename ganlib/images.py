"""Turning tensors into pictures people look at: image grids, 2D point clouds, PNGs and GIFs (Pillow)."""
import math

import torch
from PIL import Image, ImageDraw


def to_pil_grid(images, nrow=None, padding=2, scale=1):
    """Float images [N, C, H, W] in [-1, 1] → one RGB grid picture (nrow defaults to a square).

    `scale` enlarges by whole pixels (nearest neighbour), so a 28-px digit stays sharp on a big screen
    instead of being smoothed by the browser.
    """
    nrow = nrow or math.ceil(math.sqrt(len(images)))
    grid = tile(images.detach().float().cpu().clamp(-1, 1).add(1).div(2), nrow, padding)
    picture = Image.fromarray(grid.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy())
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    return picture


def tile(images, nrow, padding):
    """Images [N, C, H, W] in [0, 1] → one RGB image [3, H', W'], nrow to a row on a black frame: the layout of
    torchvision.utils.make_grid, written out because importing torchvision costs a short run 1.8 s (its models
    import torch._dynamo), far more than the tiling itself."""
    images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
    if len(images) == 1:
        return images[0]
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    grid = images.new_zeros(channels, rows * (height + padding) + padding, columns * (width + padding) + padding)
    for index, image in enumerate(images):
        top, left = (padding + (height + padding) * (index // columns), padding + (width + padding) * (index % columns))
        grid[:, top:top + height, left:left + width] = image
    return grid


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

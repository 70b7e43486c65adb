"""Nearest training images of generated ones: does the GAN invent new images or replay what it saw?"""
import torch

from .datasets import to_unit_range


@torch.no_grad()
def nearest_images(images, training_images, k=8, chunk=4096):
    """(distances [N, k], indices [N, k]) of each image's k nearest training images by pixel distance.

    images: float [N, C, H, W] in [-1, 1]; training_images: uint8 [M, C, H, W] at the same size. Distances
    are root-mean-square over pixels in the [-1, 1] range, so 0 is a copy and ~1 is unrelated.
    """
    if training_images.shape[1:] != images.shape[1:]:
        raise ValueError(f"images {tuple(images.shape[1:])} and training images "
                         f"{tuple(training_images.shape[1:])} differ in shape")
    query = images.flatten(1).float().cpu()
    distances = torch.cat([torch.cdist(query, to_unit_range(block.cpu()).flatten(1))
                           for block in training_images.split(chunk)], dim=1)
    distances, indices = distances.topk(min(k, distances.shape[1]), dim=1, largest=False)
    return distances / query.shape[1] ** 0.5, indices


def typical_real_distance(training_images, n=256, seed=0):
    """Median distance from a real image to its nearest *other* real image: the yardstick that tells a
    copy (far below it) from a new drawing (near or above it)."""
    picks = torch.randperm(len(training_images), generator=torch.Generator().manual_seed(seed))[:n]
    distances, _ = nearest_images(to_unit_range(training_images[picks]), training_images, k=2)
    return distances[:, 1].median().item()

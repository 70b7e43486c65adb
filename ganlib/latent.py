"""Latent-space math (pure tensor code) and rendering a generator along a path into frames and a GIF."""
import torch

from .errors import GanStudioError
from .images import save_gif, to_pil_grid


def sample_z(n, latent_dim, *, seed=None, truncation=None, device="cpu"):
    """[n, latent_dim] standard normal latents; with `truncation` t, redrawn outside [-t, t] (trades
    diversity for quality). A seed makes the batch reproducible on any device."""
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    z = torch.empty(n, latent_dim)
    if truncation:
        torch.nn.init.trunc_normal_(z, 0.0, 1.0, -truncation, truncation, generator=rng)
    else:
        z.normal_(generator=rng)
    return z.to(device)


def with_class(z, index, classes):
    """z [N, D] asking for class (or latent code) `index` of `classes`: a generator with codes reads only which of
    the first `classes` entries is largest, so that one is set to 1 and the others to 0. The rest of z, the style,
    stays as it was."""
    return with_codes_among(z, [index], classes)


def with_codes_among(z, allowed, codes):
    """z [N, D] asking each latent for one of the codes in `allowed` (of `codes`): the one whose entry is largest
    among them, so each is equally likely and a walk between two such latents passes through those codes alone. The
    rest of z stays as it was."""
    allowed = torch.as_tensor(list(allowed), dtype=torch.long, device=z.device)
    chosen = allowed[z[:, allowed].argmax(1)]
    z = z.clone()
    z[:, :codes] = 0.0
    z[torch.arange(len(z), device=z.device), chosen] = 1.0
    return z


def latents_for_codes(codes, per_code, latent_dim, *, seed=0):
    """[codes × per_code, latent_dim]: the same per_code latents asking for each code (or class) in turn."""
    z = sample_z(per_code, latent_dim, seed=seed)
    return torch.cat([with_class(z, code, codes) for code in range(codes)])


def lerp(a, b, t):
    """Straight line from a [D] to b [D] at fractions t [N] → [N, D]."""
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device).reshape(-1, 1)
    return a + (b - a) * t


def slerp(a, b, t):
    """Great-circle path from a to b at fractions t [N] → [N, D], with the norm interpolated linearly.

    Gaussian latents live near a sphere of radius √D; a straight line cuts through the low-norm interior the
    generator rarely saw in training, while slerp stays at typical norms.
    """
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device).reshape(-1, 1)
    a_norm, b_norm = a.norm(), b.norm()
    cos = torch.dot(a / a_norm, b / b_norm).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4:  # (anti)parallel-safe fallback: the arc is a line here
        return lerp(a, b, t.view(-1))
    direction = (torch.sin((1 - t) * omega) * a / a_norm + torch.sin(t * omega) * b / b_norm) / torch.sin(omega)
    return direction * (a_norm + (b_norm - a_norm) * t)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp}


def latent_path(keypoints, steps, method="slerp", closed=False):
    """`steps` latents [steps, D] through keypoints [K, D] in order.

    Open paths start at the first keypoint and end at the last; closed paths return towards the first and
    stop one step short, so the frames loop seamlessly as a GIF.
    """
    interpolate = INTERPOLATIONS[method]
    keys = list(keypoints) + ([keypoints[0]] if closed else [])
    segments = len(keys) - 1
    if segments < 1 or steps < 2:
        raise ValueError("a path needs at least two keypoints (or a closed loop) and two steps")
    positions = (torch.arange(steps, dtype=torch.float64) * segments / steps if closed
                 else torch.linspace(0, segments, steps, dtype=torch.float64))
    frames = []
    for position in positions.tolist():
        segment = min(int(position), segments - 1)
        frames.append(interpolate(keys[segment], keys[segment + 1], [position - segment])[0])
    return torch.stack(frames)


@torch.no_grad()
def render(generator, latents, batch_size=256):
    """Images [N, C, H, W] in [-1, 1] for latents [N, D], without changing the generator."""
    device = next(generator.parameters()).device
    return torch.cat([generator(chunk.to(device)).float().cpu() for chunk in latents.split(batch_size)])


def render_gif(generator, latents, path, frame_ms=80, scale=1):
    """Render a latent path as an animated GIF of single frames (to a path or binary file); returns the frames."""
    frames = [to_pil_grid(image[None], nrow=1, padding=0, scale=scale) for image in render(generator, latents)]
    save_gif(frames, path, frame_ms=frame_ms)
    return frames


@torch.no_grad()
def principal_directions(generator, latent_dim, count=4, samples=2048, seed=0):
    """(directions [count, latent_dim] of unit norm, share of feature variance each explains [count]).

    GANSpace's recipe: the principal axes of the generator's first-layer features over many latents say
    where its outputs vary most; regressing z onto the coordinates along those axes turns each axis into
    a latent direction a slider can move along. Signs are fixed so the result is reproducible.
    """
    device = next(generator.parameters()).device
    z = sample_z(samples, latent_dim, seed=seed, device=device)
    features = generator.features(z).float()
    centered = features - features.mean(0)
    if not torch.isfinite(centered).all() or centered.abs().amax() < 1e-12:
        raise GanStudioError("this generator's features do not vary with its latent (or are not finite numbers), "
                             "so it has no main directions to show")
    with torch.random.fork_rng(devices=[]):  # the randomized SVD draws from the global generator
        torch.manual_seed(seed)
        _, singular_values, axes = torch.svd_lowrank(centered, q=count + 8, niter=4)  # axes: [F, count + 8]
    coordinates = centered @ axes[:, :count]  # [N, count]
    directions = torch.linalg.lstsq(coordinates, z).solution  # [count, latent_dim]
    directions = directions / directions.norm(dim=1, keepdim=True).clamp_min(1e-12)
    largest = directions.abs().argmax(dim=1, keepdim=True)
    directions = directions * directions.gather(1, largest).sign()
    explained = singular_values[:count] ** 2 / centered.pow(2).sum()
    return directions.cpu(), explained.cpu()


def move_along(z, directions, amounts):
    """z [D] moved by amounts [K] (in standard deviations of the latent) along unit directions [K, D]."""
    return z + torch.as_tensor(amounts, dtype=z.dtype) @ directions

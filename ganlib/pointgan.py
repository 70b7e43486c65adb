"""The 2D GAN: small enough to step by hand — one D update, one G update — and to look inside.

The Playground page steps it from a fragment; `python -m ganlib train --model mlp2d` runs it to a budget.
Both use the loss registry of image runs.
"""
import copy
import functools
import math
import threading
import time
from dataclasses import replace

import torch

from .checkpoint import save_checkpoint
from .device import resolve_device
from .errors import Diverged
from .losses import get_loss, gradient_penalty, r1_penalty
from .models import average_weight, build_models, update_average
from .points import METRIC_SAMPLES, divergences, mode_coverage

HISTORY_LIMIT = 50_000  # updates kept for the charts of a long Playground session


def point_noise(n, model_cfg, generator=None):
    """[n, latent_dim] noise of the model's distribution: N(0, 1), or uniform on [-1, 1]."""
    if model_cfg.noise == "uniform":
        return torch.rand(n, model_cfg.latent_dim, generator=generator) * 2 - 1
    return torch.randn(n, model_cfg.latent_dim, generator=generator)


def make_optimizer(train_cfg, parameters, lr):
    if train_cfg.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr, betas=(train_cfg.beta1, train_cfg.beta2))


def one_caller_at_a_time(method):
    """Hold the game's lock through `method`. A Streamlit click starts the new script run while the run it
    replaces may still be training this game; a drawing that races an optimizer step fails in autograd
    ("modified by an inplace operation") about one time in seven."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    return locked


class PointGAN:
    def __init__(self, model_cfg, train_cfg, data):
        self.data = data
        self.model_cfg = replace(model_cfg, data_scale=round(data.scale, 6)).validate()
        self.cfg = train_cfg.validate()
        resolve_device(train_cfg.device)  # sets the CPU threads, as image runs do
        torch.manual_seed(train_cfg.seed)
        self.generator, self.discriminator = build_models(self.model_cfg)
        # Exports and `sample` use a moving average of G; the Playground shows G itself, so a G step shows.
        self.average = copy.deepcopy(self.generator).requires_grad_(False) if train_cfg.ema_decay else None
        self.loss = get_loss(train_cfg.loss)
        self.opt_g = make_optimizer(train_cfg, self.generator.parameters(), train_cfg.lr_g)
        self.opt_d = make_optimizer(train_cfg, self.discriminator.parameters(), train_cfg.lr_d)
        self.rng = torch.Generator().manual_seed(train_cfg.seed)
        self.step = 0  # G updates
        self.updates = 0  # D and G updates
        self.elapsed = 0.0
        self.latest = {"loss_d": math.nan, "loss_g": math.nan, "d_real": math.nan, "d_fake": math.nan}
        self.history = []  # one row per update: what the loss and score charts draw
        self.lock = threading.RLock()  # re-entrant: a step of the game takes D and G steps

    @one_caller_at_a_time
    def retune(self, train_cfg):
        """Take new learning rates, betas, loss, D steps, R1 weight or batch size mid-game, keeping what both
        networks have learned (a new optimizer, data or seed needs a new game)."""
        self.cfg = train_cfg.validate()
        self.loss = get_loss(train_cfg.loss)
        for optimizer, lr in ((self.opt_g, train_cfg.lr_g), (self.opt_d, train_cfg.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (train_cfg.beta1, train_cfg.beta2)

    def noise(self, n, generator=None):
        return point_noise(n, self.model_cfg, self.rng if generator is None else generator)

    # --- the game, one side at a time ---------------------------------------------------------------

    @one_caller_at_a_time
    def d_step(self):
        """(1) Update D: maximize log D(x) + log(1 − D(G(z))) (or the chosen loss), plus R1 on real points."""
        cfg, D = self.cfg, self.discriminator
        real = self.data.sample(cfg.batch_size, self.rng).requires_grad_(cfg.r1_gamma > 0)
        with torch.no_grad():
            fake = self.generator(self.noise(cfg.batch_size))
        real_logits, fake_logits = D(real), D(fake)
        loss_d = self.loss.d_loss(real_logits, fake_logits)
        if cfg.r1_gamma:  # measured in the networks' unit square, whatever the data's size
            loss_d = loss_d + cfg.r1_gamma / 2 * self.model_cfg.data_scale ** 2 * r1_penalty(real_logits, real)
        if self.loss.gradient_penalty:
            alpha = torch.rand(cfg.batch_size, 1, generator=self.rng)
            loss_d = loss_d + self.loss.gradient_penalty * gradient_penalty(D, real.detach(), fake, alpha)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return self._record(loss_d=loss_d.item(), d_real=self.loss.score(real_logits.detach()).mean().item(),
                            d_fake=self.loss.score(fake_logits.detach()).mean().item())

    @one_caller_at_a_time
    def g_step(self):
        """(2) Update G: make D call its points real (D's weights are left alone)."""
        self.discriminator.requires_grad_(False)
        loss_g = self.loss.g_loss(self.discriminator(self.generator(self.noise(self.cfg.batch_size))))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.discriminator.requires_grad_(True)
        self.step += 1
        if self.average is not None:
            update_average(self.average, self.generator, average_weight(self.cfg.ema_decay, self.step))
        return self._record(loss_g=loss_g.item())

    @one_caller_at_a_time
    def train_step(self):
        """One step of the game: d_steps updates of D, then one of G."""
        for _ in range(self.cfg.d_steps):
            self.d_step()
        return self.g_step()

    def _record(self, **values):
        if not all(math.isfinite(v) for v in values.values()):
            raise Diverged(f"training diverged at step {self.step} (a loss is NaN or infinite) — lower the "
                           "learning rates or reset")
        self.updates += 1
        self.latest.update(values)
        self.history.append({"update": self.updates, "step": self.step, **self.latest})
        del self.history[:-HISTORY_LIMIT]
        return dict(self.history[-1])

    def train(self, on_progress=None, report_every=200):
        """Train to the budget (max_steps G updates or max_seconds), learning rates falling linearly to 0."""
        cfg = self.cfg
        base_lrs = [(group, group["lr"]) for opt in (self.opt_g, self.opt_d) for group in opt.param_groups]
        start = time.perf_counter() - self.elapsed
        while (fraction := self.budget_used()) < 1:
            if cfg.lr_decay:
                for group, lr in base_lrs:
                    group["lr"] = lr * (1 - fraction)
            self.train_step()
            self.elapsed = time.perf_counter() - start
            if on_progress and self.step % report_every == 0:
                on_progress(self)

    def budget_used(self):
        by_time = self.elapsed / self.cfg.max_seconds if self.cfg.max_seconds else 0.0
        return max(self.step / self.cfg.max_steps, by_time)

    # --- what the Playground draws ------------------------------------------------------------------

    @one_caller_at_a_time
    @torch.no_grad()
    def sample(self, n, seed=0, average=False):
        """[n, 2] generated points from a seeded noise batch (the moving average of G when asked and kept)."""
        generator = self.average if average and self.average is not None else self.generator
        return generator(self.noise(n, torch.Generator().manual_seed(seed)))

    @one_caller_at_a_time
    def metrics(self, average=False, seed=1):
        """Modes captured and high-quality share (mixtures), and KL / JS on a grid, over 2,500 samples."""
        fake = self.sample(METRIC_SAMPLES, seed, average)
        real = self.data.sample(METRIC_SAMPLES, torch.Generator().manual_seed(seed))
        kl, js = divergences(real, fake, self.data.scale)
        figures = {"kl": kl, "js": js}
        if self.data.has_modes:
            coverage = mode_coverage(fake, self.data)
            figures.update(modes=coverage.captured, of_modes=coverage.modes, high_quality=coverage.high_quality)
        return figures

    @one_caller_at_a_time
    @torch.no_grad()
    def discriminator_field(self, resolution=60):
        """(axis [R], D's score [R, R] over the plane, rows along y): the heatmap behind the points."""
        axis = torch.linspace(-self.data.scale, self.data.scale, resolution)
        ys, xs = torch.meshgrid(axis, axis, indexing="ij")
        logits = self.discriminator(torch.stack([xs.flatten(), ys.flatten()], dim=1))
        return axis, self.loss.score(logits).view(resolution, resolution)

    @one_caller_at_a_time
    @torch.no_grad()
    def warped_grid(self, lines=11, points_per_line=60):
        """G applied to a square grid in the first two noise dimensions (others 0): a list of [P, 2] polylines."""
        reach = 1.0 if self.model_cfg.noise == "uniform" else 2.0
        ticks, path = torch.linspace(-reach, reach, lines), torch.linspace(-reach, reach, points_per_line)
        if self.model_cfg.latent_dim == 1:
            return [self.generator(path[:, None])]  # one line of noise is all there is
        polylines = []
        for tick in ticks:
            for horizontal in (True, False):
                z = torch.zeros(points_per_line, self.model_cfg.latent_dim)
                z[:, 0], z[:, 1] = (path, tick) if horizontal else (tick, path)
                polylines.append(self.generator(z))
        return polylines

    @one_caller_at_a_time
    def generator_push(self, n=150, seed=2):
        """(fake points [n, 2], directions [n, 2]): where G's loss gradient moves each point (−∂L_G/∂x)."""
        with torch.no_grad():
            fake = self.generator(self.noise(n, torch.Generator().manual_seed(seed)))
        fake.requires_grad_(True)
        (grad,) = torch.autograd.grad(self.loss.g_loss(self.discriminator(fake)) * n, fake)
        return fake.detach(), -grad

    # --- saving -------------------------------------------------------------------------------------

    @one_caller_at_a_time
    def save(self, path, **card_extra):
        modules = {"generator": self.average if self.average is not None else self.generator,
                   "generator_train": self.generator, "discriminator": self.discriminator}
        return save_checkpoint(path, model_cfg=self.model_cfg, train_cfg=self.cfg, modules=modules,
                               progress={"step": self.step, "elapsed_seconds": round(self.elapsed, 1), **card_extra},
                               metrics=self.metrics(average=True))


def describe_point_metrics(figures):
    """'modes 8/8 · high quality 97.1% · KL 0.05 · JS 0.01' (the mode figures only for mixtures)."""
    modes = (f"modes {figures['modes']}/{figures['of_modes']} · high quality {figures['high_quality']:.1%} · "
             if "modes" in figures else "")
    return f"{modes}KL {figures['kl']:.2f} · JS {figures['js']:.3f}"

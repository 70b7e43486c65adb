"""The GAN itself: two networks, their optimizers, G's moving average, and one step of the adversarial game.

Nothing here knows about epochs, clocks, events or files: the trainer (trainer.py) runs the game around this,
and benchmarks/gpu_step_profile.py times this step alone.
"""
import copy
import threading
from contextlib import nullcontext

import torch
from torch.nn import functional as F

from .augment import diff_augment
from .checkpoint import load_state, optimizer_state_dict
from .cudagraph import GraphedStep
from .device import autocast_dtype
from .errors import CheckpointError, ConfigError
from .losses import get_loss, gradient_penalty, r1_penalty
from .memory import SAMPLING_CHUNK
from .models import asked_classes, average_weight, build_models, calibrate_batchnorm, chosen_codes, update_average

_init_lock = threading.Lock()  # weight init seeds the process-wide RNG: one GAN at a time


def match_weight_layout(optimizer):
    """Give restored moment tensors their weight's memory layout: the fused Adam kernel walks both in storage
    order, so a contiguous moment beside a channels_last weight would update the wrong elements."""
    for group in optimizer.param_groups:
        for weight in group["params"]:
            state = optimizer.state[weight]
            for key, value in state.items():
                if torch.is_tensor(value) and value.shape == weight.shape:
                    state[key] = torch.empty_like(weight).copy_(value)


class GAN:
    """G and D on `device` with their Adam optimizers; `step` counts G updates. Under torchrun (world_size > 1)
    the D and G steps go through DDP wrappers that average gradients over the ranks."""

    def __init__(self, model_cfg, train_cfg, device, rank=0, world_size=1):
        self.model_cfg, self.cfg, self.device = model_cfg, train_cfg, device
        self.loss = get_loss(train_cfg.loss)
        self.amp_dtype = autocast_dtype(device, train_cfg.precision)
        # NHWC convolutions: measured 16% faster for the 64×64×3 DCGAN on a 2-core CPU, and the layout tensor cores want
        self.channels_last = (train_cfg.channels_last and device.type in ("cpu", "cuda")
                              and model_cfg.family in ("dcgan", "fastgan"))
        self.graphed = train_cfg.cuda_graph and device.type == "cuda" and world_size == 1
        with _init_lock:
            torch.manual_seed(train_cfg.seed)
            self.generator, self.discriminator = build_models(model_cfg)
        memory_format = torch.channels_last if self.channels_last else torch.preserve_format
        self.generator.to(device, memory_format=memory_format)
        self.discriminator.to(device, memory_format=memory_format)
        # What grids and exports show: a moving average of G's weights, which smooths out the step-to-step
        # oscillation of the game and draws cleaner samples than the raw weights of the same step.
        self.sample_generator = copy.deepcopy(self.generator) if train_cfg.ema_decay else self.generator
        # What the D and G steps call: the networks themselves, or DDP wrappers that average gradients over ranks.
        self.train_generator, self.train_discriminator = self.generator, self.discriminator
        if world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.train_generator = DistributedDataParallel(self.generator)
            self.train_discriminator = DistributedDataParallel(self.discriminator)
        fused = device.type in ("cpu", "cuda")  # one kernel per step: 7× faster than per-tensor Adam on CPU
        betas = (train_cfg.beta1, train_cfg.beta2)
        # a replayed graph reads a learning rate that changes (lr_decay) from a tensor, not a Python float
        rate = (lambda lr: torch.tensor(lr, device=device)) if self.graphed and train_cfg.lr_decay else float
        self.opt_g = torch.optim.Adam(self.generator.parameters(), rate(train_cfg.lr_g), betas=betas, fused=fused,
                                      capturable=self.graphed)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), rate(train_cfg.lr_d), betas=betas, fused=fused,
                                      capturable=self.graphed)
        self.rng = torch.Generator(device).manual_seed(train_cfg.seed + rank)  # noise and GP mixing
        # The moving average's weight for this step, in a tensor so a replayed graph reads the current value.
        self.ema_weight = torch.zeros((), device=device)
        self._step_fn = GraphedStep(self._train_step, self.rng) if self.graphed else self._train_step
        self.step = 0
        self.lock = threading.Lock()  # a step, a draw and a save never overlap (draws come from other threads)
        self._calibrated_at_step = None

    @property
    def precision(self):
        return str(self.amp_dtype or torch.float32).replace("torch.", "")

    def autocast(self):
        if not self.amp_dtype:
            return nullcontext()
        # autocast's cache of bf16 weight copies must not outlive a graph capture
        return torch.autocast(self.device.type, self.amp_dtype, cache_enabled=not self.graphed)

    # --- one step of the game ----------------------------------------------------------------------

    def train_step(self, real, labels=None):
        """One D update (d_steps of them) and one G update on a batch of real images [B, C, H, W] (and their
        classes [B], for a conditional GAN); returns the step's metrics as one tensor on the device
        (METRIC_NAMES order)."""
        if self.sample_generator is not self.generator:
            self.ema_weight.fill_(average_weight(self.cfg.ema_decay, self.step))
        metrics = self._step_fn(real) if labels is None else self._step_fn(real, labels)
        if self.cfg.lazy_r1 and self.step % self.cfg.r1_every == 0:
            self._r1_step(real, labels)
        self.step += 1
        return metrics

    def _train_step(self, real, labels=None):
        G, D, loss = self.train_generator, self.train_discriminator, self.loss
        if self.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        r1_here = self.cfg.r1_gamma and not self.cfg.lazy_r1
        if r1_here:
            real = real.detach().requires_grad_(True)
        z = torch.randn(real.shape[0], self.model_cfg.latent_dim, device=self.device, generator=self.rng)
        with self.autocast():
            fake = G(z)  # [B, C, H, W]; reused by the G step below, as in the DCGAN example
        seen = self._augment  # what D sees: real and fake images alike, augmented or not

        # (1) Update D: maximize log D(x) + log(1 - D(G(z))) (or the chosen loss's D objective)
        for d_step in range(self.cfg.d_steps):
            if d_step:  # extra D steps see fresh fakes
                z_for_d = torch.randn_like(z, generator=self.rng)
                with torch.no_grad(), self.autocast():
                    fake_for_d = G(z_for_d)
            else:
                z_for_d, fake_for_d = z, fake.detach()
            with self.autocast():
                if self.discriminator.rebuilds:  # FastGAN's D also rebuilds the real images it sees
                    d_real, rebuild_loss = D(seen(real), labels, reconstruct=True)
                else:
                    d_real, rebuild_loss = D(seen(real), labels), 0.0
                d_real = d_real.float()
                d_fake, code_loss = self._judge(D, seen(fake_for_d), z_for_d)
                loss_d = loss.d_loss(d_real, d_fake) + code_loss + rebuild_loss
                if r1_here:
                    loss_d = loss_d + self.cfg.r1_gamma / 2 * r1_penalty(d_real, real)
                if loss.gradient_penalty:
                    loss_d = loss_d + loss.gradient_penalty * self._gradient_penalty(real.detach(), fake_for_d,
                                                                                     labels)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            grad_norm_d = torch.nn.utils.get_total_norm([p.grad for p in D.parameters()])
            self.opt_d.step()

        # (2) Update G: maximize log D(G(z)). D's weights need no gradients here, only its input does
        # (so this pass goes around the DDP wrapper, which would wait for D gradients).
        self.discriminator.requires_grad_(False)
        with self.autocast():
            g_fake, code_loss = self._judge(self.discriminator, seen(fake), z)
            loss_g = loss.g_loss(g_fake) + code_loss
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        grad_norm_g = torch.nn.utils.get_total_norm([p.grad for p in G.parameters()])
        self.opt_g.step()
        self.discriminator.requires_grad_(True)
        if self.sample_generator is not self.generator:
            update_average(self.sample_generator, self.generator, self.ema_weight)

        # Order matches METRIC_NAMES; stays on the device until the next report.
        return torch.stack([loss_d.detach(), loss_g.detach(), loss.score(d_real.detach()).mean(),
                            loss.score(d_fake.detach()).mean(), grad_norm_g, grad_norm_d]).float()

    def _r1_step(self, real, labels=None):
        """Lazy R1 (Karras et al. 2020, StyleGAN2): every r1_every-th step, a D update of its own on the penalty
        alone at r1_every times its weight, at the real images themselves (not augmented). It pulls D about as hard
        on average while the double backward runs once in r1_every steps (docs/quality.md: "The colour preset").
        Eager, also beside a captured step: that step keeps its shape, and the gradients it writes are zeroed in
        place, not dropped."""
        real = real.detach().requires_grad_(True)
        if self.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            logits = self.train_discriminator(real, labels).float()
        penalty = self.cfg.r1_gamma / 2 * self.cfg.r1_every * r1_penalty(logits, real)
        self.opt_d.zero_grad(set_to_none=False)
        penalty.backward()
        self.opt_d.step()

    def _judge(self, D, fake, z):
        """(D's logits for generated images, the latent-code loss). With latent codes (InfoGAN), D's second head
        guesses each image's code and both networks lower the cross-entropy of that guess: D learns to read the
        code and G to draw each code recognizably differently, which splits its drawings into distinct kinds
        (digits, for MNIST) with no labels. Without codes the second number is 0. A conditional D is told the
        class each image was drawn for."""
        codes, classes = self.model_cfg.latent_codes, self.model_cfg.classes
        if not codes:
            return D(fake, asked_classes(z, classes)).float(), 0.0
        logits, code_logits = D(fake, with_codes=True)
        return logits.float(), F.cross_entropy(code_logits.float(), chosen_codes(z, codes))

    def _augment(self, images):
        return diff_augment(images, self.cfg.augment, self.rng) if self.cfg.augment else images

    def _gradient_penalty(self, real, fake, labels):
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=self.device, generator=self.rng)
        return gradient_penalty(lambda mixed: self.discriminator(mixed, labels), real, fake.to(real.dtype), alpha)

    def scale_learning_rates(self, scale):
        """Both learning rates at `scale` × their configured values (lr_decay: 1 at the start, 0 at the end)."""
        for optimizer, rate in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in optimizer.param_groups:
                if torch.is_tensor(group["lr"]):
                    group["lr"].fill_(rate * scale)
                else:
                    group["lr"] = rate * scale

    # --- sampling -----------------------------------------------------------------------------------

    @torch.no_grad()
    def draw(self, noise):
        """What the (averaged) generator draws for `noise`, in eval mode with exact BatchNorm statistics (see
        calibrate_batchnorm). Training never reads those statistics, so this changes nothing in training; it is
        safe to call from another thread between steps. Returns float [B, C, H, W] in [-1, 1]."""
        with self.lock:
            self.calibrate()
            self.sample_generator.eval()
            with self.autocast():
                images = torch.cat([self.sample_generator(chunk) for chunk in noise.split(SAMPLING_CHUNK)]).float()
            self.sample_generator.train()
        return images

    def calibrate(self):
        """Exact BatchNorm statistics for the current weights, once per step however many draws ask for them."""
        if self._calibrated_at_step == self.step:
            return
        rng = torch.Generator(self.device).manual_seed(self.cfg.seed + self.step)
        with self.autocast():  # the precision draws use: 2.6× faster in bf16 on a 2-core CPU, the same images
            calibrate_batchnorm(self.sample_generator, self.model_cfg.latent_dim, self.device, rng)
        self._calibrated_at_step = self.step

    # --- what a checkpoint holds --------------------------------------------------------------------

    def checkpoint_parts(self):
        """(modules, optimizers, rng) for save_checkpoint; call with the lock held, after calibrate()."""
        modules = {"generator": self.sample_generator, "discriminator": self.discriminator}
        if self.sample_generator is not self.generator:
            modules["generator_train"] = self.generator
        rng = {"noise": self.rng.get_state(), "global": torch.get_rng_state()}
        return modules, {"opt_g": self.opt_g, "opt_d": self.opt_d}, rng

    def restore(self, checkpoint):
        """Weights, optimizer moments and random state from a full checkpoint, to resume exactly."""
        if not checkpoint.has_training_state:
            raise ConfigError("this checkpoint holds only a generator (an export) and cannot resume training")
        load_state(self.sample_generator, checkpoint.state("generator"), "generator")
        if self.sample_generator is not self.generator:
            load_state(self.generator, checkpoint.state("generator_train"), "generator")
        load_state(self.discriminator, checkpoint.state("discriminator"), "discriminator")
        for optimizer, prefix in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            try:
                optimizer.load_state_dict(optimizer_state_dict(checkpoint, prefix))
            except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as error:
                raise CheckpointError(f"the checkpoint's {prefix} optimizer state does not fit its networks") from error
            match_weight_layout(optimizer)
            for group in optimizer.param_groups:  # the card keeps the saving run's setting, not this device's
                group["capturable"] = self.graphed
        try:
            self.rng.set_state(checkpoint.tensors["rng.noise"])
            torch.set_rng_state(checkpoint.tensors["rng.global"])
        except (KeyError, RuntimeError, TypeError) as error:
            raise CheckpointError("the checkpoint's random number state is missing or damaged") from error

    def unwrap(self):
        """Drop the DDP wrappers: they hold the process group, whose threads must stop when a run leaves it."""
        self.train_generator, self.train_discriminator = self.generator, self.discriminator

"""The command line: `python -m ganlib train|export|project|sample|interpolate|score|code|bench|train-classifier|
train-features`, a thin front over the library.

Bad input prints one line and exits 2; a run that fails (diverged, no network) prints its reason and exits 1.
"""
import argparse
import json
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from .api import TrainingRun, check_out_folder, default_run_folder, load, run_configs
from .bench import CASES, run_bench
from .checkpoint import export_generator, load_checkpoint, load_generator
from .classifier import CLASSIFIER_PATH, train_digit_classifier
from .config import IMAGE_SIZES, NOISES, OPTIMIZERS, PRESETS
from .datasets import DATASETS, EMOJI_PATH, SAMPLE_PATH
from .device import DEVICE_CHOICES
from .distributed import leave_process_group, rank_and_world_size
from .errors import ConfigError, Diverged, GanStudioError, UploadFailed, is_out_of_memory
from .image_features import FEATURES_PATH, train_image_features
from .host import run_memory_budget
from .hub import check_repo_id, export_hub, push_hub
from .images import scatter_picture, to_pil_grid
from .latent import INTERPOLATIONS
from .losses import LOSSES
from .memory import check_output_memory
from .projection import SEARCH, STEPS, read_projection_latent, save_projection
from .pointgan import PointGAN, describe_point_metrics
from .points import POINT_DATASETS
from .quality import QUALITY_SAMPLES
from .ray_backend import ClusterSettings, connect
from .rundir import append_csv
from .script import standalone_script
from .text import printable


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage text is what --help is for)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = OneLineParser(prog="python -m ganlib", description="Train GANs and explore what they learn.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser("train", help="train a GAN; writes a run folder",
                                description="Train a GAN. Unset options take the model's preset values.")
    train.add_argument("--model", choices=list(PRESETS),
                       help="mlp: the notebooks' MLP GAN; dcgan: the recommended DCGAN (default for images); "
                            "mlp2d: the 2D Playground's GAN (default for 2D datasets)")
    train.add_argument("--dataset", choices=[*DATASETS, *POINT_DATASETS],
                       help=f"images (default mnist-sample), or 2D points: {', '.join(POINT_DATASETS)}")
    train.add_argument("--data-dir", help="folder or .zip of images (folder dataset); download cache otherwise")
    train.add_argument("--loss", choices=list(LOSSES))
    train.add_argument("--epochs", type=int)
    train.add_argument("--max-seconds", type=float, help="stop after this much training time")
    train.add_argument("--max-steps", type=int, help="stop after this many generator updates")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="learning rate of both G and D")
    train.add_argument("--lr-g", type=float)
    train.add_argument("--lr-d", type=float)
    train.add_argument("--beta1", type=float)
    train.add_argument("--beta2", type=float)
    train.add_argument("--d-steps", type=int, help="D updates per G update")
    train.add_argument("--ema-decay", type=float, help="moving average of G shown in grids and exports; 0: off")
    train.add_argument("--image-size", type=int, choices=IMAGE_SIZES)
    train.add_argument("--channels", type=int, choices=(1, 3))
    train.add_argument("--latent-dim", type=int)
    train.add_argument("--latent-codes", type=int,
                       help="dcgan: InfoGAN-style categorical codes D must read back from the image; 0: off")
    train.add_argument("--conditional", action=argparse.BooleanOptionalAction,
                       help="class-conditional: G draws the class it is asked for (`sample --class`); needs labels. "
                            "The DCGAN's default on digits (mnist-sample, mnist); --no-conditional or --latent-codes "
                            "K trains it without labels")
    train.add_argument("--ngf", type=int, dest="g_width", help="generator width")
    train.add_argument("--ndf", type=int, dest="d_width", help="discriminator width")
    train.add_argument("--d-dropout", type=float)
    train.add_argument("--no-d-batchnorm", dest="d_batchnorm", action="store_false", default=None)
    train.add_argument("--hidden-layers", type=int, help="mlp2d: hidden layers of G and D")
    train.add_argument("--noise", choices=NOISES, help="mlp2d: the noise distribution")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="mlp2d: adam (default) or sgd")
    train.add_argument("--r1-gamma", type=float,
                       help="weight of the R1 penalty on D's gradient at real data; 0: off (colour data: 1)")
    train.add_argument("--r1-every", type=int,
                       help="1: R1 in every D step; N: lazily, every N-th step at N times the weight (colour data: 16)")
    train.add_argument("--lr-decay", action=argparse.BooleanOptionalAction,
                       help="learning rates fall linearly to 0 over the run's budget (epochs, steps or seconds); "
                            "on by default for colour data")
    train.add_argument("--augment", help="DiffAugment for D: translation, cutout, or both comma-separated; '' for none")
    train.add_argument("--seed", type=int)
    train.add_argument("--device", choices=DEVICE_CHOICES)
    train.add_argument("--precision", choices=("auto", "fp32", "bf16"))
    train.add_argument("--no-cuda-graph", dest="cuda_graph", action="store_false", default=None,
                       help="launch each step's kernels one by one instead of replaying one CUDA graph")
    train.add_argument("--no-channels-last", dest="channels_last", action="store_false", default=None)
    train.add_argument("--out", type=Path, help="run folder (default runs/MODEL-DATASET-TIME)")
    train.add_argument("--resume", type=Path, help="continue from a checkpoint or run folder")
    train.add_argument("--tensorboard", type=Path, metavar="DIR",
                       help="also write TensorBoard event files to DIR/RUN-NAME (needs: pip install tensorboard)")
    train.add_argument("--ray", metavar="ADDRESS",
                       help="train on a Ray cluster (HOST:PORT, or local to start one on this machine); the run folder "
                            "is written here all the same (needs: pip install \"gan-studio[ray]\")")
    train.add_argument("--export", type=Path, metavar="PATH",
                       help="also write the generator alone (small, for sampling) to PATH.safetensors + .json")

    code = commands.add_parser("code", help="write a run's setup as one standalone PyTorch script")
    code.add_argument("path", type=Path, help="run folder or checkpoint .safetensors")
    code.add_argument("--out", type=Path, default=Path("train_gan.py"))

    export = commands.add_parser("export", help="write a generator as a Hugging Face Hub model folder",
                                 description="Write a folder that is a ready Hub model repository: the generator's "
                                             "weights and card, a sample grid and a README.md model card.")
    export.add_argument("path", type=Path, help="run folder or checkpoint .safetensors")
    export.add_argument("--hub", type=Path, metavar="DIR", required=True, help="the folder to write")
    export.add_argument("--license", dest="licence",
                        help="the licence the card names (default: the training data's, e.g. cc-by-sa-3.0 for MNIST)")
    export.add_argument("--push", metavar="REPO_ID", help="also upload the folder to this Hub repository "
                                                          "(USER/NAME; needs huggingface_hub and `hf auth login`)")
    export.add_argument("--private", action="store_true", help="with --push: create the repository private")

    sample = commands.add_parser("sample", help="draw samples from a checkpoint")
    sample.add_argument("path", type=Path, help="run folder or checkpoint .safetensors")
    sample.add_argument("--n", type=int, default=64)
    sample.add_argument("--out", type=Path, required=True,
                        help="FILE.png (a grid, or a scatter of 2D points) or FILE.npz (array 'images', or 'points' [N, 2])")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--truncation", type=float, help="sample z from a normal truncated to [-t, t]")
    sample.add_argument("--class", dest="class_name", metavar="CLASS",
                        help="conditional runs: the class to draw, by name or number (e.g. 7, or Flags for emoji)")
    sample.add_argument("--codes", metavar="LIST",
                        help="runs with latent codes: draw only these codes (e.g. 3,7,12), or 'eye' for those the "
                             "card names as drawing recognisable images")
    sample.add_argument("--device", choices=DEVICE_CHOICES, default="auto")

    proj = commands.add_parser("project", help="find the generator's closest drawing to your own image",
                               description="Project an image (a drawing, a photo: any size or colour) into a "
                                           "generator's latent space: its closest drawing, and where it lies.")
    proj.add_argument("path", type=Path, help="run folder or checkpoint .safetensors")
    proj.add_argument("image", type=Path, help="the image to project (PNG, JPEG, …)")
    proj.add_argument("--out", type=Path, required=True,
                      help="FILE.png (yours, the generator's closest and the nearest real image side by side) or "
                           "FILE.npz (arrays projection and input [1, C, H, W] in [-1, 1], latent, distance)")
    proj.add_argument("--class", dest="class_name", metavar="CLASS",
                      help="conditional runs: search this class only (default: every class)")
    proj.add_argument("--steps", type=int, default=STEPS, help="optimizer steps")
    proj.add_argument("--seed", type=int, default=0)
    proj.add_argument("--device", choices=DEVICE_CHOICES, default="auto")

    interp = commands.add_parser("interpolate", help="walk the latent space between two seeds (or projections)")
    interp.add_argument("path", type=Path, help="run folder or checkpoint .safetensors")
    interp.add_argument("--steps", type=int, default=10)
    interp.add_argument("--method", choices=list(INTERPOLATIONS), default="slerp")
    interp.add_argument("--seed-a", type=int, default=0)
    interp.add_argument("--seed-b", type=int, default=1)
    interp.add_argument("--from", dest="start", type=Path, metavar="FILE.npz",
                        help="start at a projection's latent (`project --out FILE.npz`) instead of --seed-a")
    interp.add_argument("--to", dest="end", type=Path, metavar="FILE.npz", help="end at a projection's latent")
    interp.add_argument("--out", type=Path, required=True, help="FILE.png (a strip) or FILE.gif (an animation)")
    interp.add_argument("--device", choices=DEVICE_CHOICES, default="auto")

    score = commands.add_parser("score", help="the quality meter's figures for a checkpoint",
                                description=f"Score {QUALITY_SAMPLES:,} samples against the real images of the "
                                            "dataset the generator was trained on.")
    score.add_argument("path", type=Path, help="run folder or checkpoint .safetensors")
    score.add_argument("--seed", type=int, default=1)
    score.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE")
    score.add_argument("--data-dir", help="where the dataset lives (folder data, or a download cache)")
    score.add_argument("--device", choices=DEVICE_CHOICES, default="auto")

    bench = commands.add_parser("bench", help="time the trainer against the DCGAN example's loop",
                                description="Time the project's trainer and the reference loop on the same "
                                            "device, networks, images and batch size.")
    bench.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    bench.add_argument("--steps", type=int, default=20, help="timed steps per loop")
    bench.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    bench.add_argument("--batch-size", type=int, default=64)
    bench.add_argument("--levers", action="store_true",
                       help="also time the trainer with each speed lever in turn (precision, channels_last, CUDA graph)")
    bench.add_argument("--quality", action="store_true",
                       help="also score both generators with the quality meter after the same number of steps")
    bench.add_argument("--json", type=Path, metavar="FILE", default=Path("bench.json"))
    bench.add_argument("--device", choices=DEVICE_CHOICES, default="auto")

    classifier = commands.add_parser("train-classifier", help="rebuild the digit classifier of the quality meter")
    classifier.add_argument("--out", type=Path, default=CLASSIFIER_PATH)
    classifier.add_argument("--epochs", type=int, default=12)
    classifier.add_argument("--seed", type=int, default=0)
    features = commands.add_parser("train-features", help="rebuild the colour meter's feature network")
    features.add_argument("--out", type=Path, default=FEATURES_PATH)
    features.add_argument("--epochs", type=int, default=60)
    features.add_argument("--seed", type=int, default=0)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["python", "-m", "ganlib", *map(str, argv)])
    try:
        commands = {"train": cmd_train, "export": cmd_export, "project": cmd_project, "sample": cmd_sample,
                    "interpolate": cmd_interpolate, "score": cmd_score, "code": cmd_code, "bench": cmd_bench,
                    "train-classifier": cmd_train_classifier, "train-features": cmd_train_features}
        return commands[args.command](args)
    except GanStudioError as error:
        print(f"error: {printable(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 — an estimate that was off: the allocation itself failed
        if not is_out_of_memory(error):
            raise
        print(f"error: out of memory within this machine's limits (its memory, a container's cap, ulimit -v): ask for "
              f"{ASK_FOR_LESS.get(args.command, 'less')}", file=sys.stderr)
        return 1


ASK_FOR_LESS = {"train": "a smaller batch, widths or image size", "sample": "fewer samples (--n)",
                "interpolate": "fewer steps (--steps)", "project": "fewer steps (--steps) or a smaller image",
                "score": "a smaller dataset", "bench": "a smaller --batch-size", "export": "a smaller generator"}


SETTING_NAMES = ("data_dir", "loss", "epochs", "max_seconds", "max_steps", "batch_size", "lr_g", "lr_d", "beta1",
                 "beta2", "d_steps", "ema_decay", "image_size", "channels", "latent_dim", "latent_codes", "g_width",
                 "d_width", "d_dropout", "d_batchnorm", "hidden_layers", "noise", "optimizer", "r1_gamma", "r1_every",
                 "augment", "lr_decay", "seed", "device", "precision", "cuda_graph", "channels_last")
RESUME_MAY_CHANGE = ("epochs", "max_steps", "max_seconds", "device")  # how long and where; never what is trained


def given_settings(args):
    """The settings named on the command line: --lr as both rates, and every option set."""
    given = {}
    if args.lr is not None:
        given.update(lr_g=args.lr, lr_d=args.lr)
    given.update({name: getattr(args, name) for name in SETTING_NAMES if getattr(args, name) is not None})
    return given


def train_configs(args):
    """A new run's configs (api.run_configs) from the options typed."""
    return run_configs(args.model, args.dataset, args.conditional, **given_settings(args))


def resumed_configs(args, checkpoint):
    """The checkpoint's own configs with only its limits and device changed; a setting that contradicts it is
    refused in one line (a silently ignored --lr would make the resumed run a lie)."""
    model_cfg, train_cfg = checkpoint.model_cfg, checkpoint.train_cfg
    saved = {**asdict(model_cfg), **asdict(train_cfg)}
    given = {**given_settings(args), **({"dataset": args.dataset} if args.dataset else {}),
             **({"family": args.model} if args.model else {})}
    for name, value in given.items():
        if name not in RESUME_MAY_CHANGE and saved.get(name) != value:
            option = option_typed(args, name)
            raise ConfigError(f"--resume continues the run with its own settings: {option} {value} contradicts its "
                              f"{saved.get(name)}; drop {option}, or start a new run with --out")
    changes = {name: value for name, value in given.items() if name in RESUME_MAY_CHANGE}
    return model_cfg, replace(train_cfg, **changes).validate()


OPTIONS_BY_SETTING = {"family": "--model", "g_width": "--ngf", "d_width": "--ndf", "d_batchnorm": "--no-d-batchnorm",
                      "cuda_graph": "--no-cuda-graph", "channels_last": "--no-channels-last"}


def option_typed(args, name):
    """The option the user typed for a setting: --lr for a rate it set through --lr, --ngf for g_width."""
    if name in ("lr_g", "lr_d") and getattr(args, name) is None:
        return "--lr"
    return OPTIONS_BY_SETTING.get(name, f"--{name.replace('_', '-')}")


def cmd_train(args):
    checkpoint = load_checkpoint(args.resume) if args.resume else None
    if checkpoint:  # resume with the run's own settings; only the limits may change
        model_cfg, train_cfg = resumed_configs(args, checkpoint)
        out = args.out or (args.resume if args.resume.is_dir() else args.resume.parent)
    else:
        model_cfg, train_cfg = train_configs(args)
        out = args.out or default_run_folder(model_cfg, train_cfg)
        if rank_and_world_size()[0] == 0:  # under torchrun the other ranks would see the folder rank 0 made
            check_out_folder(out)
    if model_cfg.family == "mlp2d":
        if checkpoint:
            raise ConfigError("2D runs are short: start a new one instead of resuming")
        return train_points(model_cfg, train_cfg, out, args)
    tensorboard = args.tensorboard / out.name if args.tensorboard else None
    cluster = ClusterSettings.from_environment(args.ray) if args.ray else None
    if cluster:
        if rank_and_world_size()[1] > 1:
            raise ConfigError("--ray trains each run in one process on the cluster: drop torchrun, or drop --ray")
        connect(cluster)  # here in the main thread, and a cluster that is not there is one line before anything else
    run = TrainingRun(model_cfg, train_cfg, out, resume=checkpoint, tensorboard=tensorboard, progress=True,
                      cluster=cluster)
    try:
        run.start().wait()
    finally:
        leave_process_group()
    if run.status == "failed":
        print(f"error: {printable(run.message)}", file=sys.stderr)
        return 1
    trainer, record = run.trainer, run.record
    if trainer.rank:
        return 0
    images_per_second = trainer.step * train_cfg.batch_size * trainer.world_size / max(trainer.elapsed, 1e-9)
    where = f" on Ray ({record.placement})" if record.placement else ""
    print(f"{record.finished_reason}: {trainer.epoch} epochs, {trainer.step} steps in {trainer.elapsed:.1f} s "
          f"({images_per_second:,.0f} img/s){where}; run folder {out}")
    if tensorboard:
        print(f"TensorBoard events in {tensorboard}: tensorboard --logdir {args.tensorboard}")
    if args.export:
        exported = export_generator(trainer.run_dir.checkpoint, args.export, command=args.command_line,
                                    images_per_second=round(images_per_second))
        print(f"generator exported to {exported} ({exported.stat().st_size / 1e6:.1f} MB)")
    return 0


def train_points(model_cfg, train_cfg, out, args):
    """The 2D GAN to its budget: checkpoint, metrics.csv and a scatter of real and generated points in `out`."""
    from tqdm import tqdm

    data = POINT_DATASETS[train_cfg.dataset]()
    gan = PointGAN(model_cfg, train_cfg, data)
    print(f"{data.title} (σ = {data.sigma:g}) on the CPU → {out}", file=sys.stderr)
    bar = tqdm(total=100, unit="%", dynamic_ncols=True, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")

    def on_progress(gan):
        bar.update(round(100 * gan.budget_used()) - bar.n)
        bar.set_postfix_str(f"step {gan.step:,} loss_D {gan.latest['loss_d']:.3f} loss_G {gan.latest['loss_g']:.3f} "
                            f"{describe_point_metrics(gan.metrics())}")

    failure = None
    try:
        gan.train(on_progress)
    except Diverged as error:
        failure = error  # what was trained so far is still written below
    bar.close()
    out.mkdir(parents=True, exist_ok=True)
    weights = gan.save(out / "checkpoint", command=args.command_line)
    append_csv(out / "metrics.csv", list(gan.history[0]) if gan.history else ["update"], gan.history)
    scatter_picture([(data.sample(2500, torch.Generator().manual_seed(1)), (150, 150, 150)),
                     (gan.sample(2500, seed=1, average=True), (31, 119, 180))], data.scale).save(out / "points.png")
    if failure:
        print(f"error: {printable(failure)}", file=sys.stderr)
        return 1
    print(f"{gan.step:,} steps in {gan.elapsed:.1f} s ({gan.step / max(gan.elapsed, 1e-9):,.0f} steps/s): "
          f"{describe_point_metrics(gan.metrics(average=True))}; run folder {out}")
    if args.export:
        print(f"generator exported to {export_generator(weights, args.export, command=args.command_line)}")
    return 0


def cmd_export(args):
    if args.push is not None:
        check_repo_id(args.push)  # before the folder is written
    folder = export_hub(args.path, args.hub, licence=args.licence)
    files = ", ".join(sorted(p.name for p in folder.iterdir()))
    print(f"wrote the Hub model folder {folder} ({files})")
    if args.push is not None:
        try:
            print(f"uploaded to {push_hub(folder, args.push, private=args.private)}")
        except UploadFailed as error:
            print(f"error: {printable(error)}", file=sys.stderr)
            return 1
    else:
        print(f"upload it with: python -m ganlib export {shlex.quote(str(args.path))} --hub {shlex.quote(str(folder))} "
              "--push USER/NAME")
    return 0


def cmd_code(args):
    _, checkpoint = load_generator(args.path)  # the same checks as every command that reads weights
    script = standalone_script(checkpoint.model_cfg, checkpoint.train_cfg, source=args.path.name)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(script)
    data = {"mnist-sample": SAMPLE_PATH, "emoji": EMOJI_PATH}.get(checkpoint.train_cfg.dataset, "DATA")
    print(f"wrote {args.out} ({len(script.splitlines())} lines); train it with: python {args.out} --data {data} "
          f"--max-steps 3000 --out gan_out")
    return 0


def cmd_sample(args):
    if args.n < 1:
        raise GanStudioError("--n must be at least 1")
    writable_output(args.out, (".png", ".npz"))
    generator = load(args.path, args.device)
    check_output_memory(generator.model_cfg, args.n, "--n", run_memory_budget(runs_at_once=1))
    codes = None if args.codes is None else generator.codes_to_draw(args.codes)
    if generator.model_cfg.family == "mlp2d":
        return write_points(generator, args)
    images = generator.images(args.n, args.seed, args.class_name, args.truncation, codes)  # [N, C, H, W] in [-1, 1]
    drawn = f" of class {generator.classes[generator.class_index(args.class_name)]}" if args.class_name else ""
    drawn += f" of codes {', '.join(map(str, codes))}" if codes else ""
    write_images(images, args.out, nrow=None)
    print(f"wrote {args.n} samples{printable(drawn)} of shape {tuple(images.shape[1:])} to {args.out}")
    return 0


def write_points(generator, args):
    """--out, checked by writable_output: FILE.npz (the points) or FILE.png (their scatter)."""
    if args.out.suffix.lower() == ".npz":
        np.savez_compressed(args.out, points=generator.images(args.n, args.seed).numpy().astype(np.float32))
    else:
        generator.sample(args.n, args.seed).save(args.out)
    print(f"wrote {args.n} points to {args.out}")
    return 0


def cmd_interpolate(args):
    if args.steps < 2:
        raise GanStudioError("--steps must be at least 2")
    writable_output(args.out, (".png", ".npz", ".gif"))
    generator = load(args.path, args.device)
    check_output_memory(generator.model_cfg, args.steps, "--steps", run_memory_budget(runs_at_once=1))
    start, end = (read_latent(generator, path, option) if path else seed
                  for path, option, seed in ((args.start, "--from", args.seed_a), (args.end, "--to", args.seed_b)))
    if args.out.suffix.lower() == ".gif":
        generator.interpolate(start, end, args.steps, args.method, scale=1).save(args.out)
    else:
        write_images(generator.walk(start, end, args.steps, args.method), args.out, nrow=args.steps)
    print(f"wrote a {args.steps}-step {args.method} path to {args.out}")
    return 0


def cmd_project(args):
    writable_output(args.out, (".png", ".npz"))  # before the projection's seconds, not after
    if not 1 <= args.steps <= 10_000:
        raise GanStudioError("--steps must be from 1 to 10,000")
    generator = load(args.path, args.device)
    found = generator.project(args.image, args.class_name, steps=args.steps, seed=args.seed)
    if args.out.suffix.lower() == ".npz":
        save_projection(args.out, found, generator.identity)
    else:
        found.picture().save(args.out)
    drawn = f"; it drew {printable(found.drew(generator.classes))}" if found.label is not None else ""
    nearest = "" if found.nearest_real is not None else " (the training images are not at hand: no nearest real one)"
    print(f"projected in {found.seconds:.1f} s: distance {found.distance:.3f} (the best of {SEARCH:,} random samples: "
          f"{found.random_distance:.3f}){drawn}; wrote {args.out}{nearest}")
    return 0


def read_latent(generator, path, option):
    """The latent of a projection file for `interpolate --from/--to`, checked as the Python API checks it."""
    return read_projection_latent(path, generator.model_cfg.latent_dim, generator.identity, f"{option} {path.name}")


def cmd_score(args):
    score = load(args.path, args.device).score(seed=args.seed, data_dir=args.data_dir)
    figures = score.as_dict()
    for name, value in figures.items():
        shown = " ".join(f"{share:.2f}" for share in value) if isinstance(value, list) else f"{value:.4g}"
        print(f"{name:16} {shown}")
    print(score.summary())
    if args.json:
        args.json.write_text(json.dumps({"checkpoint": str(args.path), "samples": QUALITY_SAMPLES, **figures}, indent=2))
    return 0


def cmd_bench(args):
    results = run_bench(args.cases, steps=args.steps, warmup=args.warmup, batch_size=args.batch_size,
                        device=args.device, quality=args.quality, levers=args.levers)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")
    return 0


def cmd_train_classifier(args):
    card = train_digit_classifier(args.out, epochs=args.epochs, seed=args.seed)
    print(f"held-out accuracy {card['held_out_accuracy']:.1%} after {card['training_seconds']} s; "
          f"wrote {Path(args.out).with_suffix('.safetensors')}")
    return 0


def cmd_train_features(args):
    card = train_image_features(args.out, epochs=args.epochs, seed=args.seed)
    print(f"trained in {card['training_seconds']} s (final loss {card['final_loss']}); "
          f"wrote {Path(args.out).with_suffix('.safetensors')}")
    return 0


def writable_output(out, suffixes):
    """Refuse an output path that cannot be written before any work is done: a wrong suffix, a parent that is a
    file, a folder that cannot be made or written (/proc, a read-only disk)."""
    if out.suffix.lower() not in suffixes:
        raise GanStudioError(f"--out must end in {' or '.join(suffixes)}, not '{printable(out.suffix)}'")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.parent.is_dir():
            raise NotADirectoryError(out.parent)
        existed = out.exists()
        with open(out, "ab"):
            pass
        if not existed:
            out.unlink()
    except OSError as error:
        reason = error.strerror or "not a folder"
        raise GanStudioError(f"--out {printable(out)} cannot be written ({reason.lower()})") from error


def write_images(images, out, nrow):
    """`out`, checked by writable_output: FILE.npz (the array) or FILE.png (a grid)."""
    if out.suffix.lower() == ".npz":
        np.savez_compressed(out, images=images.numpy().astype(np.float32))
    else:
        to_pil_grid(images, nrow=nrow).save(out)

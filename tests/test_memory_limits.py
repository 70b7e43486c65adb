"""Memory limits a host really sets: the address space (`ulimit -v`, `prlimit --as`) and the heap (RLIMIT_DATA), not
only physical memory and a cgroup's cap. The budget honours the lowest; every command answers in one line under them,
in seconds, never with a traceback."""
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ganlib.cli import main
from ganlib.host import machine_memory_bytes, process_memory

ROOT = Path(__file__).resolve().parent.parent
GB = 10**9


def limited(kind, size, *command):
    """Run `command` with one resource limit: under prlimit where it exists (as a host would), else set by Python."""
    if shutil.which("prlimit"):
        return subprocess.run(["prlimit", f"--{kind}={size}", *command], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
    limit = {"as": resource.RLIMIT_AS, "data": resource.RLIMIT_DATA}[kind]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: resource.setrlimit(limit, (size, size)))


BUDGET = ("from ganlib.host import machine_memory_bytes, process_memory; import torch; "
          "print(machine_memory_bytes(), process_memory('VmSize'), process_memory('VmData'))")


@pytest.mark.parametrize("kind, used", [("as", 1), ("data", 2)])
def test_the_budget_is_what_the_process_limit_leaves(kind, used):
    answer = limited(kind, 4 * GB, sys.executable, "-c", BUDGET)
    assert answer.returncode == 0, answer.stderr
    budget, *mapped = map(int, answer.stdout.split())
    assert 0 < budget <= 4 * GB - mapped[used - 1] + 2**20  # what is mapped already counts against the limit
    assert budget < machine_memory_bytes()  # lower than this unlimited process's


def test_no_limit_leaves_physical_memory_or_the_cgroups_cap():
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY
    assert 0 < machine_memory_bytes() <= resource.getpagesize() * __import__("os").sysconf("SC_PHYS_PAGES")
    assert process_memory("VmSize") > 0 and process_memory("NoSuchField") == 0


def one_line(result, code):
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_commands_under_an_address_space_limit_answer_in_one_line(tmp_path):
    ganlib = (sys.executable, "-m", "ganlib")
    walk = limited("as", 4 * GB, *ganlib, "interpolate", "checkpoints/mnist-cdcgan.safetensors", "--steps", "100000",
                   "--out", str(tmp_path / "w.gif"))
    assert "--steps 100,000 would need about" in one_line(walk, 2) and "ask for at most" in walk.stderr
    many = limited("as", 4 * GB, *ganlib, "sample", "checkpoints/emoji64-dcgan", "--n", "200000", "--out",
                   str(tmp_path / "s.npz"))
    assert "--n 200,000 would need about" in one_line(many, 2)
    train = limited("as", 4 * GB, *ganlib, "train", "--image-size", "256", "--channels", "3", "--ngf", "512",
                    "--out", str(tmp_path / "big"))
    assert "more than the" in one_line(train, 2) and not (tmp_path / "big").exists()
    no_torch = limited("as", 2 * GB, *ganlib, "sample", "checkpoints/mnist-dcgan", "--out", str(tmp_path / "s.png"))
    assert "PyTorch cannot load within this process's address-space limit" in one_line(no_torch, 1)
    fits = limited("as", 5 * GB, *ganlib, "sample", "checkpoints/mnist-cdcgan", "--n", "16", "--out",
                   str(tmp_path / "ok.png"))
    assert fits.returncode == 0 and (tmp_path / "ok.png").is_file(), fits.stderr


def test_an_allocation_that_fails_anyway_is_one_line_naming_what_to_lower(monkeypatch, capsys, tmp_path):
    from ganlib.api import TrainedGenerator

    def refuse(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 1024000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(TrainedGenerator, "images", refuse)
    assert main(["sample", "checkpoints/mnist-dcgan", "--out", str(tmp_path / "s.png")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "out of memory within this machine's limits" in error
    assert "ask for fewer samples (--n)" in error

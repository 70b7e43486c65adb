"""The newest commands (`project`, `interpolate --from/--to`, `export --hub --push`) tried as a hostile user would: each
answer is one sentence and an exit code, never a traceback; the Python API and the explorer answer the same way."""
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganlib
from ganlib.drawn_digits import drawn_digit
from ganlib.cli import main
from ganlib.errors import GanStudioError

ROOT = Path(__file__).resolve().parent.parent


def one_line(capsys, code, argv):
    assert main(argv) == code, argv
    said = capsys.readouterr()
    assert "Traceback" not in said.err and (not code or said.err.count("\n") == 1), said.err  # (a progress bar is fine)
    return said


@pytest.fixture(scope="module")
def odd_images(tmp_path_factory):
    """A 16-bit PNG, an animated GIF and a noise PNG: images that are not one flat colour nor 8-bit grey."""
    folder = tmp_path_factory.mktemp("odd")
    deep = (np.random.default_rng(0).integers(0, 65535, (40, 30))).astype(np.uint16)
    Image.fromarray(deep).save(folder / "deep.png")
    rng = np.random.default_rng(2)
    frames = [Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(4)]
    frames[0].save(folder / "moving.gif", save_all=True, append_images=frames[1:], duration=50)
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (50, 50, 3), dtype=np.uint8)).save(folder / "noise.png")
    return folder


def test_projecting_into_a_label_free_generator_names_its_latent_code(odd_images, tmp_path, capsys):
    for name in ("deep.png", "moving.gif", "noise.png"):
        said = one_line(capsys, 0, ["project", "checkpoints/mnist-dcgan", str(odd_images / name), "--steps", "5",
                                    "--out", str(tmp_path / f"{name}.npz")])
        assert "; it drew latent code " in said.out and "class" not in said.out
        assert np.load(tmp_path / f"{name}.npz")["latent"].shape == (1, 100)
    found = ganlib.load("checkpoints/mnist-dcgan").project(odd_images / "noise.png", steps=5, progress=False)
    assert found.drew(()).startswith("latent code ")  # the API's answer, as the CLI and the explorer word it


def test_an_output_that_cannot_be_written_is_refused_before_any_work(odd_images, tmp_path, capsys):
    (tmp_path / "noise.png").write_bytes(b"a file, not a folder")
    cases = [(["project", "checkpoints/mnist-dcgan", str(odd_images / "noise.png"), "--out", "/proc/x.npz"],
              "--out /proc/x.npz cannot be written ("),
             (["project", "checkpoints/mnist-dcgan", str(odd_images / "noise.png"), "--out",
               str(tmp_path / "noise.png" / "x.npz")], "x.npz cannot be written ("),
             (["sample", "checkpoints/mnist-dcgan", "--out", "/proc/samples.png"], "cannot be written ("),
             (["interpolate", "checkpoints/mnist-dcgan", "--out", str(tmp_path / "noise.png" / "w.gif")],
              "cannot be written (")]
    for argv, says in cases:
        assert says in one_line(capsys, 2, argv).err
    assert (tmp_path / "noise.png").read_bytes() == b"a file, not a folder"


def test_latent_files_that_are_no_projection_of_this_generator_are_refused(tmp_path, capsys):
    drawn_digit(4).save(tmp_path / "four.png")
    np.save(tmp_path / "plain.npy", np.zeros(100, np.float32))
    one_line(capsys, 0, ["project", "checkpoints/mnist-cdcgan", str(tmp_path / "four.png"), "--steps", "5",
                         "--out", str(tmp_path / "A.npz")])
    one_line(capsys, 0, ["project", "checkpoints/emoji64-dcgan", str(tmp_path / "four.png"), "--steps", "3",
                         "--out", str(tmp_path / "B.npz")])
    latent = np.load(tmp_path / "A.npz")["latent"]
    np.savez(tmp_path / "half.npz", latent=latent.astype(np.float16))
    np.savez(tmp_path / "huge.npz", latent=np.full((1, 100), 1e30, np.float32))
    walk = ["interpolate", "checkpoints/mnist-cdcgan", "--out", str(tmp_path / "w.png"), "--steps", "3"]
    assert "--from plain.npy is not a .npz file that `project` wrote" in one_line(
        capsys, 2, [*walk, "--from", str(tmp_path / "plain.npy")]).err
    assert "--to B.npz holds a latent of another generator: project your image into this one first" in one_line(
        capsys, 2, [*walk, "--from", str(tmp_path / "A.npz"), "--to", str(tmp_path / "B.npz")]).err
    assert "--to huge.npz holds numbers beyond ±20" in one_line(capsys, 2, [*walk, "--to", str(tmp_path / "huge.npz")]).err
    one_line(capsys, 0, [*walk, "--from", str(tmp_path / "half.npz"), "--to", str(tmp_path / "A.npz")])  # float16: fine
    generator = ganlib.load("checkpoints/mnist-cdcgan")  # the same answers from the Python API
    with pytest.raises(GanStudioError, match="holds a latent of another generator"):
        generator.interpolate(tmp_path / "A.npz", str(tmp_path / "B.npz"))
    with pytest.raises(GanStudioError, match="beyond ±20"):
        generator.walk(torch.full((100,), 1e30), 1)
    with pytest.raises(GanStudioError, match="is not a .npz file that `project` wrote"):
        generator.walk(tmp_path / "plain.npy", 1)
    assert generator.walk(tmp_path / "half.npz", tmp_path / "A.npz", steps=3).shape == (3, 1, 28, 28)


class Refusing(http.server.BaseHTTPRequestHandler):
    """A Hub that refuses every token."""

    def do_POST(self):
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "Invalid credentials in Authorization header"}')

    do_GET = do_PUT = do_POST

    def log_message(self, *args):
        pass


def test_a_failed_upload_is_one_line_and_the_folder_stays(tmp_path):
    pytest.importorskip("huggingface_hub")
    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    try:
        for name, endpoint, says in (("offline", "http://127.0.0.1:9", "the upload to ada/digits failed ("),
                                     ("refused", f"http://127.0.0.1:{hub.server_port}",
                                      "the Hub refused the token (HTTP 401): log in with `hf auth login`")):
            folder = tmp_path / name
            result = subprocess.run([sys.executable, "-m", "ganlib", "export", "checkpoints/mnist-cdcgan", "--hub",
                                     str(folder), "--push", "ada/digits"], cwd=ROOT, capture_output=True, text=True,
                                    env={**os.environ, "HF_ENDPOINT": endpoint, "HF_TOKEN": "hf_not_a_real_token"},
                                    timeout=120)
            assert result.returncode == 1, result.stderr
            assert result.stderr.count("\n") == 1 and says in result.stderr and "Traceback" not in result.stderr
            assert f"the folder {folder} is written and complete" in result.stderr
            assert (folder / "generator.safetensors").is_file() and (folder / "README.md").is_file()
    finally:
        hub.shutdown()


def test_an_empty_push_or_a_missing_client_is_one_line(tmp_path, capsys, monkeypatch):
    assert "--push '' is not a Hub repository id" in one_line(
        capsys, 2, ["export", "checkpoints/mnist-cdcgan", "--hub", str(tmp_path / "empty"), "--push", ""]).err
    assert not (tmp_path / "empty").exists()  # refused before anything is written
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    assert "--push needs huggingface_hub" in one_line(
        capsys, 2, ["export", "checkpoints/mnist-cdcgan", "--hub", str(tmp_path / "kept"), "--push", "ada/digits"]).err
    assert (tmp_path / "kept" / "generator.safetensors").is_file()


def test_the_explorer_names_a_label_free_generators_latent_code(monkeypatch, odd_images):
    from test_app import open_explorer, shown

    app = open_explorer(monkeypatch)
    from studio.session import checkpoints_dir

    app.session_state["explore_shipped"] = checkpoints_dir() / "mnist-dcgan.safetensors"  # latent codes, no classes
    app.run()
    app.radio(key="explore_draw_source").set_value("Upload a picture").run()
    upload = ("noise.png", (odd_images / "noise.png").read_bytes(), "image/png")
    app.file_uploader(key="explore_draw_upload").set_value([upload]).run()
    app.button(key="explore_project").click().run()
    assert not app.exception and not app.error
    assert any("It drew latent code " in text for text in shown(app.caption))

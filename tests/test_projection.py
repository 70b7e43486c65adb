"""Projecting your own image into a generator: the library call, the command, the explorer's panel, and bad images."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

import ganlib
from ganlib.drawn_digits import drawn_digit
from ganlib.cli import main
from ganlib.errors import GanStudioError
from ganlib.projection import centred_digit, prepare_image
from ganlib.quality import meter_input, meter_network


def digit_read(images):
    """The quality meter's classifier's reading of each image."""
    with torch.no_grad():
        return meter_network("mnist-sample")(meter_input(images, True)).argmax(1).tolist()


@pytest.fixture(scope="module")
def cdcgan():
    return ganlib.load("checkpoints/mnist-cdcgan")


def test_drawn_digits_come_back_as_the_same_digit_closer_than_random_search(cdcgan):
    """The issue's goal, on the conditional DCGAN: each of ten mouse-drawn digits comes back read as that digit, closer
    than the best of 1,000 random samples (measured: 10 of 10, 0.03–0.11 against 0.24–0.55, under a second each).
    The class whose drawing came closest is the one drawn for 8 times in 10: the generator's 5 can bend into an
    angular 6, its 3 into an 8."""
    found = [cdcgan.project(drawn_digit(digit), progress=False) for digit in range(10)]
    projections = torch.cat([f.projection for f in found])
    assert sum(read == digit for digit, read in enumerate(digit_read(projections))) >= 9
    assert sum(f.label == digit for digit, f in enumerate(found)) >= 7  # the class the search settled on
    assert all(f.distance < f.random_distance for f in found)
    assert all(f.projection.shape == f.input.shape == (1, 1, 28, 28) for f in found)
    assert all(f.latent.shape == (1, 100) for f in found)


def test_an_asked_class_is_kept_and_an_unconditional_generator_projects_too(cdcgan):
    asked = cdcgan.project(drawn_digit(7), label=1, progress=False)
    assert asked.label == 1 and asked.latent[0, :10].argmax() == 1
    free = cdcgan.project(drawn_digit(7), progress=False)
    assert free.distance < asked.distance  # a 7 is nearer as a 7 than as a 1
    unconditional = ganlib.load("checkpoints/mnist-dcgan").project(drawn_digit(3), progress=False)
    assert unconditional.distance < unconditional.random_distance and digit_read(unconditional.projection) == [3]


def test_images_of_any_size_and_colour_are_brought_to_the_generators_shape(cdcgan):
    dark_on_light = Image.eval(drawn_digit(4, size=500), lambda v: 255 - v).convert("RGB")  # a scan: dark ink, paper
    prepared = prepare_image(dark_on_light, cdcgan.model_cfg, "mnist-sample")
    assert prepared.shape == (1, 1, 28, 28) and prepared.min() == -1 and prepared.max() > 0.9
    assert prepared[0, 0, [0, -1]].max() == -1  # dark paper all round, as MNIST's
    rows, cols = torch.nonzero(prepared[0, 0] > 0, as_tuple=True)
    assert rows.max() - rows.min() <= 20 and cols.max() - cols.min() <= 20  # the ink fits MNIST's 20-pixel box
    tiny = centred_digit(np.pad(np.full((3, 2), 255, np.uint8), 40), 28)  # a dot far off-centre
    assert tuple(torch.nonzero(tiny > 0).float().mean(0).round()) == (14.0, 14.0)
    emoji = ganlib.load("checkpoints/emoji-dcgan")
    photo = Image.new("RGB", (640, 480), "skyblue")
    photo.paste((240, 200, 40), (200, 120, 440, 360))
    assert prepare_image(photo, emoji.model_cfg, "emoji").shape == (1, 3, 32, 32)


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    (b"GIF89a not really", "not an image Pillow can read"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not an image Pillow can read"),
])
def test_bad_images_are_refused_in_one_sentence(cdcgan, data, says):
    with pytest.raises(GanStudioError, match=says):
        cdcgan.project(data, progress=False)


def test_flat_and_huge_images_are_refused(cdcgan, monkeypatch):
    with pytest.raises(GanStudioError, match="one flat colour"):
        cdcgan.project(Image.new("L", (64, 64), 255), progress=False)
    monkeypatch.setenv("GAN_STUDIO_MAX_IMAGE_MEGAPIXELS", "1")
    with pytest.raises(GanStudioError, match=r"too large to open safely \(2000×1000 pixels\)"):
        cdcgan.project(Image.new("L", (2000, 1000)), progress=False)


def test_project_writes_the_side_by_side_picture_and_the_arrays(tmp_path, capsys):
    drawn_digit(2).save(tmp_path / "two.png")
    drawn_digit(7).save(tmp_path / "seven.png")
    assert main(["project", "checkpoints/mnist-cdcgan", str(tmp_path / "two.png"), "--out", str(tmp_path / "2.png")]) == 0
    said = capsys.readouterr().out
    assert "it drew class 2" in said and "the best of 1,000 random samples" in said
    picture = Image.open(tmp_path / "2.png")
    assert picture.size == (3 * 168 + 2 * 12, 168 + 22)  # yours, the generator's, the nearest real one
    assert main(["project", "checkpoints/mnist-cdcgan", str(tmp_path / "seven.png"), "--out",
                 str(tmp_path / "7.npz")]) == 0
    arrays = np.load(tmp_path / "7.npz")
    assert arrays["projection"].shape == arrays["input"].shape == (1, 1, 28, 28) and arrays["latent"].shape == (1, 100)
    assert -1 <= arrays["projection"].min() and arrays["projection"].max() <= 1
    assert float(arrays["distance"]) < float(arrays["random_distance"])
    assert digit_read(torch.from_numpy(arrays["projection"])) == [7]


def test_interpolate_walks_from_a_projection_to_a_seed_or_another_projection(tmp_path, cdcgan):
    for digit in (1, 8):
        drawn_digit(digit).save(tmp_path / f"{digit}.png")
        assert main(["project", "checkpoints/mnist-cdcgan", str(tmp_path / f"{digit}.png"), "--out",
                     str(tmp_path / f"{digit}.npz")]) == 0
    assert main(["interpolate", "checkpoints/mnist-cdcgan", "--from", str(tmp_path / "1.npz"), "--to",
                 str(tmp_path / "8.npz"), "--steps", "6", "--out", str(tmp_path / "walk.npz")]) == 0
    walk = torch.from_numpy(np.load(tmp_path / "walk.npz")["images"])
    ends = torch.from_numpy(np.concatenate([np.load(tmp_path / f"{d}.npz")["projection"] for d in (1, 8)]))
    assert torch.allclose(walk[[0, -1]], ends, atol=1e-4)  # it starts at one projection and ends at the other
    assert main(["interpolate", "checkpoints/mnist-cdcgan", "--from", str(tmp_path / "1.npz"), "--seed-b", "4",
                 "--steps", "5", "--out", str(tmp_path / "walk.gif")]) == 0
    assert Image.open(tmp_path / "walk.gif").n_frames == 5


def test_bad_projection_files_and_options_get_one_line(tmp_path, capsys):
    drawn_digit(5).save(tmp_path / "five.png")
    (tmp_path / "notes.npz").write_bytes(b"PK\x03\x04 no")
    np.savez(tmp_path / "wrong.npz", latent=np.zeros((1, 7), np.float32))
    np.savez(tmp_path / "nan.npz", latent=np.full((1, 100), np.nan, np.float32))
    cases = [
        (["project", "checkpoints/mnist-cdcgan", str(tmp_path / "five.png"), "--out", "x.jpg"], "must end in .png or .npz"),
        (["project", "checkpoints/mnist-cdcgan", str(tmp_path / "none.png"), "--out", "x.png"], "no image file at"),
        (["project", "checkpoints/mnist-cdcgan", str(tmp_path / "five.png"), "--out", "x.png", "--steps", "0"], "--steps"),
        (["project", "checkpoints/mnist-cdcgan", str(tmp_path / "five.png"), "--out", "x.png", "--class", "eleven"],
         "is not one of this generator's classes"),
        (["interpolate", "checkpoints/mnist-cdcgan", "--from", str(tmp_path / "notes.npz"), "--out", "x.png"],
         "is not a .npz file that `project` wrote"),
        (["interpolate", "checkpoints/mnist-cdcgan", "--from", str(tmp_path / "wrong.npz"), "--out", "x.png"],
         "holds no latent of this generator (100 finite numbers)"),
        (["interpolate", "checkpoints/mnist-cdcgan", "--to", str(tmp_path / "nan.npz"), "--out", "x.png"],
         "holds no latent of this generator"),
    ]
    for argv, says in cases:
        assert main(argv) == 2, argv
        error = capsys.readouterr().err
        assert says in error and error.count("\n") == 1 and "Traceback" not in error


def test_a_notebook_shows_the_projection_and_walks_from_it(cdcgan):
    found = cdcgan.project(drawn_digit(0), progress=False)
    shown = Image.open(io.BytesIO(found._repr_png_()))
    assert shown.size == (3 * 168 + 2 * 12, 168 + 22)
    walk = cdcgan.walk(found, 5, steps=4)
    assert torch.allclose(walk[0], found.projection[0], atol=1e-4)


def test_the_explorer_projects_an_uploaded_picture_and_refuses_a_bad_one(monkeypatch):
    from test_app import open_explorer, shown

    app = open_explorer(monkeypatch)
    app.radio(key="explore_draw_source").set_value("Upload a picture").run()
    assert app.button(key="explore_project").disabled
    app.file_uploader(key="explore_draw_upload").set_value([("notes.png", b"not a picture", "image/png")]).run()
    app.button(key="explore_project").click().run()
    assert not app.exception
    assert any("not an image Pillow can read" in text for text in shown(app.error))
    buffer = io.BytesIO()
    drawn_digit(3).save(buffer, format="PNG")
    app.file_uploader(key="explore_draw_upload").set_value([("three.png", buffer.getvalue(), "image/png")]).run()
    app.button(key="explore_project").click().run()
    assert not app.exception and not app.error
    assert any("It drew class 3" in text for text in shown(app.caption))
    assert "class 5, your style" in app.selectbox(key="explore_walk_to").options
    assert any(d.proto.label == "Download the walk" for d in app.get("download_button"))

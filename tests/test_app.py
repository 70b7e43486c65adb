import io
import json
import re
import time
import zipfile
from dataclasses import fields
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganlib.config import ModelConfig, TrainConfig
from studio.live_stream import live_data
from studio.session import checkpoints_dir
from test_live_stream import ask_route


def open_app():
    return AppTest.from_file("../app.py", default_timeout=60).run()


def open_train_page():
    app = open_app()
    app.switch_page("pages/train.py").run()
    assert not app.exception
    return app


def button(app, label):
    return next(b for b in app.button if b.label == label)


def shown(elements):
    """The texts of markdown elements as a reader sees them: user text reaches the page with markdown escaped."""
    return [re.sub(r"\\(.)", r"\1", element.value) for element in elements]


def test_landing_page_says_what_the_app_is():
    app = open_app()
    assert not app.exception
    assert app.title[0].value == "GAN Studio"
    assert "generator" in app.markdown[0].value and "discriminator" in app.markdown[0].value


def test_train_page_offers_the_recommended_defaults():
    app = open_train_page()
    assert app.title[0].value == "Train a GAN"
    assert app.sidebar.selectbox(key="train_preset").value == "DCGAN (recommended)"
    assert app.sidebar.selectbox(key="train_dataset").value == "mnist-sample"
    assert app.sidebar.number_input(key="train_max_seconds").value == 60
    assert app.sidebar.checkbox(key="train_conditional").value is True  # labelled digits: the measured recipe
    assert app.sidebar.number_input(key="train_latent_codes").value == 0  # the labels take the codes' place
    assert not button(app, "Start training").disabled
    refresh = app.segmented_control(key="train_refresh")
    assert refresh.value == 1 and refresh.options == ["1 s", "2 s", "5 s"]  # the live view redraws every second


def test_the_page_offers_only_the_datasets_the_host_allows_and_says_its_caps(monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_DATASETS", "mnist-sample,folder")
    monkeypatch.setenv("GAN_STUDIO_MAX_SECONDS", "120")
    app = open_train_page()
    assert app.sidebar.selectbox(key="train_dataset").options == ["MNIST sample (5,000 digits, offline)",
                                                                  "Your images (folder or .zip)"]
    assert any("This server stops each run after 120 s." in c.value for c in app.caption)


def test_every_config_field_has_a_widget_on_the_train_page():
    app = open_train_page()
    kinds = ("number_input", "selectbox", "radio", "checkbox", "text_input", "slider", "segmented_control")
    keys = {widget.key for kind in kinds for widget in getattr(app.sidebar, kind)}
    given_by_the_data = {"data_dir", "classes"}  # an upload or a path; the dataset's classes, when Conditional is on
    missing = [f.name for config in (ModelConfig, TrainConfig) for f in fields(config)
               if f"train_{f.name}" not in keys and f.name not in given_by_the_data]
    assert missing == []


def test_presets_fill_in_the_notebook_settings():
    app = open_train_page()
    app.sidebar.selectbox(key="train_preset").select("Original MLP GAN (notebook)").run()
    assert app.sidebar.selectbox(key="train_family").value == "mlp"
    assert app.sidebar.number_input(key="train_lr_g").value == pytest.approx(2e-4)
    assert app.sidebar.number_input(key="train_lr_d").value == pytest.approx(2e-4)
    assert app.sidebar.number_input(key="train_g_width").value == 256
    assert app.sidebar.number_input(key="train_r1_gamma").value == 10  # without it the MLP collapses
    app.sidebar.selectbox(key="train_preset").select("Lesson: Mode collapse").run()
    assert app.sidebar.selectbox(key="train_family").value == "mlp"
    assert app.sidebar.number_input(key="train_r1_gamma").value == 0  # the notebooks' run, which collapses


def test_the_colour_preset_brings_its_emoji_in_rgb_for_five_minutes():
    app = open_train_page()
    app.sidebar.selectbox(key="train_preset").select("DCGAN in colour (emoji)").run()
    assert app.sidebar.selectbox(key="train_dataset").value == "emoji"
    assert app.sidebar.selectbox(key="train_image_size").value == 32
    assert app.sidebar.radio(key="train_channels").value == 3
    assert app.sidebar.number_input(key="train_latent_codes").value == 0
    assert app.sidebar.number_input(key="train_max_seconds").value == 300
    assert not app.exception and app.button(key="train_start").disabled is False
    app.sidebar.selectbox(key="train_preset").select("DCGAN (recommended)").run()
    assert app.sidebar.selectbox(key="train_dataset").value == "emoji"  # a preset without data keeps the data
    assert app.sidebar.number_input(key="train_latent_codes").value == 0  # with the data's recipe
    assert app.sidebar.checkbox(key="train_conditional").value is False


@pytest.mark.parametrize("widget,key,value,message", [
    ("number_input", "train_lr_g", 0.0, "lr_g must be between"),
    ("selectbox", "train_loss", "wgan-gp", "wgan-gp penalizes each sample's gradient"),
])
def test_settings_that_cannot_work_are_explained_before_the_run(widget, key, value, message):
    app = open_train_page()
    getattr(app.sidebar, widget)(key=key).set_value(value).run()
    assert [text for text in shown(app.warning) if message in text]
    assert button(app, "Start training").disabled


def test_a_dataset_brings_its_size_and_recipe_as_on_the_command_line():
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("emoji").run()
    assert app.sidebar.selectbox(key="train_image_size").value == 32 and app.sidebar.radio(key="train_channels").value == 3
    assert app.sidebar.number_input(key="train_latent_codes").value == 0  # the emoji recipe: no codes
    assert app.sidebar.checkbox(key="train_conditional").value is False  # nor labels
    assert app.sidebar.number_input(key="train_r1_gamma").value == 1.0  # R1 and falling rates hold D back
    assert app.sidebar.number_input(key="train_r1_every").value == 16  # R1 lazily: 2.6× the steps at 32 px
    assert app.sidebar.checkbox(key="train_lr_decay").value is True
    app.sidebar.checkbox(key="train_conditional").check().run()
    app.sidebar.checkbox(key="train_conditional").uncheck().run()
    assert app.sidebar.number_input(key="train_latent_codes").value == 0  # unticked: emoji's recipe again
    app.sidebar.selectbox(key="train_dataset").select("cifar10").run()
    assert app.sidebar.number_input(key="train_latent_codes").value == 10  # no recipe: the preset's codes again
    app.sidebar.selectbox(key="train_dataset").select("mnist-sample").run()
    assert app.sidebar.selectbox(key="train_image_size").value == 28 and app.sidebar.radio(key="train_channels").value == 1
    assert app.sidebar.checkbox(key="train_conditional").value is True  # the digits' recipe: told the labels
    assert app.sidebar.number_input(key="train_latent_codes").value == 0
    assert app.sidebar.number_input(key="train_r1_gamma").value == 0 and not app.sidebar.checkbox(key="train_lr_decay").value


def test_own_images_need_an_upload_or_a_path():
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    assert any("upload a .zip of images" in text for text in shown(app.warning))
    assert button(app, "Start training").disabled
    assert app.sidebar.selectbox(key="train_image_size").value == 64  # the folder dataset's natural size


def zip_of(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_uploaded_zip_is_checked_then_written_once(digits):
    png = io.BytesIO()
    Image.fromarray(digits.images[0, 0].numpy()).save(png, format="PNG")
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    upload = app.sidebar.file_uploader(key="train_upload").set_value
    upload(("notes.zip", zip_of({"readme.txt": b"hi"}), "application/zip")).run()
    assert any("no images found in notes.zip (1 other files)" in text for text in shown(app.warning))
    assert button(app, "Start training").disabled
    upload = app.sidebar.file_uploader(key="train_upload").set_value  # the element of the latest run
    upload(("digits.zip", zip_of({"a.png": png.getvalue(), "b.txt": b"x"}), "application/zip")).run()
    assert not app.warning and not button(app, "Start training").disabled
    staged = Path(app.session_state.upload_dir) / "upload.zip"
    written = staged.stat().st_mtime_ns
    app.sidebar.number_input(key="train_seed").set_value(5).run()  # any rerun
    assert staged.stat().st_mtime_ns == written  # not rewritten


def test_a_run_on_uploaded_images_says_how_many_it_loaded_and_skipped(digits):
    pngs = {}
    for index in range(70):
        png = io.BytesIO()
        Image.fromarray(digits.images[index, 0].numpy()).save(png, format="PNG")
        pngs[f"digits/{index}.png"] = png.getvalue()
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    archive = zip_of({**pngs, "digits/fake.png": b"a text file in disguise", "notes.txt": b"hi"})
    app.sidebar.file_uploader(key="train_upload").set_value(("digits.zip", archive, "application/zip")).run()
    app.sidebar.selectbox(key="train_image_size").set_value(32).run()
    app.sidebar.radio(key="train_channels").set_value(1).run()
    for key, value in [("train_g_width", 8), ("train_d_width", 8), ("train_epochs", 1)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    button(app, "Start training").click().run()
    expected = "Your images: loaded 70 images, skipped 2 (not images, unreadable or too large)."  # fake.png, notes.txt
    assert wait_for(app, lambda a: any(c.value == expected for c in a.caption))
    assert wait_for(app, lambda a: run_state(a) == "finished")  # the next test's run can start


def wait_for(app, condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.run()
        assert not app.exception
        if condition(app):
            return True
        time.sleep(0.5)
    return False


def live_view_data(app):
    """What the Train page hands its live view component: the run's state and its stream's token."""
    (view,) = live_views(app)
    return json.loads(view.proto.json)


def live_views(app):
    return [element for element in app.get("bidi_component") if element.proto.component_name == "gan_studio_live_view"]


def run_state(app):
    """The state of the page's run, as its live view was last drawn for (None: no run shown)."""
    return live_view_data(app)["state"] if live_views(app) else None


def streamed(app, query=""):
    """What the page's live view reads from its run's route (studio/live_stream.py), as the browser would."""
    response = ask_route(live_data, live_view_data(app)["token"], query)
    assert response.status_code == 200
    return json.loads(response.body)


def start_tiny_run(epochs):
    """The Train page with a tiny DCGAN started: 39 steps an epoch."""
    app = open_train_page()
    for key, value in [("train_g_width", 8), ("train_d_width", 8), ("train_epochs", epochs), ("train_batch_size", 128)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    button(app, "Start training").click().run()
    return app


def test_start_training_runs_and_shows_grids_charts_and_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    app = start_tiny_run(epochs=2)
    assert app.session_state.train_run_id
    assert run_state(app) in ("starting", "running")
    assert wait_for(app, lambda a: run_state(a) == "finished")
    got = streamed(app)  # the whole run at once, as a page opened after the run gets it
    assert "Epoch 2/2" in got["status"] and "step 78" in got["status"]
    assert [chart["layout"]["title"]["text"] for chart in got["charts"]] == ["Losses", "The game's scoreboard",
                                                                             "Gradient norms"]
    assert got["rows"]["step"][-1] == 78 and len(got["rows"]["step"]) == len(got["rows"]["loss_g"]) > 5
    assert [grid["label"] for grid in got["grids"]] == ["epoch 1", "epoch 2"]
    assert got["frechet"]["data"][0]["x"] == [1, 2]
    assert got["scores"][1]["summary"].startswith("Quality meter · epoch 2: legible ")
    assert len(app.get("image")) == 1  # the timelapse; the grids are the live view's
    labels = [d.proto.label for d in app.get("download_button") if d.proto.label != "Download train_gan.py"]
    assert labels == ["Checkpoint (.safetensors)", "Checkpoint card (.json)", "Metrics (.csv)", "Quality meter (.csv)",
                      "Final grid (.png)", "Timelapse (.gif)", "Hugging Face Hub folder (.zip)"]
    app.text_input(key="train_save_name").input("Tiny Digits!")  # a form: the name goes with the click
    button(app, "Save for the explorer").click().run()
    assert any("Saved as tiny-digits" in s.value for s in app.success)
    saved = Path(app.session_state.saved_dir)  # this session's own folder: the shipped one is never written
    assert (saved / "tiny-digits.safetensors").exists() and (saved / "tiny-digits.json").exists()
    assert list(tmp_path.iterdir()) == []


def open_explorer(monkeypatch, checkpoints=None):
    if checkpoints is not None:
        monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(checkpoints))
    app = open_app()
    app.switch_page("pages/explore.py").run()
    assert not app.exception
    return app


def image_captions(app):
    return [image.caption for element in app.get("image") for image in element.proto.imgs]


def test_explorer_shows_the_shipped_generators_with_every_view(monkeypatch):
    app = open_explorer(monkeypatch)
    assert app.title[0].value == "Latent explorer"
    shipped = app.sidebar.selectbox(key="explore_shipped")
    assert shipped.options[0] == "mnist-cdcgan" and {"mnist-dcgan", "emoji-dcgan", "mnist-mlp"} <= set(shipped.options)
    assert [s.value for s in app.subheader] == ["Draw me a …", "Random samples", "Same style, another class",
                                                "Walk from one sample to another", "Your own drawing",
                                                "Invented or memorized?", "Move along the generator's main directions"]
    app.session_state["explore_shipped"] = checkpoints_dir() / "mnist-dcgan.safetensors"  # latent codes, no classes
    app.run()
    assert [s.value for s in app.subheader][:3] == ["Draw from some codes", "Random samples",
                                                    "What each latent code draws"]
    assert "explore_eye_codes" not in [b.key for b in app.button]  # its card names no codes found by eye
    captions = image_captions(app)
    assert set(captions[:24]) == {f"#{i}" for i in range(24)}  # column by column
    assert {"lerp", "slerp", "slerp, looping", "sample #0", "sample #0, moved"} <= set(captions)
    assert len([c for c in captions if c.startswith("0.")]) == 8  # eight nearest real digits with distances
    assert [d.proto.label for d in app.get("download_button")] == ["Download the GIF", "Download as a Hub folder (.zip)"]


def sample_urls(app):
    """The grid's 24 pictures, by the address Streamlit gives each: a hash of the picture's bytes."""
    return [image.url for element in app.get("image") for image in element.proto.imgs
            if re.fullmatch(r"#\d+", image.caption)]


def test_explorer_keeps_to_the_codes_a_person_found_drawing_emoji_in_one_click(monkeypatch):
    app = open_explorer(monkeypatch)
    app.session_state["explore_shipped"] = checkpoints_dir() / "emoji64-dcgan-codes.safetensors"
    app.run()
    every_code = sample_urls(app)
    assert len(every_code) == 24 and app.multiselect(key="explore_codes_20").value == []
    said = "55% of these 10 codes' samples were recognisable, 6% of the other codes'"
    assert any(said in caption.value for caption in app.caption)
    button(app, "The codes that draw recognisable images, by eye").click().run()
    assert not app.exception
    assert app.multiselect(key="explore_codes_20").value == [0, 1, 2, 6, 8, 9, 14, 15, 16, 19]
    kept = sample_urls(app)
    assert len(kept) == 24 and 0 < len(set(kept) & set(every_code)) < 24  # those already of these codes stay
    app.multiselect(key="explore_codes_20").set_value([]).run()
    assert sample_urls(app) == every_code


def test_explorer_walks_between_emoji_and_finds_their_nearest_real_ones(monkeypatch):
    app = open_explorer(monkeypatch)
    app.session_state["explore_shipped"] = checkpoints_dir() / "emoji-dcgan.safetensors"
    app.run()
    assert not app.exception and "32×32×3" in app.caption[0].value and "emoji" in app.caption[0].value
    captions = image_captions(app)
    assert {"lerp", "slerp", "sample #0", "sample #0, moved"} <= set(captions)
    assert len([c for c in captions if re.fullmatch(r"\d+\.\d\d", c)]) == 8  # eight nearest real emoji
    assert any("typically" in c.value for c in app.caption)


def test_explorer_asks_a_conditional_generator_for_a_class_in_every_view(monkeypatch):
    app = open_explorer(monkeypatch)
    app.session_state["explore_shipped"] = checkpoints_dir() / "mnist-cdcgan.safetensors"
    app.run()
    assert not app.exception
    assert [s.value for s in app.subheader][:3] == ["Draw me a …", "Random samples", "Same style, another class"]
    assert any("top to bottom: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in text for text in shown(app.caption))
    assert "one style through every class, looping" in image_captions(app)  # keep z, change the digit
    picker = app.selectbox(key="explore_class")
    assert picker.options[:3] == ["any class", "0", "1"]
    any_class = [image.proto.imgs[0].url for image in app.get("image")[:24]]
    picker.set_value(7).run()
    sevens = [image.proto.imgs[0].url for image in app.get("image")[:24]]
    assert not app.exception and sum(a != b for a, b in zip(any_class, sevens)) > 15  # most were not 7s before
    app.radio(key="explore_ends").set_value("Two seeds").run()
    app.slider(key="explore_direction_0").set_value(2.5).run()
    assert not app.exception and "sample #0, moved" in image_captions(app)


def test_explorer_controls_change_what_is_drawn(monkeypatch):
    app = open_explorer(monkeypatch)
    first_grid = app.get("image")[0].proto.imgs[0].url
    button(app, "New samples").click().run()
    assert app.number_input(key="explore_seed").value != 0
    assert app.get("image")[0].proto.imgs[0].url != first_grid
    app.selectbox(key="explore_to").set_value(5).run()
    app.slider(key="explore_steps").set_value(6).run()
    app.checkbox(key="explore_loop").check().run()
    app.slider(key="explore_direction_0").set_value(2.5).run()
    assert not app.exception
    assert "sample #0, moved" in image_captions(app)


def test_a_shared_run_shows_on_another_sessions_gallery_until_its_owner_withdraws_it():
    owner = start_tiny_run(epochs=1)
    assert wait_for(owner, lambda a: run_state(a) == "finished")
    owner.text_input(key="train_nickname").set_value("<b>Ada</b>")  # a form: the text goes with the click
    button(owner, "Share to the class gallery").click().run()
    assert any("a nickname is 1 to 24 letters" in e.value for e in owner.error)  # refused, said in one line
    owner.text_input(key="train_nickname").set_value("Ada L")  # a form: the text goes with the click
    button(owner, "Share to the class gallery").click().run()
    assert any("On the class gallery as Ada L" in text for text in shown(owner.caption))
    viewer = open_app()
    viewer.switch_page("pages/gallery.py").run()
    assert not viewer.exception and viewer.title[0].value == "Class gallery"
    names = [text for text in shown(viewer.markdown) if text.startswith("**")]
    assert "**1. Ada L**" in names
    assert len(viewer.get("image")) >= 1 and any("legible" in c.value for c in viewer.caption)
    assert not [b for b in viewer.button if b.label == "Withdraw"]  # only the owner may withdraw
    button(owner, "Withdraw from the gallery").click().run()
    viewer.run()
    assert not [text for text in shown(viewer.markdown) if "Ada L" in text]


def test_a_host_can_turn_the_gallery_off(monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_GALLERY", "off")
    app = start_tiny_run(epochs=1)
    assert wait_for(app, lambda a: run_state(a) == "finished")
    assert not [b for b in app.button if b.label == "Share to the class gallery"]
    app.switch_page("pages/gallery.py").run()
    assert any("turned off" in i.value for i in app.info)


def test_explorer_loads_a_run_of_this_session(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    app = start_tiny_run(epochs=1)
    assert wait_for(app, lambda a: run_state(a) == "finished")
    app.switch_page("pages/explore.py").run()
    assert any("No generators yet" in i.value for i in app.info)  # the empty folder says so
    app.sidebar.radio(key="explore_source").set_value("This session's runs").run()
    assert not app.exception
    assert app.sidebar.selectbox(key="explore_run").options == ["dcgan on mnist-sample · finished · step 39"]
    assert any("trained on mnist-sample for 39 steps" in text for text in shown(app.caption))
    assert set(image_captions(app)[:24]) == {f"#{i}" for i in range(24)}


def test_explorer_accepts_an_uploaded_checkpoint_and_refuses_a_pickle(monkeypatch):
    app = open_explorer(monkeypatch)
    app.sidebar.radio(key="explore_source").set_value("Upload").run()
    assert any("Upload a GAN Studio checkpoint" in i.value for i in app.info)
    pickle_upload = ("model.pt", b"\x80\x04K\x01.", "application/octet-stream")
    app.sidebar.file_uploader(key="explore_upload").set_value([pickle_upload]).run()
    assert not app.exception
    assert any("model.pt is a PyTorch pickle, which can run code" in text for text in shown(app.error))
    shipped = Path(__file__).parent.parent / "checkpoints" / "mnist-mlp"
    pair = [(shipped.with_suffix(suffix).name, shipped.with_suffix(suffix).read_bytes(), "application/octet-stream")
            for suffix in (".safetensors", ".json")]
    app.sidebar.file_uploader(key="explore_upload").set_value(pair).run()
    assert not app.exception
    assert any("MLP · 28×28×1" in text for text in shown(app.caption))
    assert set(image_captions(app)[:24]) == {f"#{i}" for i in range(24)}


def test_lesson_presets_fill_in_their_settings_and_explain_themselves():
    app = open_train_page()
    app.sidebar.selectbox(key="train_preset").select("Lesson: Discriminator too strong: the vanishing gradient").run()
    assert app.sidebar.selectbox(key="train_loss").value == "minimax"
    assert app.sidebar.number_input(key="train_d_steps").value == 3
    assert app.sidebar.number_input(key="train_lr_d").value == pytest.approx(2e-3)
    assert any("vanishes when D is sure" in c.value for c in app.sidebar.caption)


def test_show_the_code_offers_the_current_settings_as_a_script():
    app = open_train_page()
    app.sidebar.number_input(key="train_lr_g").set_value(0.0005).run()
    download = next(d for d in app.get("download_button") if d.proto.label == "Download train_gan.py")
    code = next(c for c in app.code if "def main():" in c.value)
    assert "LR_G, LR_D = 0.0005, 0.001" in code.value and "import ganlib" not in code.value
    assert download.proto.label and not app.exception


def test_digits_train_conditional_until_unticked_and_the_no_labels_lesson_brings_codes_back():
    app = open_train_page()
    app.sidebar.checkbox(key="train_conditional").uncheck().run()
    assert app.sidebar.number_input(key="train_latent_codes").value == 10  # as --no-conditional: the preset's codes
    app.sidebar.checkbox(key="train_conditional").check().run()
    assert app.sidebar.number_input(key="train_latent_codes").value == 0
    app.sidebar.selectbox(key="train_preset").select("Lesson: No labels (unconditional)").run()
    assert app.sidebar.checkbox(key="train_conditional").value is False
    assert app.sidebar.number_input(key="train_latent_codes").value == 10
    assert any("you can ask it for a 7" in c.value for c in app.sidebar.caption)
    app.sidebar.selectbox(key="train_dataset").select("emoji").run()
    app.sidebar.checkbox(key="train_conditional").check().run()  # emoji categories are labels too
    assert not app.exception and not button(app, "Start training").disabled
    app.sidebar.selectbox(key="train_preset").select("DCGAN (recommended)").run()
    assert app.sidebar.checkbox(key="train_conditional").value is False  # emoji's recipe: no labels
    app.sidebar.selectbox(key="train_dataset").select("mnist-sample").run()
    assert app.sidebar.checkbox(key="train_conditional").value is True


def test_a_run_whose_discriminator_wins_rings_the_alarm_and_two_runs_compare():
    app = open_train_page()
    app.sidebar.selectbox(key="train_preset").select("Lesson: Learning rate too high: oscillation").run()
    app.sidebar.number_input(key="train_epochs").set_value(2).run()  # 156 steps: D has won by step 60
    button(app, "Start training").click().run()
    assert wait_for(app, lambda a: run_state(a) == "finished", seconds=120)
    (alarm,) = [alarm for alarm in streamed(app)["alarms"] if "discriminator is winning outright" in alarm]
    assert "D(x) ≈ 1.00" in alarm and "Lower D's learning rate" in alarm
    assert not any(s.value == "Compare runs" for s in app.subheader)  # one run: nothing to compare yet
    app.sidebar.selectbox(key="train_preset").select("DCGAN (recommended)").run()
    for key, value in [("train_g_width", 8), ("train_d_width", 8), ("train_epochs", 1), ("train_batch_size", 128)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    button(app, "Start training").click().run()
    assert wait_for(app, lambda a: any(s.value == "Compare runs" for s in a.subheader))
    assert len(app.multiselect(key="train_compare").value) == 2
    assert streamed(app)["state"] == "finished"  # the latest run's live view stays, with its charts
    assert len(app.get("plotly_chart")) == 2  # both runs' losses and scores
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert any(c.startswith("run 1 · dcgan, BatchNorm in D, bce, lr G 0.2 / D 0.2") for c in captions)
    assert any(c.startswith("run 2 · dcgan, BatchNorm in D, bce, lr G 0.002 / D 0.001") for c in captions)

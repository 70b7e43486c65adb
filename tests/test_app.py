import time

import pytest
from streamlit.testing.v1 import AppTest


def open_app():
    return AppTest.from_file("../app.py", default_timeout=60).run()


def open_train_page():
    app = open_app()
    app.switch_page("pages/train.py").run()
    assert not app.exception
    return app


def button(app, label):
    return next(b for b in app.button if b.label == label)


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
    assert not button(app, "Start training").disabled


def test_presets_fill_in_the_notebook_settings():
    app = open_train_page()
    app.sidebar.selectbox(key="train_preset").select("Original MLP GAN (notebook)").run()
    assert app.sidebar.selectbox(key="train_family").value == "mlp"
    assert app.sidebar.number_input(key="train_lr_g").value == pytest.approx(2e-4)
    assert app.sidebar.number_input(key="train_g_width").value == 256


@pytest.mark.parametrize("widget,key,value,message", [
    ("number_input", "train_lr_g", 0.0, "lr_g must be between"),
    ("selectbox", "train_loss", "wgan-gp", "wgan-gp penalizes each sample's gradient"),
])
def test_settings_that_cannot_work_are_explained_before_the_run(widget, key, value, message):
    app = open_train_page()
    getattr(app.sidebar, widget)(key=key).set_value(value).run()
    assert [w.value for w in app.warning if message in w.value]
    assert button(app, "Start training").disabled


def test_own_images_need_an_upload_or_a_path():
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    assert any("upload a .zip of images" in w.value for w in app.warning)
    assert button(app, "Start training").disabled
    assert app.sidebar.selectbox(key="train_image_size").value == 64  # the folder dataset's natural size


def wait_for(app, condition, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.run()
        assert not app.exception
        if condition(app):
            return True
        time.sleep(0.5)
    return False


def test_start_training_runs_and_shows_grids_charts_and_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    app = open_train_page()
    for key, value in [("train_g_width", 8), ("train_d_width", 8), ("train_epochs", 2), ("train_batch_size", 128)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    button(app, "Start training").click().run()
    assert app.session_state.train_run_id
    assert any("Epoch" in m.value or "Loading" in m.value for m in app.markdown)
    assert wait_for(app, lambda a: any("finished" in m.value for m in a.markdown))
    status = next(m.value for m in app.markdown if "finished" in m.value)
    assert "Epoch 2/2" in status and "step 78" in status
    assert len(app.get("plotly_chart")) == 3
    assert len(app.get("image")) == 3  # the epoch grid, the real batch beside it, the timelapse
    scrubber = app.select_slider(key="train_scrub")
    assert scrubber.value == 1  # follows the newest grid
    scrubber.set_value(0).run()
    assert app.get("image")[0].proto.imgs[0].caption.endswith("epoch 1, step 39")
    labels = [d.proto.label for d in app.get("download_button")]
    assert labels == ["Checkpoint (.safetensors)", "Checkpoint card (.json)", "Metrics (.csv)", "Final grid (.png)",
                      "Timelapse (.gif)"]
    app.text_input(key="train_save_name").input("Tiny Digits!").run()
    button(app, "Save to checkpoints").click().run()
    assert any("Saved as tiny-digits.safetensors" in s.value for s in app.success)
    assert (tmp_path / "tiny-digits.safetensors").exists() and (tmp_path / "tiny-digits.json").exists()

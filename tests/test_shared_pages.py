"""One server, a whole class, as the pages show it: what a careless or hostile student can do from a browser."""
import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

from PIL import Image

from test_app import button, open_app, open_explorer, open_train_page, run_state, shown, wait_for
from test_fuzz_inputs import mutations

SHIPPED = Path(__file__).parent.parent / "checkpoints" / "mnist-mlp"


def card_upload(mutate):
    """The shipped MLP generator's pair, its card changed by `mutate(card)` (in place, or returning a new card),
    as the explorer's uploader takes it."""
    card = json.loads(SHIPPED.with_suffix(".json").read_text())
    card = mutate(card) or card
    return [("g.safetensors", SHIPPED.with_suffix(".safetensors").read_bytes(), "application/octet-stream"),
            ("g.json", json.dumps(card).encode(), "application/json")]


def upload_to_explorer(monkeypatch, files):
    app = open_explorer(monkeypatch)
    app.sidebar.radio(key="explore_source").set_value("Upload").run()
    app.sidebar.file_uploader(key="explore_upload").set_value(files).run()
    assert not app.exception
    return app


def test_a_memory_bomb_setting_is_explained_and_cannot_start():
    app = open_train_page()
    app.sidebar.selectbox(key="train_image_size").set_value(128).run()
    app.sidebar.radio(key="train_channels").set_value(3).run()
    for key in ("train_g_width", "train_d_width"):
        app.sidebar.number_input(key=key).set_value(1024).run()
    assert any("this run would need about" in text and "lower the G and D widths" in text for text in shown(app.warning))
    assert button(app, "Start training").disabled


def test_a_card_asking_for_a_giant_generator_is_refused_on_the_page(monkeypatch):
    def giant(card):
        card["model"].update(family="dcgan", image_size=128, channels=3, g_width=4096, d_width=4096)  # ~170 GB

    app = upload_to_explorer(monkeypatch, card_upload(giant))
    assert any("too large to load on this server" in text for text in shown(app.error))


def test_text_from_an_uploaded_card_is_shown_as_typed_not_as_markdown(monkeypatch):
    def inject(card):
        card["hardware"] = "[click me](http://evil.example) ![x](http://evil.example/x.png) **bold**"

    app = upload_to_explorer(monkeypatch, card_upload(inject))
    (description,) = [c.value for c in app.caption if "evil" in c.value]
    assert "](" not in description and "**" not in description  # no link, image or emphasis survives
    as_read = shown(app.caption)[[c.value for c in app.caption].index(description)].replace("\u200b", "")
    assert "[click me](http://evil.example)" in as_read  # a zero-width space keeps the address from linking


def test_a_cards_folder_path_is_never_followed(monkeypatch, tmp_path):
    def elsewhere(card):
        card["train"].update(dataset="folder", data_dir=str(tmp_path))

    Image.new("L", (28, 28)).save(tmp_path / "someone-elses.png")
    app = upload_to_explorer(monkeypatch, card_upload(elsewhere))
    assert any("not on this server" in info.value for info in app.info)
    assert not [c for c in app.get("image") if c.proto.imgs[0].caption.startswith("0.")]  # no neighbours shown


def test_a_conditional_cards_folder_path_never_names_its_classes(monkeypatch, tmp_path):
    """A folder's class names are its subfolders' names: a card from elsewhere must not list a server folder."""
    conditional = SHIPPED.parent / "mnist-cdcgan"
    card = json.loads(conditional.with_suffix(".json").read_text())
    card["train"].update(dataset="folder", data_dir=str(tmp_path))
    for secret in ("payroll-2026", "private-photos"):
        (tmp_path / secret).mkdir()
        Image.new("L", (28, 28)).save(tmp_path / secret / "a.png")
    card["model"]["classes"] = 2  # the folder's class count, so its names would fit
    files = [("g.safetensors", conditional.with_suffix(".safetensors").read_bytes(), "application/octet-stream"),
             ("g.json", json.dumps(card).encode(), "application/json")]
    app = upload_to_explorer(monkeypatch, files)
    assert not app.exception
    texts = " ".join([*shown(app.caption), *(str(o) for o in app.selectbox(key="explore_class").options)])
    assert "payroll" not in texts and "private" not in texts
    assert app.selectbox(key="explore_class").options == ["any class", "0", "1"]


def test_without_a_data_root_no_server_path_can_be_typed():
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    assert not [t for t in app.sidebar.text_input if t.key == "train_data_path"]


def test_paths_outside_the_data_root_are_refused_on_the_page(monkeypatch, tmp_path):
    (tmp_path / "data" / "faces").mkdir(parents=True)
    Image.new("RGB", (64, 64)).save(tmp_path / "data" / "faces" / "a.png")
    monkeypatch.setenv("GAN_STUDIO_DATA_ROOT", str(tmp_path / "data"))
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    app.sidebar.text_input(key="train_data_path").input("/tmp").run()
    assert any("outside the data folder this server allows" in text for text in shown(app.warning))
    assert button(app, "Start training").disabled
    app.sidebar.text_input(key="train_data_path").input("faces").run()
    assert not app.warning and not button(app, "Start training").disabled


def train_and_save(name):
    """A session that trains a tiny run to its end and saves the generator as `name`; returns the page."""
    app = open_train_page()
    for key, value in [("train_g_width", 8), ("train_d_width", 8), ("train_epochs", 1), ("train_batch_size", 128)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    button(app, "Start training").click().run()
    assert wait_for(app, lambda a: run_state(a) == "finished")
    app.text_input(key="train_save_name").input(name)  # a form: the name goes with the click
    button(app, "Save for the explorer").click().run()
    return app


def explorer_choices(app):
    """The explorer's generator labels for this session."""
    app.switch_page("pages/explore.py").run()
    return app.sidebar.selectbox(key="explore_shipped").options


def test_two_sessions_never_see_or_overwrite_each_others_saved_generators(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "shipped"))
    alice = train_and_save("mine")
    alice_file = Path(alice.session_state.saved_dir) / "mine.safetensors"
    alice_bytes = alice_file.read_bytes()
    bob = train_and_save("mine")
    bob_file = Path(bob.session_state.saved_dir) / "mine.safetensors"
    assert bob_file.exists() and bob_file != alice_file and alice_file.read_bytes() == alice_bytes
    assert not (tmp_path / "shipped").exists()  # the shipped folder is never written
    bob.text_input(key="train_save_name").input("bobs")  # a form: the name goes with the click
    button(bob, "Save for the explorer").click().run()
    assert [label for label in explorer_choices(alice) if "(yours)" in label] == ["mine (yours)"]
    assert [label for label in explorer_choices(bob) if "(yours)" in label] == ["bobs (yours)", "mine (yours)"]


def test_a_host_may_share_saved_generators_under_names_nobody_can_collide_on(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_SHARED_CHECKPOINTS", str(tmp_path / "shared"))
    first, second = train_and_save("digits"), train_and_save("digits")
    saved = sorted(p.name for p in (tmp_path / "shared").glob("digits-*.safetensors"))
    assert len(saved) == 2  # two saves of one name, two files
    for app in (first, second):
        assert sorted(label for label in explorer_choices(app) if "digits-" in label) == \
            [f"{Path(name).stem} (shared)" for name in saved]


def test_a_zip_that_would_decode_past_the_budget_is_named_before_the_run(monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_DATA_MEMORY_MB", "100")  # 5,000 images at 128×128×3 decode to 234 MB
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(5000):
            archive.writestr(f"{index}.png", png.getvalue())
    app = open_train_page()
    app.sidebar.selectbox(key="train_dataset").select("folder").run()
    app.sidebar.selectbox(key="train_image_size").set_value(128).run()
    for key, value in [("train_g_width", 8), ("train_d_width", 8)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    app.sidebar.file_uploader(key="train_upload").set_value(("many.zip", buffer.getvalue(), "application/zip")).run()
    button(app, "Start training").click().run()
    assert wait_for(app, lambda a: run_state(a) == "failed")
    assert any("5,000 images at 128×128×3 would take" in text and "upload fewer images" in text
               for text in shown(app.error))
    assert not open_app().exception  # the server goes on


def test_mutated_cards_on_the_explorer_page_never_raise(monkeypatch):
    rng = random.Random(7)
    app = open_explorer(monkeypatch)
    app.sidebar.radio(key="explore_source").set_value("Upload").run()
    answered = 0
    for _ in range(12):
        files = card_upload(lambda card: mutations(rng, card))
        app.sidebar.file_uploader(key="explore_upload").set_value(files).run()
        assert not app.exception
        answered += bool(app.error) or any("steps" in text for text in shown(app.caption))
    assert answered == 12  # each upload was refused in words or explored


def weights_upload(change, card_text=None):
    """The shipped MLP generator's pair with its weights changed by change(name, tensor) and the card's hash
    following, or with the card's text replaced."""
    from safetensors.torch import load_file, save

    tensors = {name: change(name, tensor) for name, tensor in load_file(SHIPPED.with_suffix(".safetensors")).items()}
    data = save(tensors)
    card = json.loads(SHIPPED.with_suffix(".json").read_text())
    card["weights_sha256"] = hashlib.sha256(data).hexdigest()
    return [("g.safetensors", data, "application/octet-stream"),
            ("g.json", (card_text or json.dumps(card)).encode(), "application/json")]


def test_hostile_uploads_and_a_degenerate_generator_are_answered_in_words_on_the_explorer(monkeypatch):
    """Each of the first two once showed a Streamlit exception box with the server's paths; the third loads (its
    weights are finite) and every view must still draw or say why not."""
    nan = weights_upload(lambda name, t: t.fill_(float("nan")) if name.endswith("weight") else t)
    nested = weights_upload(lambda name, t: t, card_text='{"a": ' + "[" * 50_000 + "]" * 50_000 + "}")
    for files, message in ((nan, "holds NaN or infinite values"), (nested, "is nested deeper than 16 levels")):
        app = upload_to_explorer(monkeypatch, files)
        assert any(message in text for text in shown(app.error)) and "/" not in "".join(shown(app.error))
    flat = weights_upload(lambda name, t: t.zero_() if t.is_floating_point() else t)  # draws one grey image
    app = upload_to_explorer(monkeypatch, flat)
    assert not app.error and any("no main directions to show" in text for text in shown(app.info))

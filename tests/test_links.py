"""Shared links: every setting of the Train page and the 2D Playground round-trips through the page's address, and a
value that does not fit is named in one line and replaced by the default."""
import re

import pytest
from streamlit.testing.v1 import AppTest

from studio.links import Setting, link_params, read_link

SETTINGS = [Setting("t_rate", float, low=0.0, high=1.0), Setting("t_size", int, (28, 32)),
            Setting("t_loss", str, ("bce", "hinge")), Setting("t_flag", bool), Setting("t_layers", list, ("a", "b"))]


def test_values_round_trip_through_the_link_and_only_changed_ones_are_written():
    state = {"t_rate": 0.00012345678, "t_size": 32, "t_loss": "bce", "t_flag": True, "t_layers": ["b"]}
    defaults = {"t_rate": 0.002, "t_size": 28, "t_loss": "bce", "t_flag": False, "t_layers": ["a", "b"]}
    params = link_params(state, SETTINGS, defaults)
    assert params == {"rate": "0.00012345678", "size": "32", "flag": "1", "layers": "b"}  # loss is the default
    values, problems = read_link(params, SETTINGS)
    assert problems == [] and values == {key: state[key] for key in ("t_rate", "t_size", "t_flag", "t_layers")}


@pytest.mark.parametrize("name,text,message", [
    ("rate", "abc", "the link's rate 'abc' is not a number; kept the default"),
    ("rate", "nan", "is not a finite number"),
    ("rate", "2", "is not between 0 and 1"),
    ("size", "29", "is not one of 28, 32"),
    ("size", "28.5", "is not a whole number"),
    ("loss", "<script>", "is not one of bce, hinge"),
    ("flag", "yes", "is not 0 or 1"),
    ("layers", "a,zz", "names 'zz', not one of a, b"),
    ("rate", "1" * 500, "is too long"),
    ("bogus", "1", "the link's setting 'bogus' is unknown here; ignored it"),
])
def test_a_value_that_does_not_fit_is_named_and_left_out(name, text, message):
    values, problems = read_link({name: text, "size": "32"} if name != "size" else {name: text}, SETTINGS)
    assert len(problems) == 1 and message in problems[0]
    assert f"t_{name}" not in values


def open_page(page, params=None):
    app = AppTest.from_file("../app.py", default_timeout=60)
    app.query_params.update(params or {})
    app.switch_page(page).run()
    assert not app.exception
    return app


def warnings(app):
    return [re.sub(r"\\(.)", r"\1", w.value) for w in app.sidebar.warning]


TRAIN_CHANGES = [("selectbox", "train_preset", "Lesson: No labels (unconditional)"),
                 ("selectbox", "train_dataset", "emoji"), ("selectbox", "train_family", "mlp"),
                 ("selectbox", "train_image_size", 64), ("selectbox", "train_loss", "hinge"),
                 ("number_input", "train_g_width", 48), ("number_input", "train_d_width", 40),
                 ("number_input", "train_lr_g", 0.0003), ("number_input", "train_lr_d", 0.0001),
                 ("number_input", "train_r1_gamma", 2.5), ("number_input", "train_batch_size", 32),
                 ("number_input", "train_epochs", 7), ("number_input", "train_max_seconds", 90.0),
                 ("number_input", "train_seed", 12345), ("number_input", "train_latent_dim", 64),
                 ("number_input", "train_beta1", 0.3), ("number_input", "train_d_steps", 2),
                 ("checkbox", "train_d_batchnorm", False), ("checkbox", "train_conditional", True)]


def test_every_train_page_setting_survives_a_shared_link_opened_in_a_new_session():
    app = open_page("pages/train.py")
    for kind, key, value in TRAIN_CHANGES:
        getattr(app.sidebar, kind)(key=key).set_value(value).run()
    app.sidebar.number_input(key="train_ema_decay").set_value(0.99).run()  # in the Advanced expander
    app.sidebar.selectbox(key="train_augment").set_value("cutout").run()
    app.sidebar.checkbox(key="train_lr_decay").check().run()
    assert not app.exception
    link = dict(app.query_params)
    assert link["preset"] == "Lesson: No labels (unconditional)" and link["lr_g"] == "0.0003"
    code = next(c for c in app.code if "lr_g=0.0003" in c.value)
    assert "?preset=Lesson" in code.value  # the Copy link popover shows the whole address
    fresh = open_page("pages/train.py", link)
    for kind, key, value in TRAIN_CHANGES:
        assert getattr(fresh.sidebar, kind)(key=key).value == value, key
    assert fresh.sidebar.number_input(key="train_ema_decay").value == 0.99
    assert fresh.sidebar.selectbox(key="train_augment").value == "cutout"
    assert fresh.sidebar.checkbox(key="train_lr_decay").value is True
    assert warnings(fresh) == []


def test_a_link_with_bad_values_names_each_in_one_line_and_keeps_the_defaults():
    app = open_page("pages/train.py", {"lr_g": "fast", "batch_size": "99999", "loss": "magic", "hack": "1",
                                       "seed": "7"})
    assert warnings(app) == ["The link's lr_g 'fast' is not a number; kept the default.",
                             "The link's batch_size '99999' is not between 1 and 4096; kept the default.",
                             "The link's loss 'magic' is not one of bce, minimax, lsgan, hinge, wgan-gp; kept the "
                             "default.", "The link's setting 'hack' is unknown here; ignored it."]
    assert app.sidebar.number_input(key="train_lr_g").value == pytest.approx(2e-3)
    assert app.sidebar.number_input(key="train_batch_size").value == 64
    assert app.sidebar.number_input(key="train_seed").value == 7  # what fits still applies
    assert dict(app.query_params) == {"seed": "7"}  # the address now says what the page does


def test_every_playground_setting_survives_a_shared_link():
    app = open_page("pages/playground.py")
    app.selectbox(key="pg_lesson").set_value("collapse").run()
    changes = [("selectbox", "pg_dataset", "grid25"), ("selectbox", "pg_loss", "hinge"),
               ("selectbox", "pg_optimizer", "sgd"), ("number_input", "pg_lr_g", 0.004),
               ("number_input", "pg_d_steps", 3), ("number_input", "pg_r1_gamma", 0.5),
               ("number_input", "pg_latent_dim", 4), ("selectbox", "pg_noise", "uniform"),
               ("number_input", "pg_hidden_layers", 2), ("number_input", "pg_g_width", 64),
               ("number_input", "pg_batch_size", 128), ("number_input", "pg_seed", 9)]
    for kind, key, value in changes:
        getattr(app.sidebar, kind)(key=key).set_value(value).run()
    app.pills(key="pg_layers").set_value(["Real points", "D's heatmap"]).run()
    assert not app.exception
    fresh = open_page("pages/playground.py", dict(app.query_params))
    assert fresh.selectbox(key="pg_lesson").value == "collapse"
    for kind, key, value in changes:
        assert getattr(fresh.sidebar, kind)(key=key).value == value, key
    assert fresh.pills(key="pg_layers").value == ["Real points", "D's heatmap"]
    broken = open_page("pages/playground.py", {"layers": "Real points,lasers", "lesson": "nope"})
    assert warnings(broken) == ["The link's layers 'Real points,lasers' names 'lasers', not one of Real points, "
                                "Generated points, D's heatmap, Warped noise grid, G's push; kept the default.",
                                "The link's lesson 'nope' is not one of healthy, collapse, collapse-fix, strong-d, "
                                "high-lr; kept the default."]


def test_a_repeated_setting_says_which_value_was_taken():
    values, problems = read_link({"size": ["28", "32"], "rate": "0.5"}, SETTINGS)
    assert values == {"t_size": 32, "t_rate": 0.5}
    assert problems == ["the link sets size 2 times; took the last one, '32'"]

"""AppTest of the 2D Playground: every control does what it says."""
import pytest
from streamlit.testing.v1 import AppTest

from ganlib.lessons import LESSONS


def open_playground():
    app = AppTest.from_file("../app.py", default_timeout=60).run()
    app.switch_page("pages/playground.py").run()
    assert not app.exception
    return app


def press(app, label):
    next(b for b in app.button if b.label == label).click().run()
    assert not app.exception


def status(app):
    """(G steps, updates) from the status line under the controls."""
    line = next(m.value for m in app.markdown if m.value.startswith("**Step"))
    steps, updates = line.split(" · ")[:2]
    return int(steps.strip("*Step ").replace(",", "")), int(updates.split()[0].replace(",", ""))


def test_the_playground_opens_on_the_healthy_lesson_with_its_figure():
    app = open_playground()
    assert app.title[0].value == "2D Playground"
    assert app.selectbox(key="pg_lesson").value == "healthy"
    assert app.sidebar.selectbox(key="pg_dataset").value == "ring8"
    assert status(app) == (0, 0)
    assert "modes 0/8" in next(m.value for m in app.markdown if m.value.startswith("**Step"))
    assert len(app.get("plotly_chart")) >= 1


def test_d_step_g_step_and_step_each_move_the_game_by_what_they_say():
    app = open_playground()
    press(app, "D step")
    assert status(app) == (0, 1)  # D moved, G did not
    press(app, "G step")
    assert status(app) == (1, 2)
    app.sidebar.number_input(key="pg_d_steps").set_value(3).run()
    press(app, "Step")
    assert status(app) == (2, 6)  # three D updates and one G update, and the game was kept, not reset
    press(app, "Reset")
    assert status(app) == (0, 0)


def test_play_trains_on_each_refresh_and_pause_stops():
    app = open_playground()
    press(app, "Play")
    assert app.session_state["pg_playing"]
    app.run()  # what the fragment's timer does in a browser
    steps, _ = status(app)
    assert steps > 1
    press(app, "Pause")
    paused_at = status(app)
    app.run()
    assert status(app) == paused_at


def test_slow_motion_takes_one_step_per_refresh():
    app = open_playground()
    app.toggle(key="pg_slow").set_value(True).run()
    press(app, "Play")  # the press's own rerun already draws one refresh
    first = status(app)[0]
    app.run()
    assert status(app)[0] == first + 1


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_each_lesson_loads_its_settings_and_explains_itself(lesson):
    app = open_playground()
    app.selectbox(key="pg_lesson").select(lesson).run()
    assert not app.exception
    expected = LESSONS[lesson].playground
    for name, value in expected.items():
        assert app.session_state[f"pg_{name}"] == value
    assert any(LESSONS[lesson].explanation in info.value for info in app.info)


def test_presenter_mode_folds_the_settings_away_and_keeps_them():
    app = open_playground()
    app.selectbox(key="pg_lesson").select("strong-d").run()
    app.toggle(key="pg_presenter").set_value(True).run()
    assert not app.exception and len(app.sidebar.selectbox) == 0 and len(app.info) == 0
    assert any(m.value.startswith("### Discriminator too strong") for m in app.markdown)
    app.toggle(key="pg_presenter").set_value(False).run()
    assert app.sidebar.selectbox(key="pg_loss").value == "minimax"
    assert app.sidebar.number_input(key="pg_d_steps").value == 10


def test_your_points_need_points_and_a_csv_is_read(tmp_path):
    app = open_playground()
    app.sidebar.selectbox(key="pg_dataset").select("points").run()
    assert "place at least two points" in app.warning[0].value.replace("\\", "")
    app.session_state["pg_placed"] = [(0.0, 0.0), (0.5, 0.5), (-0.5, 0.5)]
    app.run()
    assert not app.exception and not app.warning
    press(app, "Step")
    assert status(app) == (1, 2)
    assert "modes" not in next(m.value for m in app.markdown if m.value.startswith("**Step"))

"""The class gallery: only what an owner shares, ranked by the meter, withdrawn by its owner alone, capped by the host."""
from pathlib import Path

import pytest
from PIL import Image

from ganlib.config import ModelConfig, TrainConfig
from ganlib.errors import ConfigError
from ganlib.gallery import Gallery, checked_nickname
from ganlib.quality import QualityScore
from ganlib.runs import Run
from ganlib.events import GridSampled, Metrics, QualityScored


def run_with(run_id, session, legible=None, frechet=10.0, dataset="mnist-sample", step=100):
    run = Run(run_id, session, ModelConfig(), TrainConfig(dataset=dataset), Path("/nonexistent"), status="running")
    run.on_event(Metrics([], step, 2.5, 1000.0, 3.0, 10.0))
    run.on_event(GridSampled(2, step, Image.new("RGB", (8, 8), (step % 256, 0, 0)), True))
    run.on_event(QualityScored(2.0, step, QualityScore(frechet, 1.0, real_frechet=2.0, legible=legible)))
    return run


@pytest.mark.parametrize("nickname", ["", " ", "x" * 25, "<b>bold</b>", "**Ada**", "a\tb\x00", "[link](http://x)"])
def test_a_nickname_is_plain_and_short(nickname):
    with pytest.raises(ConfigError, match="1 to 24 letters"):
        checked_nickname(nickname)


def test_nicknames_in_any_script_are_welcome_and_spaces_are_tidied():
    assert checked_nickname("  Ana-María \n  2 ") == "Ana-María 2"
    assert checked_nickname("学生 O'Neil!") == "学生 O'Neil!"


def test_only_an_owner_shares_and_withdraws_and_the_board_ranks_by_the_meter():
    runs = {"a": run_with("a", "s1", legible=0.6), "b": run_with("b", "s2", legible=0.9),
            "c": run_with("c", "s3", frechet=3.0, dataset="emoji"), "d": run_with("d", "s4", legible=0.3),
            "e": run_with("e", "s5", legible=0.3, frechet=5.0)}  # as legible as d, closer to real
    gallery = Gallery(limit=10)
    with pytest.raises(ConfigError, match="only a run of your own"):
        gallery.share(runs["a"], "s2", "Mallory")
    entries = {key: gallery.share(run, run.session_id, f"student {key}") for key, run in runs.items()}
    board = gallery.board(runs.get)
    assert [entry.nickname for entry in board] == ["student b", "student a", "student e", "student d", "student c"]
    assert board[0].where == "Epoch 2/20 · step 100" and board[0].state == "running"
    assert board[0].grid_png.startswith(b"\x89PNG")
    with pytest.raises(ConfigError, match="only the one who shared"):
        gallery.withdraw(entries["b"], "s1")
    gallery.withdraw(entries["b"], "s2")
    assert [entry.nickname for entry in gallery.board(runs.get)] == ["student a", "student e", "student d",
                                                                     "student c"]
    gallery.share(runs["a"], "s1", "Ada")  # sharing again renames, never duplicates
    assert [entry.nickname for entry in gallery.board(runs.get)][0] == "Ada"


def test_an_entry_follows_its_run_then_keeps_the_last_grid_once_the_run_is_gone():
    run = run_with("a", "s1", legible=0.5)
    gallery = Gallery(limit=5)
    gallery.share(run, "s1", "Ada")
    first = gallery.board({"a": run}.get)[0].grid_png
    assert gallery.board({"a": run}.get)[0].grid_png is first  # the same grid is not encoded again
    run.on_event(GridSampled(3, 200, Image.new("RGB", (8, 8), (200, 0, 0)), True))
    run.on_event(QualityScored(3.0, 200, QualityScore(5.0, 1.0, legible=0.8)))
    entry = gallery.board({"a": run}.get)[0]
    assert entry.grid_png != first and entry.score.legible == 0.8
    entry = gallery.board({}.get)[0]  # the owner left and the server forgot the run
    assert entry.state == "ended" and entry.grid_png and entry.score.legible == 0.8


def test_the_host_caps_the_gallery_oldest_first_or_turns_it_off(monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_GALLERY_MAX", "3")
    gallery = Gallery()
    runs = {str(i): run_with(str(i), f"s{i}", legible=0.5) for i in range(5)}
    for key, run in runs.items():
        gallery.share(run, run.session_id, f"n{key}")
    assert sorted(entry.nickname for entry in gallery.board(runs.get)) == ["n2", "n3", "n4"]
    monkeypatch.setenv("GAN_STUDIO_GALLERY", "off")
    assert not gallery.enabled
    with pytest.raises(ConfigError, match="turned off"):
        gallery.share(runs["0"], "s0", "n0")
    monkeypatch.setenv("GAN_STUDIO_GALLERY", "on")
    monkeypatch.setenv("GAN_STUDIO_GALLERY_MAX", "many")
    with pytest.raises(ConfigError, match="GAN_STUDIO_GALLERY_MAX must be a whole number"):
        gallery.share(runs["0"], "s0", "n0")


def test_one_session_keeps_two_entries_so_it_cannot_push_the_class_off_the_board():
    """Six shares from one tab on a five-entry board once emptied it of everyone else."""
    gallery = Gallery(limit=5)
    others = {key: run_with(key, f"s-{key}", legible=0.5) for key in ("a", "b", "c")}
    for key, run in others.items():
        gallery.share(run, run.session_id, f"student {key}")
    mallory = {f"m{i}": run_with(f"m{i}", "mallory", legible=0.9) for i in range(6)}
    for key, run in mallory.items():
        gallery.share(run, "mallory", f"Mallory {key}")
    board = gallery.board({**others, **mallory}.get)
    assert sorted(entry.nickname for entry in board) == ["Mallory m4", "Mallory m5", "student a", "student b",
                                                         "student c"]  # the session's own oldest made room
    assert gallery.per_session == 2


@pytest.mark.parametrize("impostor", ["Alice", "alice", "ALICE", " Alice ", "\u0410lice", "Al\u0456ce", "AIice",
                                      "A1ice", "Alíce", "Ａｌｉｃｅ", "\u0391lice"])
def test_a_nickname_that_looks_like_anothers_is_refused(impostor):
    gallery = Gallery(limit=10)
    gallery.share(run_with("a", "s1"), "s1", "Alice")
    with pytest.raises(ConfigError, match="looks like Alice, already on the board: choose another"):
        gallery.share(run_with("b", "s2"), "s2", impostor)
    gallery.share(run_with("c", "s1"), "s1", "Alice")  # the owner may use it again for another run
    gallery.share(run_with("d", "s2"), "s2", "Alicia")  # a different name is fine
    assert sorted(entry.nickname for entry in gallery.board(lambda run_id: None)) == ["Alice", "Alice", "Alicia"]


def test_random_nicknames_are_taken_or_refused_in_words_and_never_collide_by_look():
    """Seeded random strings from letters, lookalikes, marks, controls and punctuation: each share is accepted or
    refused with a ConfigError, and no two entries of different sessions on the board look alike."""
    import random

    from ganlib.text import lookalike_key

    rng = random.Random(11)
    alphabet = "AaIl1|0OoеаоіΑΟ éé\u0301\u200b\u202e\x1b\t-'.!?<>*_[]()学"
    gallery = Gallery(limit=200, per_session=1)
    for index in range(400):
        nickname = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        try:
            gallery.share(run_with(f"r{index}", f"s{index}"), f"s{index}", nickname)
        except ConfigError:
            pass
    keys = [lookalike_key(entry.nickname) for entry in gallery.board(lambda run_id: None)]
    assert len(keys) == len(set(keys)) > 10

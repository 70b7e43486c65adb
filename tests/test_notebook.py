"""The example notebook runs headless, top to bottom, and shows what it promises: so it never rots."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "ganlib_in_a_notebook.ipynb"


def outputs_of(cell):
    """Every output's data by MIME type, and printed text, of one executed cell."""
    shown = {}
    for output in cell.get("outputs", []):
        shown.update(output.get("data", {}))
        if output.get("output_type") == "stream":
            shown.setdefault(output["name"], "")
            shown[output["name"]] += output["text"]
    return shown


def test_the_example_notebook_runs_and_shows_its_pictures(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    notebook.cells.insert(parameters + 1, nbformat.v4.new_code_cell("seconds = 4  # CI: a short run"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "checkpoints").symlink_to(ROOT / "checkpoints")  # the notebook's ../checkpoints
    monkeypatch.delenv("PYTHONPATH", raising=False)  # ganlib comes from the README's install, as for a new user
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path / "docs")}}).execute()
    shown = [outputs_of(cell) for cell in notebook.cells if cell.cell_type == "code"]
    assert not [cell for cell in notebook.cells if any(o.get("output_type") == "error" for o in cell.get("outputs", []))]
    run, chart, grid, quality, sample, walk, score, projection, walk_from_drawing = shown[2:]
    assert "<TrainingRun finished" in run["text/plain"] and "legible" in run["text/plain"]
    assert len(list((tmp_path / "docs" / "runs").glob("dcgan-mnist-sample-*/checkpoint.safetensors"))) == 1
    assert "application/vnd.plotly.v1+json" in chart or "text/html" in chart
    assert grid["image/png"] and sample["image/png"]
    assert "'legible'" in quality["text/plain"] and "'real_frechet'" in quality["text/plain"]
    assert walk["text/html"].startswith('<img src="data:image/gif;base64,')
    assert "legible" in score["stdout"] and "Fréchet" in score["stdout"]
    assert projection["image/png"] and "class 7" in walk_from_drawing["stdout"]
    assert walk_from_drawing["text/html"].startswith('<img src="data:image/gif;base64,')

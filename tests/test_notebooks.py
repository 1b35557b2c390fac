"""The notebooks under docs/notebooks run from top to bottom, and show what they promise: tables and pictures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"
SRC = Path(__file__).resolve().parents[1] / "src"


def run(path: Path, tmp_path: Path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except (RuntimeError, OSError) as exc:  # no kernel can start here (not an error in the notebook)
        if "kernel" in str(exc).lower() and "CellExecutionError" not in type(exc).__name__:
            pytest.skip(f"no Jupyter kernel could start: {exc}")
        raise
    return nb


def outputs(cell) -> dict:
    out = {}
    for o in cell.get("outputs", []):
        out.update(o.get("data", {}))
        if o.get("output_type") == "error":
            out["error"] = o
    return out


def test_first_hour_fits_a_dataframe_plots_onto_an_axes_and_shows_a_plan(tmp_path, monkeypatch):
    nb = run(NOTEBOOKS / "first_hour.ipynb", tmp_path, monkeypatch)
    cells = {c.source.splitlines()[-1]: outputs(c) for c in nb.cells if c.cell_type == "code" and c.source}
    assert not any("error" in o for o in cells.values())
    fit = cells["fit"]
    assert "<table" in fit["text/html"] and "Fit: chinchilla" in fit["text/html"]
    assert "Figure size" not in fit.get("text/plain", "")
    assert "image/png" in cells['axes[1].set_title("... and 100× beyond them");']  # the user's own figure
    own = cells["sl.plot(fit, figsize=(6, 4.5), dpi=80)"]
    assert "image/png" in own  # shown as the picture, not as <Figure size ...>
    plan = cells["frontier"]
    assert "<table" in plan["text/html"] and "allocations" in plan["text/html"]
    assert "<table" in cells['frontier.to_pandas()[["flops", "params", "tokens", "tokens_per_param", "loss"]]'][
        "text/html"]
    assert "prediction" in cells['fit.predict(params="70B", tokens="1.4T")']["text/html"]

"""Optional packages missing at use: one line naming the extra to install, from the command line and from Python."""

from __future__ import annotations

import sys

import pytest

import scalinglaws as sl
from scalinglaws.errors import MissingDependency, ScalingLawsError, install_hint, require


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "fit.json"
    runs = sl.load_dataset("chinchilla_epoch").where("epoch_excluded=false")
    sl.fit(runs, "chinchilla").save(path)
    return path


def block(monkeypatch, *names: str) -> None:
    """Make `import NAME` fail as it does where the package is not installed."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_the_hint_names_the_extra():
    assert install_hint("matplotlib.figure") == "pip install 'scalinglaws[plot]'"
    assert install_hint("duckdb") == "pip install 'scalinglaws[store]'"
    assert install_hint("torch") == "pip install torch"


def test_require_raises_an_import_error_that_is_also_a_scalinglaws_error(monkeypatch):
    block(monkeypatch, "matplotlib")
    with pytest.raises(ImportError) as info:
        require("matplotlib.figure", "drawing a figure")
    assert isinstance(info.value, (MissingDependency, ScalingLawsError))
    assert str(info.value) == ("drawing a figure needs matplotlib, which is not installed. Install it with "
                               "pip install 'scalinglaws[plot]'")


def test_plot_without_matplotlib_is_one_error_line(cli, fit_file, tmp_path, monkeypatch):
    block(monkeypatch, "matplotlib")
    code, out, err = cli("plot", str(fit_file), "-o", str(tmp_path / "fit.png"))
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("Error: drawing a figure needs matplotlib") and "scalinglaws[plot]" in err
    assert "Traceback" not in err and not (tmp_path / "fit.png").exists()


def test_python_plot_without_matplotlib_raises_import_error(fit_file, monkeypatch):
    block(monkeypatch, "matplotlib")
    with pytest.raises(MissingDependency, match=r"scalinglaws\[plot\]"):
        sl.plot(sl.Fit.load(fit_file))


def test_report_without_plotly(cli, fit_file, tmp_path, monkeypatch):
    block(monkeypatch, "plotly")
    code, _, err = cli("report", str(fit_file), "-o", str(tmp_path / "r.html"))
    assert code == 1 and "Error: the HTML report needs plotly" in err and "scalinglaws[plot]" in err


def test_to_pandas_without_pandas(monkeypatch):
    runs = sl.load_dataset("chinchilla_epoch")
    block(monkeypatch, "pandas")
    with pytest.raises(MissingDependency, match=r"scalinglaws\[pandas\]"):
        runs.to_pandas()


def test_store_without_duckdb(cli, tmp_path, monkeypatch):
    block(monkeypatch, "duckdb")
    code, _, err = cli("fit", f"store:{tmp_path / 'x.duckdb'}")
    assert code == 1 and "Error: the run store needs duckdb" in err and "scalinglaws[store]" in err


def test_csv_without_pyarrow(cli, tmp_path, monkeypatch):
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,loss\n1e8,2e9,3.1\n")
    block(monkeypatch, "pyarrow")
    code, _, err = cli("fit", str(path))
    assert code == 1 and "needs pyarrow" in err and "pip install pyarrow" in err


def test_an_unguarded_optional_import_still_gets_the_hint(cli, monkeypatch):
    import scalinglaws.fitting as fitting

    def broken(*args, **kwargs):
        import pandas  # noqa: F401

    block(monkeypatch, "pandas")
    monkeypatch.setattr(fitting, "fit", broken)
    code, _, err = cli("fit", "dataset:chinchilla_epoch")
    assert code == 1 and err.startswith("Error: this command needs pandas") and "scalinglaws[pandas]" in err

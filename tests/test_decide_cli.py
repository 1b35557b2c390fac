"""The decision commands: fit --law auto then predict, backtest, compare, downstream, testtime; their JSON
contracts and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

EPOCH = "dataset:chinchilla_epoch"


@pytest.fixture
def crossing_csv(tmp_path):
    """Two recipes whose power laws cross at 1e20 FLOP (see test_decide_compare.py)."""
    rng = np.random.default_rng(0)
    lines = ["run,flops,loss,family"]
    for fam, e, a in (("ref", 2.0, 100.0), ("new", 1.9, 200.0)):
        for i, c in enumerate(np.geomspace(1e17, 1e21, 12)):
            lines.append(f"{fam}{i},{c:.6g},{(e + a * c ** -0.15) * np.exp(rng.normal(0, 0.002)):.6f},{fam}")
    path = tmp_path / "recipes.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def samples_csv(tmp_path):
    rng = np.random.default_rng(1)
    p = np.where(rng.random(200) < 0.2, 0.0, rng.beta(0.3, 3.0, 200))
    c = rng.binomial(100, p)
    path = tmp_path / "samples.csv"
    path.write_text("problem,samples,correct\n" + "".join(f"p{i},100,{v}\n" for i, v in enumerate(c)))
    return str(path)


def test_fit_auto_then_predict(cli, tmp_path):
    fit_file = tmp_path / "auto.json"
    code, out, err = cli("fit", EPOCH, "--law", "auto", "--cuts", "2", "-o", str(fit_file))
    assert code == 0, err
    assert out.startswith("law chosen by backtest for final points of 245 runs in params and tokens (2 cuts along "
                          "flops)") and "lowest backtested error" in out
    rec = json.loads(fit_file.read_text())
    sel = rec["extra"]["selection"]
    assert sel["winner"] in {c["label"] for c in sel["candidates"]} and rec["law"] == sel["winner"].split("@")[0]
    code, out, err = cli("predict", str(fit_file), "--at", "params=7e10", "--at", "tokens=1.4e12", "--json")
    assert code == 0, err
    pred = json.loads(out)["predictions"][0]["prediction"]
    assert 1.8 < pred < 2.2


@pytest.fixture(scope="module")
def curve_csvs(tmp_path_factory):
    """One run's training curve, and three curves of one model size, as CSV files (every fourth checkpoint)."""
    import scalinglaws as sl

    r = sl.load_dataset("multipower_lr_curves")
    folder = tmp_path_factory.mktemp("curves")
    out = {}
    size = "25M_cosine_24000|25M_constant_24000|25M_wsd_20000_24000"
    for name, runs in (("one", "25M_cosine_24000"), ("size", size)):
        sub = r.where(f"run={runs}")
        sub = sub.take(np.arange(0, len(sub), 4))
        lines = ["run,step,lr,loss"] + [f"{a},{b:g},{c:.6g},{d:.6f}" for a, b, c, d in
                                        zip(sub["run"], sub["step"], sub["lr"], sub["loss"])]
        out[name] = folder / f"{name}.csv"
        out[name].write_text("\n".join(lines) + "\n")
    return {k: str(v) for k, v in out.items()}


@pytest.mark.parametrize("case, says", [
    ("one", "law chosen by backtest for one run's training curve of 43 checkpoints (2 cuts within each curve along "
            "step)"),
    ("size", "law chosen by backtest for 3 training curves of one model size (2 cuts within each curve along step)"),
])
def test_fit_auto_on_training_curves(cli, curve_csvs, case, says, tmp_path):
    code, out, err = cli("fit", curve_csvs[case], "--law", "auto", "--cuts", "2", "--starts", "32", "-o",
                         str(tmp_path / "fit.json"))
    assert code == 0, err
    assert " ".join(out.split()).startswith(says)
    rec = json.loads((tmp_path / "fit.json").read_text())
    assert rec["law"] in ("lr_annealing", "multipower") and rec["extra"]["selection"]["by"] == "step"


def test_fit_auto_on_a_ladder_along_one_axis(cli, crossing_csv):
    code, out, err = cli("fit", crossing_csv, "--law", "auto", "--where", "family=ref", "--cuts", "2", "--json")
    assert code == 0, err
    sel = json.loads(out)["extra"]["selection"]
    assert sel["shape"]["kind"] == "line" and sel["headline"].startswith(
        "law chosen by backtest for a ladder of 12 runs along flops alone (2 cuts along flops): ")


def test_by_and_cuts_belong_to_auto(cli):
    code, out, err = cli("fit", EPOCH, "--law", "power", "--cuts", "2")
    assert code == 1 and err.strip() == ("Error: --cuts applies to --law auto, which backtests the candidate laws; "
                                         "leave it out with a named law, or use `scalinglaws backtest`")


def test_backtest_json_and_table(cli):
    code, out, err = cli("backtest", EPOCH, "--law", "chinchilla", "--cuts", "2", "--bootstrap", "30", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["by"] == "flops" and len(rec["cuts"]) == 2 and rec["coverage"] is not None
    assert rec["calibration"] == "default" and rec["reliability"]["rows"] == sum(c["test_rows"] for c in rec["cuts"])
    rows = rec["cuts"][0]["rows"]
    assert len(rows["run"]) == rec["cuts"][0]["test_rows"]
    assert {"observed", "prediction", "lower", "upper", "extrapolation", "beyond_cut", "pit"} <= set(rows)
    code, out, err = cli("backtest", EPOCH, "--law", "chinchilla", "--cuts", "2", "--bootstrap", "30",
                         "--calibration", "none")
    assert code == 0, err
    assert "95% cov." in out and "calibration none" in out and "inside their 50% / 80% / 95% intervals" in out
    code, out, _ = cli("backtest", EPOCH, "--law", "power", "--by", "params", "--cut", "1e9")
    assert code == 0 and "mean held-out error" in out and "1.000e+09" in out


def test_backtest_all_ranks_the_laws(cli, crossing_csv):
    code, out, err = cli("backtest", crossing_csv, "--law", "all", "--where", "family=ref", "--cuts", "2", "--json")
    assert code == 0, err
    rec = json.loads(out)
    labels = [b["label"] for b in rec["ranking"]]
    assert "power" in labels and rec["best"] == labels[0]
    # flops is the only scale of this table: a ladder along one axis, where only the laws of one input compete
    assert rec["shape"]["kind"] == "line" and set(labels) <= {"power", "bnsl", "bnsl2"}


def test_compare_reports_the_crossover(cli, crossing_csv):
    code, out, err = cli("compare", crossing_csv, "--by", "family", "--at", "flops=1e22", "--law", "power",
                         "--bootstrap", "60", "--json")
    assert code == 0, err
    pair = json.loads(out)["pairs"][0]
    cross = pair["crossovers"][0]
    assert cross["lower"] <= 1e20 <= cross["upper"]
    code, out, _ = cli("compare", crossing_csv, "--at", "flops=1e22", "--law", "power", "--bootstrap", "30")
    assert code == 0 and "crossover at flops" in out and "effective-compute multiplier" in out


def test_downstream_on_pythia(cli):
    code, out, err = cli("downstream", "dataset:pythia_evals", "--where", "shots=0", "--via", "lambada_openai__loss",
                         "--task", "piqa__acc", "--train", "params<2e9", "--train", "step>=1000", "--loss-where",
                         "step=143000", "--test", "params>5e9", "--test", "step=143000", "--bootstrap", "40",
                         "--json")
    assert code == 0, err
    rec = json.loads(out)
    task = rec["tasks"][0]
    assert task["status"] == "forecast" and len(task["forecasts"]) == 4 and task["mean_abs_error"] < 0.03
    code, out, _ = cli("downstream", "dataset:pythia_evals", "--where", "shots=0", "--via", "lambada_openai__loss",
                       "--task", "sciq__acc", "--train", "params<2e9", "--at", "params=6.9e9", "--at",
                       "tokens=3e11", "--bootstrap", "30")
    assert code == 0 and "sciq__acc" in out and "forecast" in out


def test_testtime_table_and_json(cli, samples_csv):
    code, out, err = cli("testtime", samples_csv, "--k", "1,100,1000", "--fpr", "0.05", "--sample-cost", "0.001",
                         "--bootstrap", "30", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert [r["k"] for r in rec["forecast"]] == [1, 100, 1000] and rec["best"]["k"] >= 1
    assert rec["ceiling"]["accuracy"] < rec["ceiling"]["coverage"]
    assert rec["method"]["parameters"]["source"].startswith("bootstrap over problems (30 draws)")
    code, out, _ = cli("testtime", samples_csv, "--k", "1,1000", "--bootstrap", "20")
    assert code == 0 and "beyond the samples measured" in out


@pytest.mark.parametrize("args, message", [
    (("compare", "dataset:porian_isoflop", "--at", "flops=1e21", "--group", "cosine", "--group",
      "tuned_no_decay"), "--group cosine: no runs have family=cosine"),
    (("compare", EPOCH, "--at", "flops=1e21"), "a comparison needs two or more groups"),
    (("downstream", "dataset:pythia_evals", "--via", "lambada_openai__loss", "--task", "logiqa__acc",
      "--where", "shots=0"), "logiqa__acc stays within noise of chance"),
    (("downstream", "dataset:pythia_evals", "--via", "lambada_openai__loss", "--task", "nope__acc"),
     "column 'nope__acc' is missing"),
    (("backtest", EPOCH, "--by", "family"), "--by family: column 'family' holds labels"),
    (("fit", EPOCH, "--law", "auto", "--where", "flops>1e22"), "at least 3 scales"),
])
def test_errors_are_one_line(cli, args, message):
    code, out, err = cli(*args)
    assert code == 1
    assert err.startswith("Error: ") and message in err and err.count("\n") == 1


def test_group_with_one_run_is_an_error(cli, crossing_csv, tmp_path):
    text = open(crossing_csv).read().splitlines()
    lonely = tmp_path / "lonely.csv"
    lonely.write_text("\n".join([t for t in text if not t.startswith("new")] + [text[-1]]) + "\n")
    code, _, err = cli("compare", str(lonely), "--at", "flops=1e21", "--law", "power")
    assert code == 1 and "group family=new has only 1 run" in err

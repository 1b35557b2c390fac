"""The command line: the main job, the JSON contracts scripts rely on, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import scalinglaws as sl

EPOCH = {"E": 1.8172, "A": 477.8, "B": 2143.4, "alpha": 0.34731, "beta": 0.36717}
SOURCE = "dataset:chinchilla_epoch?epoch_excluded=false"


def test_demo_prints_the_fit_and_the_plan(cli):
    code, out, err = cli("demo", "--bootstrap", "200")
    assert code == 0, err
    assert "alpha" in out and "0.34731" in out and "95% CI" in out
    assert "tokens per parameter" in out and "Next:" in out


def test_demo_json_is_the_fit_record(cli):
    code, out, _ = cli("demo", "--json", "--bootstrap", "0")
    rec = json.loads(out)
    assert set(rec["params"]) == set(EPOCH)
    for k, v in EPOCH.items():
        assert rec["params"][k] == pytest.approx(v, rel=2e-4)
    assert rec["objective"] <= 0.00101827403 and rec["converged"] is True


def test_fit_json_contract_and_output_file(cli, tmp_path):
    out_file = tmp_path / "fit.json"
    code, out, err = cli("fit", SOURCE, "--law", "chinchilla", "--bootstrap", "200", "--level", "0.9", "--seed",
                         "2", "--json", "-o", str(out_file))
    assert code == 0, err
    rec = json.loads(out)
    for key in ("law", "params", "objective", "n_points", "converged", "ci"):
        assert key in rec
    assert rec["law"] == "chinchilla" and rec["n_points"] == 240 and rec["seed"] == 2
    assert rec["bootstrap"]["level"] == 0.9
    assert all(lo < rec["params"][k] < hi for k, (lo, hi) in rec["ci"].items())
    assert json.loads(out_file.read_text()) == rec


def test_fit_table_on_terminal_style_output(cli):
    code, out, _ = cli("fit", SOURCE, "--law", "power", "--input", "x=flops", "--loss", "l2")
    assert code == 0 and "power" in out and "objective" in out and "converged" in out


def test_predict_contract(cli, tmp_path):
    fit_file = tmp_path / "fit.json"
    assert cli("fit", SOURCE, "--bootstrap", "200", "-o", str(fit_file))[0] == 0
    code, out, err = cli("predict", str(fit_file), "--at", "params=7e10,1e9", "--at", "tokens=1.4e12", "--json")
    assert code == 0, err
    preds = json.loads(out)["predictions"]
    assert [p["params"] for p in preds] == [7e10, 1e9]
    for p in preds:
        assert p["lower"] < p["prediction"] < p["upper"]
    targets = tmp_path / "targets.csv"
    targets.write_text("params,tokens\n7e10,1.4e12\n1e9,1.4e12\n")
    code, out2, _ = cli("predict", str(fit_file), "--data", str(targets), "--json")
    assert code == 0
    assert [p["prediction"] for p in json.loads(out2)["predictions"]] == [p["prediction"] for p in preds]
    code, out, _ = cli("predict", str(fit_file), "--at", "params=7e10", "--at", "tokens=1.4e12")
    assert code == 0 and "prediction interval" in out


def test_laws_listing(cli):
    code, out, _ = cli("laws", "--json")
    names = [law["name"] for law in json.loads(out)["laws"]]
    assert {"power", "chinchilla", "kaplan", "skaling", "overtrain", "data_constrained", "farseer",
            "bnsl"} <= set(names)
    code, out, _ = cli("laws")
    assert code == 0 and "Hoffmann" in out


ERRORS = [
    (("fit", "missing.csv"), "Error: file not found: missing.csv"),
    (("fit", SOURCE, "--law", "chinchila"), "Error: unknown law 'chinchila'"),
    (("fit", SOURCE, "--bootstrap", "-3"), "Error: --bootstrap must be a non-negative integer, got -3"),
    (("fit", SOURCE, "--level", "95"), "Error: --level must be a number between 0 and 1"),
    (("fit", SOURCE, "--where", "nope=1"), "Error: filter 'nope=1': column 'nope' is missing"),
    (("fit", SOURCE, "--map", "tokens"), "Error: --map 'tokens' is not NEW=OLD"),
    (("fit", SOURCE, "--param", "alpha=x"), "Error: --param alpha=x: write NAME=LO:HI"),
    (("predict", "nofit.json", "--at", "params=1"), "Error: fit file not found: nofit.json"),
]


@pytest.mark.parametrize("args,message", ERRORS, ids=[" ".join(a[:2]) + "…" + a[-1] for a, _ in ERRORS])
def test_errors_are_one_line_and_exit_1(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*args, "-o", "out.json") if args[0] == "fit" else cli(*args)
    assert code == 1
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out.json").exists()  # nothing half-written


def test_every_json_output_says_what_it_is(cli, tmp_path, monkeypatch):
    """Each command's --json output begins with the format of the record it prints (records.py)."""
    monkeypatch.chdir(tmp_path)
    assert cli("fit", SOURCE, "-o", "fit.json")[0] == 0
    commands = [
        (("fit", SOURCE, "--law", "chinchilla"), "fit"),
        (("predict", "fit.json", "--at", "params=7e10", "--at", "tokens=1.4e12"), "predictions"),
        (("plan", "fit.json", "--flops", "1e22"), "plan"),
        (("backtest", SOURCE, "--law", "chinchilla", "--cuts", "2"), "backtest"),
        (("flops", "--preset", "llama2-7b", "--tokens", "2e12"), "accounting"),
        (("hparams", "--params", "7e9", "--tokens", "1.4e12"), "hparams"),
        (("laws",), "laws"),
        (("datasets",), "datasets"),
        (("datasets", "chinchilla_epoch"), "dataset"),
        (("plot", "fit.json", "--kind", "list"), "figure_kinds"),
        (("plot", "fit.json", "--kind", "residuals"), "figures"),
        (("ingest", "dataset:chinchilla_epoch", "fit.json", "--store", "s.duckdb"), "ingest"),
        (("store", "--store", "s.duckdb"), "store_info"),
        (("store", "--store", "s.duckdb", "--fit", "1", "-o", "again.json"), "stored_fit"),
    ]
    for args, kind in commands:
        code, out, err = cli(*args, "--json")
        assert code == 0, (args, err)
        assert list(json.loads(out))[0] == "format" and json.loads(out)["format"] == f"scalinglaws.{kind}/1", args
    assert json.loads(cli("store", "--store", "s.duckdb", "--json")[1])["store_format"] == "scalinglaws.store/1"


@pytest.mark.parametrize("command", ["plot", "report"])
def test_json_that_is_no_record_of_this_version_is_refused_in_one_line(cli, tmp_path, command):
    files = {"unknown.json": ({"format": "scalinglaws.nothing/1", "law": "x"},
                              "Error: unknown.json has format 'scalinglaws.nothing/1', which no command of this "
                              "version writes"),
             "bare.json": ({"law": "chinchilla", "cuts": [], "score": 0.01},
                           "Error: bare.json holds a JSON object with no 'format' field (keys: law, cuts, score)")}
    for name, (record, message) in files.items():
        (tmp_path / name).write_text(json.dumps(record))
        out = tmp_path / ("p.png" if command == "plot" else "r.html")
        code, _, err = cli(command, str(tmp_path / name), "-o", str(out))
        assert code == 1 and err.startswith(message), err
        assert "--json with this version" in err and err.count("\n") == 1 and "Traceback" not in err
        assert not out.exists()


def test_predict_argument_errors(cli, tmp_path):
    fit_file = tmp_path / "fit.json"
    cli("fit", SOURCE, "-o", str(fit_file))
    code, _, err = cli("predict", str(fit_file))
    assert code == 1 and "either with --at" in err
    code, _, err = cli("predict", str(fit_file), "--at", "params=big", "--at", "tokens=1e12")
    assert code == 1 and err.startswith("Error: --at params=big: not a number")
    code, _, err = cli("predict", str(fit_file), "--at", "params=1e9")
    assert code == 1 and "missing: tokens" in err


def test_console_script_runs_as_a_process():
    """The installed entry point: exit codes and stderr as a shell sees them."""
    done = subprocess.run([sys.executable, "-m", "scalinglaws", "fit", "missing.csv"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("Error: file not found") and not done.stdout
    done = subprocess.run([sys.executable, "-m", "scalinglaws", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("scalinglaws ")


def test_version_is_answered_before_the_toolkit_loads():
    """`--version` imports neither typer nor numpy and registers no command: a script asking it waits for nothing."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "scalinglaws", "--version"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.startswith("scalinglaws ")
    loaded = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert not [m for m in loaded if m.split(".")[0] in ("numpy", "typer", "click", "rich", "scipy")], loaded
    assert "scalinglaws.cli.commands" not in loaded


def test_unexpected_errors_show_a_short_traceback(cli, monkeypatch):
    import scalinglaws.fitting.engine as engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "fit", broken)
    monkeypatch.setattr("scalinglaws.fitting.fit", broken)
    code, _, err = cli("fit", SOURCE)
    assert code == 2 and "RuntimeError: boom" in err and "Internal error" in err
    assert err.count("File ") <= 4  # a few frames, no locals


def test_import_is_light_and_the_api_resolves():
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import scalinglaws"], capture_output=True,
                          text=True)
    heavy = [line for line in done.stderr.splitlines() if any(m in line for m in ("numpy", "scipy", "pandas",
                                                                                   "matplotlib", "pyarrow"))]
    assert heavy == []  # numpy and friends load on first use, not on import
    import scalinglaws as sl

    for name in sl.__all__:
        assert getattr(sl, name) is not None


def test_long_work_reports_progress_and_json_stays_quiet(cli):
    from scalinglaws.decide import backtest, compare_laws

    calls = []
    backtest("dataset:chinchilla_epoch", "chinchilla", cuts=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    seen = []
    compare_laws("dataset:chinchilla_epoch", candidates=["power", "chinchilla"], priors=None, cuts=2,
                 progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2, 2) and seen[0] == (0, 2)
    code, out, err = cli("backtest", "dataset:chinchilla_epoch", "--cuts", "2", "--json")
    assert code == 0 and err == "" and json.loads(out)["cuts"]


def test_output_into_a_missing_folder_is_refused_before_any_work(cli, tmp_path):
    code, _, err = cli("fit", SOURCE, "-o", str(tmp_path / "nodir" / "fit.json"))
    assert code == 1 and err.startswith(f"Error: -o {tmp_path / 'nodir' / 'fit.json'}: the folder")
    assert "Traceback" not in err and not (tmp_path / "nodir").exists()


def test_every_command_shows_its_help(cli, monkeypatch):
    from scalinglaws.cli import commands  # noqa: F401  (registers every command)
    from scalinglaws.cli.app import app

    monkeypatch.setenv("COLUMNS", "200")
    names = [c.name for c in app.registered_commands]
    assert {"fit", "predict", "plan", "backtest", "compare", "downstream", "plot", "report"} <= set(names)
    for name in names:
        code, out, err = cli(name, "--help")
        assert code == 0 and "Usage" in out and not err, name


def test_fit_flags_are_one_group_shared_by_every_fitting_command(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    shared = ("--loss", "--delta", "--asymmetry", "--weights", "--transient", "--bootstrap", "--level", "--seed",
              "--starts", "--input", "--target", "--where", "--map", "--json")
    for name in ("fit", "backtest", "compare"):
        out = cli(name, "--help")[1]
        assert all(flag in out for flag in shared), name
    assert "[default: 200]" in cli("compare", "--help")[1]  # a command may change a flag's default


def test_library_errors_naming_an_argument_are_said_as_its_flag(cli):
    from scalinglaws.cli.options import flag_message
    from scalinglaws.errors import ArgumentError

    code, _, err = cli("backtest", SOURCE, "--seed", "-1")
    assert code == 1 and err == "Error: --seed must be a non-negative integer, got -1\n"
    code, _, err = cli("fit", SOURCE, "--weights", "nope")
    assert code == 1 and err.startswith("Error: --weights nope: column 'nope' is missing")
    assert flag_message(ArgumentError("rename", "rename 'x' is not NEW=OLD")) == "--map 'x' is not NEW=OLD"
    assert flag_message(ArgumentError("level", "the level is off")) == "the level is off"  # not at the start


def test_a_law_with_published_values_fixed_is_named_listed_accepted_and_marked_fixed(cli, tmp_path):
    code, out, err = cli("fit", "dataset:chinchilla_epoch?params<1e9", "--law", "chinchilla@besiroglu2024",
                         "--bootstrap", "20", "-o", str(tmp_path / "p.json"))
    assert code == 0, err
    assert out.startswith("chinchilla@besiroglu2024  L = E")
    rows = {line.split()[0]: line for line in out.splitlines()[1:7]}
    assert rows["alpha"].split()[-1] == "fixed" and rows["beta"].split()[-1] == "fixed" and "[" in rows["E"]
    assert "fixed, not fitted: alpha, beta at besiroglu2024's published values" in out
    fit = sl.Fit.load(tmp_path / "p.json")
    assert fit.label == "chinchilla@besiroglu2024" and fit.fixed == ("alpha", "beta") and fit.law == "chinchilla"
    assert "alpha = 0.3478       fixed" in fit.summary()
    assert fit.to_pandas().set_index("parameter").loc["alpha", "fixed"]
    code, out, _ = cli("laws", "--json")
    names = [r["name"] for r in json.loads(out)["laws"]]
    assert "chinchilla@besiroglu2024" in names and "chinchilla" in names
    code, _, err = cli("fit", "dataset:chinchilla_epoch", "--law", "chinchilla@nope")
    assert code == 1 and "chinchilla@besiroglu2024, chinchilla@hoffmann2022" in err


def test_every_command_has_examples_whose_flags_exist(cli, monkeypatch):
    import re
    import shlex

    from scalinglaws.cli import commands  # noqa: F401  (registers every command)
    from scalinglaws.cli.app import app
    from scalinglaws.cli.examples import EXAMPLES

    monkeypatch.setenv("COLUMNS", "250")
    names = [(info.name,) for info in app.registered_commands]
    for group in app.registered_groups:
        names.append((group.name,))
        names += [(group.name, info.name) for info in group.typer_instance.registered_commands]
    assert ("ladder", "sample") in names
    for name in names:
        key = " ".join(name)
        code, out, _ = cli(*name, "--help")
        assert "Examples:" in out, key
        out = out.split("Examples:")[0]  # the flags the command declares, not those its examples write
        for line in EXAMPLES[key]:
            words = shlex.split(line)
            assert words[1] == name[0] or words[1] in ("fit", "emergence"), line
            if words[1:1 + len(name)] != list(name) or len(name) == 1 and name[0] == "ladder":
                continue
            for flag in (w.split("=")[0] for w in words if w.startswith("--")):
                assert re.search(rf"{re.escape(flag)}\b", out), f"{key}: {flag} is no flag of the command"
    code, out, _ = cli("ladder", "--help")
    assert "'scalinglaws[train]'" in out
    code, out, _ = cli("ladder", "run", "--help")
    assert "'scalinglaws[ray]'" in out


def test_shell_completion_script_and_answers(cli, monkeypatch):
    code, out, _ = cli("completion", "bash")
    assert code == 0 and "_SCALINGLAWS_COMPLETE=complete_bash" in out and "complete -o default" in out
    code, _, err = cli("completion", "tcsh")
    assert code == 1 and err.startswith("Error: completion: unknown shell 'tcsh'")
    import subprocess
    import sys

    env = {**__import__("os").environ, "_SCALINGLAWS_COMPLETE": "complete_bash", "COMP_WORDS": "scalinglaws pl",
           "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-c", "import sys; from scalinglaws.cli import main; sys.exit(main())"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert set(done.stdout.split()) == {"plan", "plot"}, done.stderr


def test_piped_tables_never_cut_a_number_short():
    # Piped output has no terminal width: a table wider than 80 columns must print whole, not end cells with "…".
    from rich.table import Table

    from scalinglaws.cli.common import console

    table = Table(box=None)
    for i in range(8):
        table.add_column(f"column {i}")
    table.add_row(*[f"{12345.678901 * (i + 1):.6f} [{i}.123456, {i}.987654]" for i in range(8)])
    out = console()
    with out.capture() as captured:
        out.print(table)
    text = captured.get()
    assert "…" not in text
    assert "98765.431208 [7.123456, 7.987654]" in text


def test_a_published_prior_label_is_a_law_everywhere_a_law_is_taken(cli):
    """'chinchilla@besiroglu2024' in sl.get_law, sl.fit, sl.backtest, fit_auto's candidates and the CLI's backtest:
    the same fit of chinchilla with the published exponents held."""
    data = "dataset:chinchilla_epoch?params<1e9"
    law = sl.get_law("chinchilla@besiroglu2024")
    assert law.name == "chinchilla@besiroglu2024" and law.n_params == 3
    f = sl.fit(data, "chinchilla@besiroglu2024")
    assert f.law == "chinchilla" and f.label == "chinchilla@besiroglu2024" and f.params["alpha"] == 0.3478
    assert repr(f).startswith("Fit(chinchilla@besiroglu2024:")
    from scalinglaws.decide import PUBLISHED, fit_with_prior

    via = fit_with_prior(data, "chinchilla", PUBLISHED[0])
    assert via.params == f.params
    bt = sl.backtest("dataset:chinchilla_epoch", "chinchilla@besiroglu2024")
    assert bt.label == "chinchilla@besiroglu2024" and bt.n_params == 3
    auto = sl.fit_auto(data, candidates=["power", "chinchilla@besiroglu2024"], priors=None, bootstrap=0)
    labels = [r["label"] for r in auto.extra["selection"]["candidates"]]
    assert sorted(labels) == ["chinchilla@besiroglu2024", "power"]
    code, out, err = cli("backtest", "dataset:chinchilla_epoch", "--law", "chinchilla@besiroglu2024")
    assert code == 0 and "chinchilla@besiroglu2024" in out, err
    code, _, err = cli("backtest", "dataset:chinchilla_epoch", "--law", "chinchilla@nope")
    assert code == 1 and err.startswith("Error: unknown law 'chinchilla@nope'")

"""Every interval a command prints says in its record how it was made: a walk over each command's --json output
finds, for every pair of bounds and every table of intervals, a `method` or `interval_method` record above it
that names where its draws came from."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

KEYS = ("method", "interval_method")


def _described(d) -> bool:
    """A record of how an interval was made: the interval maker's (parameters), a plan's (choices) or a
    two-step forecast's (step1)."""
    if isinstance(d, list):
        return bool(d) and all(_described(x) for x in d if x is not None)
    return isinstance(d, dict) and any(k in d for k in ("parameters", "choices", "step1"))


def undescribed(rec, path="", above=False) -> list[str]:
    """Paths of intervals in `rec` with no description of how they were made at or above them."""
    out = []
    if isinstance(rec, dict):
        here = above or any(_described(rec.get(k)) for k in KEYS)
        bounds = rec.get("lower") is not None and rec.get("upper") is not None
        if (bounds or rec.get("intervals")) and not here:
            out.append(path or "/")
        for k, v in rec.items():
            if k not in KEYS:
                out += undescribed(v, f"{path}/{k}", here)
    elif isinstance(rec, list):
        for i, v in enumerate(rec[:3]):
            out += undescribed(v, f"{path}[{i}]", above)
    return out


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    from scalinglaws.cli.app import main

    d = tmp_path_factory.mktemp("fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["fit", "dataset:chinchilla_epoch", "--bootstrap", "40", "-o", str(d / "fit.json")]) == 0
        assert main(["fit", "dataset:multipower_lr_curves?size=100M&schedule=constant", "--law", "lr_annealing",
                     "--bootstrap", "30", "-o", str(d / "curve.json")]) == 0
    rng = np.random.default_rng(0)
    ladder = d / "ladder.csv"
    ladder.write_text("params,problem,samples,correct\n" + "".join(
        f"{n:g},q{i},2000,{rng.binomial(2000, rng.beta(0.4, 400 / j))}\n"
        for j, n in enumerate((1e7, 1e8, 1e9, 1e10), start=1) for i in range(40)))
    samples = d / "samples.csv"
    samples.write_text("problem,samples,correct\n" + "".join(f"p{i},100,{(i * 7) % 23}\n" for i in range(60)))
    return {"fit": str(d / "fit.json"), "curve": str(d / "curve.json"), "samples": str(samples),
            "ladder": str(ladder)}


COMMANDS = {
    "predict": ["predict", "{fit}", "--at", "params=7e10", "--at", "tokens=1.4e12"],
    "plan": ["plan", "{fit}", "--flops", "1e23"],
    "plan target": ["plan", "{fit}", "--target-loss", "2.2"],
    "compare": ["compare", "dataset:porian_isoflop", "--at", "flops=1e21", "--bootstrap", "30"],
    "downstream": ["downstream", "dataset:pythia_evals", "--where", "shots=0", "--via", "lambada_openai__loss",
                   "--task", "piqa__acc", "--bootstrap", "30", "--at", "params=1.2e10", "--at", "tokens=3e11"],
    "testtime": ["testtime", "{samples}", "--k", "1,100", "--bootstrap", "30"],
    "emergence": ["emergence", "{ladder}", "--test", "params>1e9", "--k", "1,10", "--bootstrap", "30"],
    "curve (borrowed annealing)": ["curve", "{curve}", "--schedule", "cosine:peak=3e-4,total=48000,warmup=2160"],
    "backtest": ["backtest", "dataset:chinchilla_epoch", "--cuts", "2", "--bootstrap", "20"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_printed_interval_says_how_it_was_made(name, fits, cli):
    args = [a.format(**fits) for a in COMMANDS[name]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = cli(*args, "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert not undescribed(rec), f"{name}: intervals without a record of how they were made: {undescribed(rec)}"
    text = json.dumps(rec)
    assert "bootstrap over" in text  # where the draws came from, in words


def test_the_walk_finds_an_undescribed_interval():
    assert undescribed({"a": {"lower": 1, "upper": 2}}) == ["/a"]
    assert undescribed({"interval_method": {"parameters": "x"}, "a": {"lower": 1, "upper": 2}}) == []

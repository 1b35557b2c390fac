"""Curve laws: schedules by name, features from whole runs, the laws' mathematics, recovery of known parameters,
the early-transient rule, checks on bad curves, and the held-out accuracy on the bundled Multi-Power Law curves."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.curves.schedules import Schedule, as_schedule
from scalinglaws.errors import DataWarning, FitWarning, ScalingLawsError
from scalinglaws.fitting.data import law_inputs
from scalinglaws.laws import LAWS
from scalinglaws.laws.features import Schedule1, curve_features, exact_drop_sum
from scalinglaws.laws.transient import parse_rule, transient_mask
from scalinglaws.runs.curves import split_runs

B = {"run": "run", "step": "step", "lr": "lr"}
CURVE_LAWS = ("lr_annealing", "multipower", "lr_annealing_nd")


@pytest.fixture(scope="module")
def mpl():
    return sl.load_dataset("multipower_lr_curves")


def curves_table(schedules: dict, every: int = 100, params: float | None = None) -> dict:
    """Rows (run, step, lr) every `every` steps of each named schedule, from step 0."""
    cols = {"run": [], "step": [], "lr": []}
    for name, spec in schedules.items():
        s = as_schedule(spec)
        steps = np.arange(0, s.total + 1, every, dtype=float)
        cols["run"] += [name] * len(steps)
        cols["step"].append(steps)
        cols["lr"].append(s.lr(steps))
    out = {"run": np.array(cols["run"], dtype=object), "step": np.concatenate(cols["step"]),
           "lr": np.concatenate(cols["lr"])}
    if params is not None:
        out["params"] = np.full(len(out["step"]), params)
    return out


SYNTH = {"cos": "cosine:peak=1e-3,total=8000,warmup=500,end=1e-4",
         "const": "constant:peak=1e-3,total=8000,warmup=500",
         "wsd": "wsd:peak=1e-3,total=8000,warmup=500,decay=0.25,shape=linear,end=0",
         "two": "step:peak=1e-3,total=8000,warmup=500,at=4000,factor=0.2"}


# -- schedules ----------------------------------------------------------------------------------------------------
def test_schedules_reproduce_the_bundled_learning_rates(mpl):
    """Every schedule of the Multi-Power Law runs, described by name, gives their logged lr (to rounding)."""
    for name, g in mpl.groups("run").items():
        kind, pk, T = g["schedule"][0], g["peak_lr"][0], int(g["total_steps"][0])
        common = {"peak": pk, "total": T, "warmup": int(g["warmup_steps"][0])}
        end, ds = g["end_lr"][0], g["decay_start_step"][0]
        if kind == "constant":
            s = Schedule("constant", **common)
        elif kind == "cosine":
            s = Schedule("cosine", end=end, **common)
        elif kind == "two_stage":
            s = Schedule("step", at=(int(ds),), factor=end / pk, **common)
        else:
            shape = {"wsd_exp_decay": "exp", "wsd_linear_decay": "linear"}[kind]
            s = Schedule("wsd", end=end, decay_start=int(ds), shape=shape, **common)
        np.testing.assert_allclose(s.lr(g["step"]), g["lr"], rtol=1e-9, atol=1e-15, err_msg=name)


def test_schedule_text_round_trip_and_shapes():
    s = Schedule.parse("wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,shape=sqrt,end=0")
    assert s.decay_from == 19200 and Schedule.parse(s.to_text()) == Schedule.parse(s.to_text())
    assert as_schedule(s.to_dict()).lr().tolist() == s.lr().tolist()
    lr = s.lr()
    assert lr[0] == 0 and lr[2160] == pytest.approx(3e-4) and lr[19200] == pytest.approx(3e-4) and lr[24000] == 0
    assert np.all(np.diff(lr[2160:]) <= 1e-18)  # never rises after the warm-up
    assert lr[1080] == pytest.approx(1.5e-4)  # linear warm-up
    cos = Schedule.parse("cosine:peak=1,total=100")
    assert cos.lr([50])[0] == pytest.approx(0.1 + 0.9 * 0.5) and cos.end_lr == 0.1  # default end: peak/10
    step = Schedule.parse("step:peak=1,total=100,at=30/60,factor=0.5")
    assert step.lr([29, 30, 59, 60, 100]).tolist() == [1, 0.5, 0.5, 0.25, 0.25]
    assert {29, 30, 59, 60} <= set(step.knots(10).tolist())  # knots keep a drop a drop


@pytest.mark.parametrize("text, message", [
    ("cosin:peak=1,total=10", "unknown family"),
    ("cosine:total=10", "needs peak"),
    ("cosine:peak=1,total=10,decay=0.2", "has no parameter 'decay'"),
    ("cosine:peak=1,total=10,warmup=20", "warmup must be between"),
    ("wsd:peak=1,total=10,shape=cubic", "shape must be one of"),
    ("step:peak=1,total=10", "needs at="),
    ("cosine:peak=1,total=10.5", "not a whole number"),
    ("cosine:peak=-1,total=10", "peak must be a positive"),
])
def test_bad_schedules_are_refused(text, message):
    with pytest.raises(ScalingLawsError, match=message):
        Schedule.parse(text)


# -- features -----------------------------------------------------------------------------------------------------
def test_forward_area_matches_the_published_reconstruction(mpl):
    """S1 from the logged rows against the dataset's lr_sum, summed step by step from the schedule definitions:
    exact up to linear interpolation between rows 128 steps apart. The first logged row is 16 steps past the
    warm-up (taken as a ramp to it: 0.8% short there, a shrinking share later), and a two-stage drop is spread
    over one gap."""
    x = curve_features(mpl, B)
    rel = np.abs(x["S1"] / mpl["lr_sum"] - 1)
    assert rel.max() < 0.008
    assert rel[(mpl["schedule"] != "two_stage") & (mpl["step"] > 5000)].max() < 2.5e-3
    assert np.median(rel) < 1e-3


def test_momentum_area_is_the_closed_form_of_the_recursion():
    lr = Schedule.parse("wsd:peak=1e-3,total=3000,warmup=100,decay=0.3").lr()
    sched = Schedule1.from_dense(lr)
    lam = 0.99
    s2 = sched.momentum_area(lam)
    d = sched.drops
    for t in (100, 2200, 2500, 3000):
        k = np.arange(1, t + 1)
        closed = np.sum(d[k] * (1 - lam ** (t - k + 1)) / (1 - lam))
        assert s2[t] == pytest.approx(closed, rel=1e-10, abs=1e-15)
    assert np.all(s2[:2100] == 0)  # no annealing before the decay; the warm-up's rise is not counted


def test_annealing_blocks_match_the_step_by_step_sum(mpl):
    """48 blocks per run reproduce the Multi-Power Law's annealing sum within 3e-4 nats at published parameters."""
    C, beta, gamma, Bp = 2.066, 0.583, 0.641, 363.8
    for curve in split_runs(mpl.where("size=25M"), B)[::2]:
        sched = Schedule1.from_curve(curve)
        t = curve.steps[::9]
        w, leta, sk = sched.drop_blocks(t)
        ours = (w * (1 - (C * np.exp(-gamma * leta) * sk + 1) ** -beta)).sum(axis=1)
        exact = np.array([exact_drop_sum(sched, int(ti), C, beta, gamma) for ti in t])
        assert np.max(np.abs(ours - exact)) * Bp < 3e-4, curve.name


def test_features_ignore_row_order_and_keep_it():
    cols = curves_table(SYNTH, every=250)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(cols["step"]))
    shuffled = {k: v[perm] for k, v in cols.items()}
    a = curve_features(sl.read_runs(cols), B, momentum=True, drops=True)
    with pytest.warns(DataWarning, match="not in step order"):
        b = curve_features(sl.read_runs(shuffled), B, momentum=True, drops=True)
    for key in a:
        np.testing.assert_array_equal(a[key][perm], b[key], err_msg=key)


# -- the laws -----------------------------------------------------------------------------------------------------
def law_x(name, cols):
    law = LAWS[name]
    return law, law_inputs(law, sl.read_runs(cols), dict(law.inputs))


TRUTH = {"lr_annealing": [3.0, 0.5, 0.45, 0.4],
         "multipower": [3.0, 0.5, 0.45, 400.0, 2.0, 0.6, 0.6],
         "lr_annealing_nd": [2.0, 60.0, 0.25, 0.3, 0.05, 0.45, 0.02, 0.15]}


@pytest.mark.parametrize("name", CURVE_LAWS)
def test_gradients_match_finite_differences(name):
    law, x = law_x(name, curves_table(SYNTH, every=400, params=2e8))
    theta = np.array(TRUTH[name])
    grad = law.grad(x, law.unpack(theta[None]))
    for j, p in enumerate(law.param_names):
        h = 1e-6 * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        fd = (law(x, tp[None]) - law(x, tm[None])) / (2 * h)
        g = np.broadcast_to(grad[p], fd.shape)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-9 * np.abs(fd).max(), err_msg=p)


@pytest.mark.parametrize("name", CURVE_LAWS)
def test_declared_linear_parameters_are_affine(name):
    law, x = law_x(name, curves_table(SYNTH, every=400, params=2e8))
    theta = np.array(TRUTH[name])
    idx = [law.param_names.index(n) for n in law.linear]
    base = theta.copy()
    base[idx] = 0
    f0 = law(x, base[None])
    combo = f0.copy()
    for j in idx:
        t = base.copy()
        t[j] = theta[j]
        combo += law(x, t[None]) - f0
    np.testing.assert_allclose(combo, law(x, theta[None]), rtol=1e-12)


def test_parameters_broadcast_over_leading_axes_and_big_batches_are_chunked():
    law, x = law_x("multipower", curves_table(SYNTH, every=100))
    theta = np.array(TRUTH["multipower"])
    many = np.tile(theta, (400, 1)) * (1 + 0.01 * np.random.default_rng(1).standard_normal((400, 7)))
    out = law(x, many)  # 400 × 324 rows × 48 blocks: evaluated in chunks
    assert out.shape == (400, len(x["S1"]))
    np.testing.assert_allclose(out[17], law(x, many[17:18])[0], rtol=1e-13)


def test_linear_terms_are_the_law_to_the_last_bit_and_give_the_same_starts():
    """multipower's linear_terms (offset and the columns of L0, A, B) add up to its fn exactly, in chunks too, and
    the screening that reads them finds the same candidates and objectives as the one that evaluates fn L + 2
    times."""
    from dataclasses import replace

    from scalinglaws.fitting.objectives import Objective
    from scalinglaws.fitting.problem import Problem
    from scalinglaws.fitting.starts import candidates

    law, x = law_x("multipower", curves_table(SYNTH, every=100))
    theta = np.tile(TRUTH["multipower"], (400, 1)) * (1 + 0.01 * np.random.default_rng(2).standard_normal((400, 7)))
    p = law.unpack(theta)
    offset, cols = law.linear_terms(x, p)  # 400 × 324 rows × 48 blocks: evaluated in chunks
    combined = offset + p["L0"] * cols["L0"] + p["A"] * cols["A"] + p["B"] * cols["B"]
    np.testing.assert_array_equal(combined, law(x, theta))

    y = law(x, np.array(TRUTH["multipower"])[None])[0] * np.exp(0.003 * np.random.default_rng(3).standard_normal(
        len(x["S1"])))
    plain = replace(law, linear_terms=None)
    a = candidates(Problem(law, x, y, Objective()), 300, np.random.default_rng(4))
    b = candidates(Problem(plain, x, y, Objective()), 300, np.random.default_rng(4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lr_annealing_recovers_known_parameters(seed):
    cols = curves_table(SYNTH, every=50)
    law, x = law_x("lr_annealing", cols)
    rng = np.random.default_rng(seed)
    cols["loss"] = law(x, np.array(TRUTH["lr_annealing"])[None])[0] * np.exp(0.002 * rng.standard_normal(len(x["S1"])))
    f = sl.fit(cols, "lr_annealing", seed=seed)
    for name, value in zip(law.param_names, TRUTH["lr_annealing"]):
        assert f.params[name] == pytest.approx(value, rel=0.05), name


def test_multipower_recovers_the_curve_of_a_schedule_it_never_saw():
    cols = curves_table(SYNTH, every=100)
    law, x = law_x("multipower", cols)
    truth = np.array(TRUTH["multipower"])
    cols["loss"] = law(x, truth[None])[0]
    train = {k: v[cols["run"] != "wsd"] for k, v in cols.items()}
    f = sl.fit(train, "multipower", starts=256)
    for name in ("L0", "A", "alpha"):
        assert f.params[name] == pytest.approx(truth[law.param_names.index(name)], rel=0.02), name
    held = {k: v[cols["run"] == "wsd"] for k, v in cols.items() if k != "loss"}
    wsd = f.predict({"run": held["run"], "step": held["step"], "lr": held["lr"]}).prediction
    np.testing.assert_allclose(wsd[held["step"] > 500], cols["loss"][cols["run"] == "wsd"][held["step"] > 500],
                               rtol=2e-3)


def test_joint_law_recovers_a_ladder():
    parts = [curves_table(SYNTH, every=100, params=n) for n in (3e7, 1e8, 3e8, 1e9)]
    cols = {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}
    cols["run"] = np.array([f"{r}-{n:g}" for r, n in zip(cols["run"], cols["params"])], dtype=object)
    law, x = law_x("lr_annealing_nd", cols)
    truth = np.array(TRUTH["lr_annealing_nd"])
    cols["loss"] = law(x, truth[None])[0]
    f = sl.fit(cols, "lr_annealing_nd")
    for name, value in zip(law.param_names, truth):
        assert f.params[name] == pytest.approx(value, rel=0.02, abs=2e-3), name


# -- accuracy on the bundled curves (the acceptance figure; benchmarks/bench_curves.py prints all of it) ---------
def test_cosine_and_constant_predict_other_schedules_within_half_a_percent(mpl):
    d = mpl.where("size=100M")
    m = np.isin(d["schedule"], ["cosine", "constant"])
    f = sl.fit(d.take(m), "schedule")
    test = d.take(~m)
    pred = f.predict(test).prediction
    past = test["step"] > test["warmup_steps"]
    err = np.abs(pred / test["loss"] - 1)[past].mean()
    assert err < 0.005
    assert err == pytest.approx(0.00139, abs=2e-4)  # what benchmarks/bench_curves.py reports
    assert f.converged and not f.at_bounds


def test_schedule_is_the_default_curve_law():
    assert LAWS["schedule"].fn is LAWS["lr_annealing"].fn and LAWS["schedule"].transient == "warmup"


# -- the early transient ------------------------------------------------------------------------------------------
def test_transient_rules():
    cols = curves_table({"a": "cosine:peak=1e-3,total=1000,warmup=200"}, every=100)
    runs = sl.read_runs(cols)
    keep, note = transient_mask(runs, "warmup", B)
    assert runs["step"][~keep].tolist() == [0, 100, 200] and "warm-up" in note
    keep, _ = transient_mask(runs, "0.5", B)
    assert runs["step"][keep].min() == 600
    keep, _ = transient_mask(runs, "step<=300", B)
    assert runs["step"][keep].min() == 400
    keep, _ = transient_mask(runs, "auto", B, default="warmup")
    assert keep.sum() == len(runs) - 3
    assert transient_mask(runs, "none", B)[0].all()
    assert parse_rule(0.1) == ("fraction", 0.1) and parse_rule(500) == ("step<=", 500.0)
    with pytest.raises(ScalingLawsError, match="not a rule"):
        parse_rule("early")
    with pytest.raises(ScalingLawsError, match="leaves no row"):
        transient_mask(runs, "step<=5000", B)


def test_fit_leaves_out_the_warm_up_but_counts_its_area():
    cols = curves_table(SYNTH, every=100)
    law, x = law_x("lr_annealing", cols)
    cols["loss"] = law(x, np.array(TRUTH["lr_annealing"])[None])[0]
    f = sl.fit(cols, "lr_annealing")
    assert f.n_points == len(cols["step"]) - 4 * 6  # steps 0..500 of each run are the warm-up
    assert any("early-transient" in n for n in f.data["notes"])
    assert f.params["L0"] == pytest.approx(3.0, rel=1e-4)
    g = sl.fit(cols, "lr_annealing", transient="none")
    assert g.n_points == len(cols["step"])


def test_transient_applies_to_point_laws_on_checkpoints():
    n = np.repeat([1e8, 4e8], 10)
    d = np.tile(np.linspace(1e9, 1e10, 10), 2)
    cols = {"run": np.repeat(["a", "b"], 10).astype(object), "step": np.tile(np.arange(1, 11) * 100.0, 2),
            "params": n, "tokens": d, "loss": 1.7 + 400 * n ** -0.34 + 400 * d ** -0.28}
    f = sl.fit(cols, "chinchilla", transient="0.3")
    assert f.n_points == 16  # steps 100, 200 of each run left out (below 30% of the last step, 1000)


# -- checks on bad curves -----------------------------------------------------------------------------------------
def test_bad_curves_get_clear_errors(tmp_path):
    good = curves_table({"a": "cosine:peak=1e-3,total=1000,warmup=100"}, every=100)
    good["loss"] = np.linspace(4, 3, len(good["step"]))
    one = {k: v[:1] if k != "run" else np.array(["a"], dtype=object) for k, v in good.items()}
    one["step"] = np.array([500.0])
    with pytest.raises(ScalingLawsError, match="run 'a' has a single step"):
        sl.fit(one, "schedule")
    nan_lr = dict(good, lr=np.where(good["step"] == 300, np.nan, good["lr"]))
    with pytest.raises(ScalingLawsError, match="column 'lr' is empty or NaN"):
        sl.fit(nan_lr, "schedule")
    no_lr = {k: v for k, v in good.items() if k != "lr"}
    with pytest.raises(ScalingLawsError, match="column 'lr' is missing"):
        sl.fit(no_lr, "schedule")
    twice = {k: np.concatenate([v, v[3:4]]) for k, v in good.items()}
    twice["lr"][-1] *= 2
    with pytest.raises(ScalingLawsError, match="logs step 300 twice with different learning rates"):
        sl.fit(twice, "schedule")
    tokens = dict(good, step=good["step"] * 1e6)
    with pytest.raises(ScalingLawsError, match="not tokens"):
        sl.fit(tokens, "schedule")


def test_a_schedule_that_rises_after_decaying_is_flagged():
    cols = curves_table({"a": "cosine:peak=1e-3,total=2000,warmup=100"}, every=100)
    cols["lr"] = np.where(cols["step"] >= 1500, 1e-3, cols["lr"])  # re-warmed to the peak
    cols["loss"] = np.linspace(4, 3, len(cols["step"]))
    with pytest.warns(DataWarning, match="rises again after decaying .* step 1500"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            sl.fit(cols, "lr_annealing")


def test_curve_errors_on_the_command_line(cli, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("run,step,lr,loss\na,100,0.001,3.5\nb,100,0.001,3.4\nb,200,0.001,3.3\n")
    code, _, err = cli("fit", str(path), "--law", "schedule")
    assert code == 1 and err.startswith("Error: run 'a' has a single step (100 at line 2 of one.csv)")
    assert len(err.strip().splitlines()) == 1


def test_fit_command_takes_a_transient_rule(cli):
    code, out, _ = cli("fit", "dataset:multipower_lr_curves?size=25M", "--law", "schedule", "--transient", "0.1",
                       "--json")
    d = json.loads(out)
    assert code == 0 and d["n_points"] == 2059 - 91
    assert any("first 0.1 of each run's steps" in n for n in d["data"]["notes"])
    code, _, err = cli("fit", "dataset:multipower_lr_curves?size=25M", "--law", "schedule", "--transient", "soon")
    assert code == 1 and "--transient 'soon' is not a rule" in err


def test_a_ragged_log_is_flagged():
    s = Schedule.parse("cosine:peak=1e-3,total=10000,warmup=100")
    steps = np.array([0, 100, 200, 300, 9000, 9500, 10000.0])  # nothing logged while the cosine falls
    cols = {"run": np.array(["a"] * len(steps), dtype=object), "step": steps, "lr": s.lr(steps)}
    with pytest.warns(DataWarning, match="no row between steps 300 and 9000"):
        curve_features(sl.read_runs(cols), B)

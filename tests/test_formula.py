"""User laws from formula strings: the restricted grammar, its errors, and fits through it."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.fitting import Fit, fit
from scalinglaws.laws import LAWS, formula_law, get_law

N = np.repeat(np.geomspace(1e7, 3e9, 8), 6)
D = np.tile(np.geomspace(1e8, 1e11, 6), 8)


def test_formula_equals_the_builtin_law():
    law = formula_law("L = E + A*N^-alpha + B*D**-beta")
    assert law.param_names == ["E", "A", "alpha", "B", "beta"]
    assert law.inputs == {"N": "params", "D": "tokens"}
    assert law.linear == ("E", "A", "B")
    p = {"E": 1.8, "A": 480.0, "alpha": 0.35, "B": 2100.0, "beta": 0.37}
    np.testing.assert_allclose(law({"N": N, "D": D}, p), LAWS["chinchilla"]({"N": N, "D": D}, p), rtol=1e-14)


def test_functions_unicode_and_column_names():
    law = formula_law("a + b·exp(-c·log(params)) + sqrt(tokens)*0")
    assert law.inputs == {"params": "params", "tokens": "tokens"}
    assert set(law.param_names) == {"a", "b", "c"}
    assert formula_law("E + A * N ** -α").param_names == ["E", "A", "α"]


@pytest.mark.parametrize("expr,message", [
    ("__import__('os').system('true')", "only plain function calls"),
    ("__import__('os')", "unknown function '__import__'"),
    ("E + A.real", "Attribute is not allowed"),
    ("E + N[0]", "Subscript is not allowed"),
    ("E if N > 1 else A", "IfExp is not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("E + 'N'", "'N' is not a number"),
    ("E + foo(N)", "unknown function 'foo'"),
    ("E + exp(N, 2)", "exp\\(\\) takes exactly one argument"),
    ("E + exp", "'exp' is a function"),
    ("E + A*", "does not parse"),
    ("E + A", "uses no input"),
    ("N*2", "has no parameter"),
    ("E % N", "operator Mod is not allowed"),
    ("", "the formula is empty"),
])
def test_unsafe_or_broken_formulas_are_refused(expr, message):
    with pytest.raises(ScalingLawsError, match=message) as err:
        formula_law(expr)
    assert "\n" not in str(err.value)


def test_param_overrides_are_checked():
    law = formula_law("E + A*N**-alpha", params={"alpha": {"bounds": (0, 2), "start": (0.1, 1.0)},
                                               "E": {"bounds": (0, None)}})
    spec = {p.name: p for p in law.params}["alpha"]
    assert spec.bounds == (0.0, 2.0) and spec.start == (0.1, 1.0)
    assert {p.name: p for p in law.params}["E"].bounds == (0.0, float("inf"))  # None means unbounded
    with pytest.raises(ScalingLawsError, match=r"--param names \['beta'\] do not appear"):
        formula_law("E + A*N**-alpha", params={"beta": {"start": (0, 1)}})


def test_fit_through_a_formula_and_reload(tmp_path):
    p = {"E": 1.8, "A": 480.0, "alpha": 0.35, "B": 2100.0, "beta": 0.37}
    y = LAWS["chinchilla"]({"N": N, "D": D}, {**p})
    result = fit({"params": N, "tokens": D, "loss": y}, "E + A*N**-alpha + B*D**-beta")
    for k, v in p.items():
        assert result.params[k] == pytest.approx(v, rel=1e-6)
    path = result.save(tmp_path / "f.json")
    again = Fit.load(path)
    assert again.law_source["expr"] == "E + A*N**-alpha + B*D**-beta"
    pred = again.predict(params=[7e10], tokens=[1.4e12])
    assert pred.prediction[0] == pytest.approx(LAWS["chinchilla"]({"N": 7e10, "D": 1.4e12}, p)[0], rel=1e-6)


def test_get_law_dispatch():
    assert get_law("chinchilla") is LAWS["chinchilla"]
    assert get_law("E + A*C**-a").inputs == {"C": "flops"}


def test_cli_formula_fit(cli, tmp_path):
    code, out, err = cli("fit", "dataset:chinchilla_epoch", "--where", "epoch_excluded=false", "--law",
                         "E + A*N**-alpha + B*D**-beta", "--json")
    assert code == 0, err
    import json

    rec = json.loads(out)
    assert rec["params"]["alpha"] == pytest.approx(0.34731, abs=2e-5)
    code, _, err = cli("fit", "dataset:chinchilla_epoch", "--law", "E + A*N**-alpha + foo(D)")
    assert code == 1 and err.startswith("Error: formula 'E + A*N**-alpha + foo(D)': unknown function 'foo'")


def test_formula_bootstrap_matches_the_builtin_law():
    """Same law, same data, same seed: a formula's raw-scale coefficients must not freeze the bootstrap draws."""
    from scalinglaws.demo import epoch_runs

    runs = epoch_runs()
    builtin = fit(runs, "chinchilla", bootstrap=300, seed=0)
    formula = fit(runs, "E + A*N**-alpha + B*D**-beta", bootstrap=300, seed=0)
    assert formula.bootstrap.failed == 0
    for name in ("E", "A", "B", "alpha", "beta"):
        assert formula.ci[name] == pytest.approx(builtin.ci[name], rel=1e-3), name


def test_abs_min_and_max_fit_with_exact_derivatives():
    import numpy as np
    import pandas as pd

    import scalinglaws as sl
    from scalinglaws.errors import ScalingLawsError
    from scalinglaws.laws import formula_law
    from scalinglaws.laws.spec import predict_with_jacobian

    law = formula_law("E + A*max(N, N0)**-alpha + abs(c)*min(D, 1e9)**-beta")
    theta = np.array([[1.7, 400.0, 1e8, 0.34, 300.0, 0.28]])
    x = {"N": np.array([5e7, 2e8]), "D": np.array([5e8, 2e9])}
    f, jac = predict_with_jacobian(law, x, theta)
    for j in range(theta.shape[1]):
        t = theta.copy()
        t[0, j] *= 1 + 1e-7
        assert np.allclose(jac[0, j], (law(x, t) - f)[0] / (theta[0, j] * 1e-7), rtol=1e-4, atol=1e-12)
    # a loss floor below which extra parameters stop helping, recovered from data
    n = np.repeat(np.geomspace(1e7, 1e9, 8), 3)
    d = np.tile([1e9, 3e9, 1e10], 8)
    loss = 1.7 + 400 * np.maximum(n, 5e7) ** -0.34 + 400 * d ** -0.28
    fit = sl.fit(pd.DataFrame({"params": n, "tokens": d, "loss": loss}),
                 law=formula_law("E + A*max(N, N0)**-alpha + B*D**-beta",
                                 params={"N0": {"bounds": (1e7, 1e9), "start": (2e7, 2e8), "log_start": True}}))
    assert fit.params["N0"] == pytest.approx(5e7, rel=0.05)
    with pytest.raises(ScalingLawsError, match="two arguments"):
        formula_law("E + A*max(N)**-alpha")


def test_any_numeric_column_a_formula_names_is_read_as_an_input(tmp_path):
    import numpy as np
    import pandas as pd

    import scalinglaws as sl

    rows = [{"params": n, "tokens": d, "mix": r, "label": "a"} for n in (1e7, 3e7, 1e8, 3e8)
            for d in (2e8, 1e9, 5e9) for r in (0.1, 0.3, 0.5, 0.7)]
    df = pd.DataFrame(rows)
    df["loss"] = (1.7 + 400 * df.params ** -0.34 + 410 * df.tokens ** -0.28
                  + 0.3 * np.log(df.mix / 0.4) ** 2)
    fit = sl.fit(df, law="E + A*N**-alpha + B*D**-beta + c*(log(mix) - log(r0))**2")
    assert fit.inputs["mix"] == "mix" and "mix" not in fit.params
    assert fit.params["r0"] == pytest.approx(0.4, rel=1e-4)
    fit.save(tmp_path / "fit.json")
    again = sl.Fit.load(tmp_path / "fit.json")
    at = {"params": [1e9], "tokens": [2e10], "mix": [0.4]}
    assert sl.predict(again, at).prediction[0] == pytest.approx(sl.predict(fit, at).prediction[0])
    with pytest.raises(sl.ScalingLawsError, match="'label'"):  # a text column is not an input
        sl.fit(df, law="E + A*N**-alpha + label")


def test_named_parts_are_inlined_and_fitted():
    import numpy as np
    import pandas as pd

    import scalinglaws as sl
    from scalinglaws.errors import ScalingLawsError
    from scalinglaws.laws import formula_law

    law = formula_law("Neff = N*(1 - exp(-bits/g))\nE + A*Neff**-alpha + B*D**-beta", inputs={"bits": "precision_bits"})
    assert law.param_names == ["E", "A", "g", "alpha", "B", "beta"] and law.inputs["bits"] == "precision_bits"
    n = np.repeat(np.geomspace(1e7, 1e9, 6), 6)
    d = np.tile(np.geomspace(1e9, 1e11, 6), 6)
    b = np.tile([3.0, 4, 6, 8, 12, 16], 6)
    loss = 1.7 + 400 * (n * (1 - np.exp(-b / 2.5))) ** -0.34 + 410 * d ** -0.28
    fit = sl.fit(pd.DataFrame({"params": n, "tokens": d, "precision_bits": b, "loss": loss}), law=law)
    assert fit.params["g"] == pytest.approx(2.5, rel=1e-4)
    for bad, match in (("N = 3; E + A*N**-alpha", "name of an input"), ("foo; E + A*N**-alpha", "named part")):
        with pytest.raises(ScalingLawsError, match=match):
            formula_law(bad)

"""Formula laws from hostile strings: never executed, never a RecursionError, each refused in one line that quotes
(a shortened) formula or names the parameter."""

from __future__ import annotations

import pytest

BAD = [
    ("chain-100kB", "E + " + " + ".join(["A*N**-alpha"] * 8000), "characters long"),
    ("unary-minus-1000", "E + " + "-" * 1000 + "A*N**-alpha", "nested more than"),
    ("unary-plus-1000", "E + " + "+" * 1000 + "A*N**-alpha", "nested more than"),
    ("brackets-1000", "E + " + "(" * 1000 + "A*N**-alpha" + ")" * 1000, "formula"),
    ("power-tower-500", "E + A*" + "**".join(["N"] * 500), "nested more than"),
    ("exp-of-exp-200", "E + " + "exp(" * 200 + "N" + ")" * 200, "nested more than"),
    ("attribute", "E + A.real*N", "Attribute is not allowed"),
    ("dunder-import", "__import__('os').system('true') + N*A", "allowed"),
    ("lambda", "(lambda: 1)() + A*N", "allowed"),
    ("subscript", "E + A[0]*N", "not allowed"),
    ("string", "E + 'abc'*N", "not a number"),
    ("comparison", "E + (A < N)", "not allowed"),
    ("boolean", "E + (A and N)", "not allowed"),
    ("keyword-call", "E + exp(x=N)*A", "exactly one argument"),
    ("two-arguments", "E + exp(N, A)", "exactly one argument"),
    ("unknown-function", "E + gamma(N)*A", "unknown function"),
    ("method-call", "E + N.bit_length()*A", "plain function calls"),
    ("function-as-name", "E + exp*N", "is a function"),
    ("blank", "   ", "law"),
    ("no-input", "E + A*B", "uses no input"),
    ("no-parameter", "N + D*2", "no parameter"),
    ("syntax", "E + A*N**", "does not parse"),
    ("walrus", "(x := N) + A", "not allowed"),
    ("starred", "E + A*N, D", "not allowed"),
    ("f-string", "f'{N}' + A", "not allowed"),
    ("null-byte", "E + A*N\x00", "formula"),
    ("bool-literal", "E + True*A*N", "not a number"),
    ("complex-literal", "E + 1j*A*N", "not a number"),
    ("ellipsis", "E + ...*A*N", "not a number"),
    ("set", "E + {A}*N", "not allowed"),
    ("list", "E + [A]*N", "not allowed"),
    ("floor-division", "E + A*N//2", "not allowed"),
    ("modulo", "E + A*N%2", "not allowed"),
    ("matmul", "E + A@N", "not allowed"),
    ("bitwise", "E + A*N|2", "not allowed"),
    ("invert", "E + ~A*N", "not allowed"),
    ("conditional", "E + (A if N else 1)", "not allowed"),
    ("generator", "E + sum(A for _ in N)", "unknown function"),
]


@pytest.mark.parametrize("formula, needle", [pytest.param(f, n, id=i) for i, f, n in BAD])
def test_a_hostile_formula_is_refused_in_one_line(sl, ladder, formula, needle):
    outcome = sl("fit", ladder, "--law", formula, "--json").refused(needle)
    assert len(outcome.errors[0]) < 600  # a shortened formula, not 100 kB of it


PARAMS = [
    ("inverted-bounds", ["alpha=bounds:2:0"], "bounds 2:0"),
    ("empty-bounds", ["alpha=bounds:1:1"], "bounds 1:1"),
    ("nan-bounds", ["alpha=bounds:nan:1"], "alpha"),
    ("inverted-start", ["alpha=2:0"], "start range 2:0"),
    ("infinite-start", ["alpha=0:inf"], "start range"),
    ("negative-log-start", ["alpha=-1:1:log"], "log start"),
    ("malformed", ["alpha=two"], "--param alpha=two"),
    ("no-value", ["alpha="], "--param"),
    ("unknown-parameter", ["gamma=0:1"], "gamma"),
    ("bounds-twice", ["alpha=bounds:0:1", "alpha=bounds:0:2"], "given twice"),
    ("start-twice", ["alpha=0:1", "alpha=0:2"], "given twice"),
    ("bounds-missing-high", ["alpha=bounds:0"], "--param alpha"),
]


@pytest.mark.parametrize("params, needle", [pytest.param(p, n, id=i) for i, p, n in PARAMS])
def test_bad_param_ranges_are_refused(sl, ladder, params, needle):
    args = [a for p in params for a in ("--param", p)]
    sl("fit", ladder, "--law", "E + A*N**-alpha + B*D**-beta", *args, "--json").refused(needle)


def test_brackets_add_no_depth(sl, ladder):
    outcome = sl("fit", ladder, "--law", "E + " + "(" * 150 + "A*N**-alpha" + ")" * 150 + " + B*D**-beta", "--json")
    assert outcome.code == 0, outcome.err


def test_start_and_bounds_of_one_parameter_may_both_be_given(sl, ladder):
    outcome = sl("fit", ladder, "--law", "E + A*N**-alpha + B*D**-beta", "--param", "alpha=0.1:1", "--param",
                 "alpha=bounds:0:2", "--json")
    assert outcome.code == 0, outcome.err


def test_a_formula_name_close_to_a_column_is_noted_as_a_likely_typo(sl, ladder):
    sl("fit", ladder, "--law", "E + A*params**-alpha + B*tokenz**-beta", "--json").warned("'tokenz'", "'tokens'")


def test_a_formula_name_that_is_a_column_is_read_never_fitted(sl, tmp_path):
    import json

    from hostile_corpus import ladder_csv

    table = tmp_path / "t.csv"
    table.write_text(ladder_csv("width", "3"))
    # a numeric column is read as an input by its name (here of one value, so A and gamma trade off: a warning)
    read = sl("fit", table, "--law", "E + A*N**-alpha*width**gamma", "--json").warned("not identified")
    assert json.loads(read.out)["inputs"]["width"] == "width"
    labels = tmp_path / "l.csv"
    labels.write_text(ladder_csv("width", "wide"))
    sl("fit", labels, "--law", "E + A*N**-alpha*width**gamma", "--json").refused("--input", "'width'", "l.csv")
    outcome = sl("fit", table, "--law", "E + A*N**-alpha*width**gamma + B*D**-beta", "--input", "width=width",
                 "--json")
    assert outcome.code == 0, outcome.err

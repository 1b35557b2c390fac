"""User laws from formula strings, parsed safely: `"E + A*N**-alpha + B*D**-beta"`.

The string is parsed by Python's `ast` into a tree and checked against a small grammar: numbers, names, the
operators + - * / ** (or ^), unary minus, and the functions in `FUNCTIONS`. Nothing is ever passed to `eval`: the
checked tree is compiled into nested closures over numpy operations.

Names that are input symbols (N, D, C, U, S, or runs-table columns such as `params`, `lr`) are inputs; every other
name is a parameter. Parameters the formula is affine in are found numerically and solved by variable projection.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np

from ..errors import ScalingLawsError
from ..runs.schema import COLUMNS, SYMBOLS
from .linearity import affine_params
from .spec import INF, Law, Param


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


FUNCTIONS = {"exp": np.exp, "log": np.log, "log10": np.log10, "log2": np.log2, "sqrt": np.sqrt,
             "tanh": np.tanh, "sigmoid": _sigmoid, "abs": np.abs,
             "min": np.minimum, "max": np.maximum}  # min and max take two arguments, the rest one
TWO_ARGUMENTS = ("min", "max")
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_NAMES = {**SYMBOLS, **{c: c for c, col in COLUMNS.items() if col.kind == "number"}}
MAX_LENGTH = 10_000  # characters: longer than any law in the literature by two orders of magnitude
MAX_DEPTH = 60  # nesting of the parsed tree: deeper trees would exhaust Python's stack when compiled or evaluated


def _depth(tree) -> int:
    """The nesting depth of a parsed tree, walked without recursion (a deep tree must not overflow the stack)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _normalise(expr: str) -> str:
    text = expr.strip().replace("^", "**").replace("·", "*").replace("−", "-").replace("×", "*")
    if ";" in text or "\n" in text:  # named parts before the law: each keeps its name (_with_named_parts)
        return text.strip()
    head, sep, tail = text.partition("=")
    if sep and head.strip().isidentifier() and not tail.startswith("="):
        text = tail  # "L = E + ..." -> "E + ..."
    return text.strip()


def _with_named_parts(text: str, shown: str, input_names: set[str]) -> ast.Expression:
    """The parsed law, with named sub-expressions written before it inlined:
    'Neff = N*(1 - exp(-P/gamma)); E + A*Neff**-alpha' is E + A*(N*(1 - exp(-P/gamma)))**-alpha. Parts are
    separated by ';' or new lines, each 'name = expression' using inputs, parameters and earlier parts."""
    pieces = [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]
    if len(pieces) <= 1:
        return ast.parse(text, mode="eval")
    parts: dict[str, ast.AST] = {}
    for piece in pieces[:-1]:
        name, sep, body = piece.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or body.startswith("="):
            raise ScalingLawsError(f"formula '{shown}': '{piece}' is not a named part: write NAME = EXPRESSION; "
                                   "then the law, e.g. 'Neff = N*k; E + A*Neff**-alpha'")
        if name in input_names or name in FUNCTIONS:
            raise ScalingLawsError(f"formula '{shown}': the part '{name}' has the name of an input or a function; "
                                   "choose another name")
        parts[name] = _inline(ast.parse(body.strip(), mode="eval").body, parts)
    last = _normalise(pieces[-1])
    return ast.Expression(body=_inline(ast.parse(last, mode="eval").body, parts))


def _inline(node: ast.AST, parts: dict) -> ast.AST:
    """node with every Name that is a named part replaced by (a copy of) its expression."""
    import copy

    class Inline(ast.NodeTransformer):
        def visit_Name(self, n):
            return copy.deepcopy(parts[n.id]) if n.id in parts else n

    return ast.fix_missing_locations(Inline().visit(node))


class _Compiler:
    """Walks the parsed tree once: rejects what the grammar does not allow, builds closures for the rest."""

    def __init__(self, expr: str, input_names: set[str]):
        self.expr = expr
        self.input_names = input_names
        self.inputs: list[str] = []
        self.params: list[str] = []
        self.in_exponent: dict[str, bool] = {}  # param -> appears negated in an exponent (N**-alpha)

    def fail(self, what: str) -> ScalingLawsError:
        shown = self.expr if len(self.expr) <= 80 else self.expr[:60] + "..."
        return ScalingLawsError(
            f"formula '{shown}': {what}. Formulas may use numbers, names, + - * / ** (or ^), and "
            f"{', '.join(FUNCTIONS)}")

    def compile(self, node, exponent_sign: int = 0):
        if isinstance(node, ast.Expression):
            return self.compile(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.fail(f"{node.value!r} is not a number")
            value = float(node.value)
            return lambda x, p: value
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.input_names:
                if name not in self.inputs:
                    self.inputs.append(name)
                return lambda x, p: x[name]
            if name in FUNCTIONS:
                raise self.fail(f"'{name}' is a function; call it, e.g. {name}(N)")
            if name not in self.params:
                self.params.append(name)
            if exponent_sign:
                self.in_exponent[name] = self.in_exponent.get(name, False) or exponent_sign < 0
            return lambda x, p: p[name]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.compile(node.operand, -exponent_sign if isinstance(node.op, ast.USub) else exponent_sign)
            if isinstance(node.op, ast.USub):
                return lambda x, p: -inner(x, p)
            return inner
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            left = self.compile(node.left, exponent_sign)
            right = self.compile(node.right, 1 if isinstance(node.op, ast.Pow) else exponent_sign)
            return lambda x, p: op(left(x, p), right(x, p))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.fail("only plain function calls such as exp(x) are allowed")
            fname = node.func.id
            if fname not in FUNCTIONS:
                raise self.fail(f"unknown function '{fname}'")
            want = 2 if fname in TWO_ARGUMENTS else 1
            if node.keywords or len(node.args) != want:
                raise self.fail(f"{fname}() takes exactly {'two arguments' if want == 2 else 'one argument'}")
            func = FUNCTIONS[fname]
            if want == 2:
                first, second = (self.compile(a, exponent_sign) for a in node.args)
                return lambda x, p: func(first(x, p), second(x, p))
            arg = self.compile(node.args[0], exponent_sign)
            return lambda x, p: func(arg(x, p))
        construct = type(node).__name__
        if isinstance(node, ast.BinOp):
            construct = f"operator {type(node.op).__name__}"
        raise self.fail(f"{construct} is not allowed")


_DERIVATIVES = {  # d f(a) / da, given a and v = f(a)
    "exp": lambda a, v: v, "log": lambda a, v: 1.0 / a, "log10": lambda a, v: 1.0 / (a * np.log(10.0)),
    "log2": lambda a, v: 1.0 / (a * np.log(2.0)), "sqrt": lambda a, v: 0.5 / v, "tanh": lambda a, v: 1.0 - v * v,
    "sigmoid": lambda a, v: v * (1.0 - v), "abs": lambda a, v: np.sign(a),
}


def _forward(node, input_names: set[str]):
    """Forward-mode derivatives of a checked tree: a closure (x, p) -> (value, {param: d value / d param}).

    The rules of calculus on the same small grammar the compiler accepts, so formula laws get exact analytic
    gradients (as fast as the built-in laws' hand-written ones) instead of complex-step ones.
    """
    if isinstance(node, ast.Expression):
        return _forward(node.body, input_names)
    if isinstance(node, ast.Constant):
        value = float(node.value)
        return lambda x, p: (value, {})
    if isinstance(node, ast.Name):
        name = node.id
        if name in input_names:
            return lambda x, p: (x[name], {})
        return lambda x, p: (p[name], {name: 1.0})
    if isinstance(node, ast.UnaryOp):
        inner = _forward(node.operand, input_names)
        if isinstance(node.op, ast.UAdd):
            return inner

        def neg(x, p):
            v, d = inner(x, p)
            return -v, {k: -g for k, g in d.items()}
        return neg
    if isinstance(node, ast.Call) and node.func.id in TWO_ARGUMENTS:
        first, second = (_forward(a, input_names) for a in node.args)
        take_first = np.less_equal if node.func.id == "min" else np.greater_equal

        def pick(x, p):  # the derivative of the argument that is taken (either one at a tie)
            a, da = first(x, p)
            b, db = second(x, p)
            mask = take_first(a, b)
            d = {k: np.where(mask, da.get(k, 0.0), db.get(k, 0.0)) for k in set(da) | set(db)}
            return np.where(mask, a, b), d
        return pick
    if isinstance(node, ast.Call):
        func, deriv, arg = FUNCTIONS[node.func.id], _DERIVATIVES[node.func.id], _forward(node.args[0], input_names)

        def call(x, p):
            a, da = arg(x, p)
            v = func(a)
            outer = deriv(a, v)
            return v, {k: outer * g for k, g in da.items()}
        return call
    left, right, op = _forward(node.left, input_names), _forward(node.right, input_names), type(node.op)

    def binop(x, p):
        a, da = left(x, p)
        b, db = right(x, p)
        if op is ast.Add or op is ast.Sub:
            sign = 1.0 if op is ast.Add else -1.0
            d = dict(da)
            for k, g in db.items():
                d[k] = d[k] + sign * g if k in d else sign * g
            return (a + b if op is ast.Add else a - b), d
        if op is ast.Mult:
            d = {k: g * b for k, g in da.items()}
            for k, g in db.items():
                d[k] = d[k] + a * g if k in d else a * g
            return a * b, d
        if op is ast.Div:
            v = a / b
            d = {k: g / b for k, g in da.items()}
            for k, g in db.items():
                d[k] = d[k] - v * g / b if k in d else -v * g / b
            return v, d
        v = a ** b  # power: d(a^b) = a^b·(b'·log a + b·a'/a)
        d = {k: b * a ** (b - 1.0) * g for k, g in da.items()}
        if db:
            log_a = np.log(a)
            for k, g in db.items():
                d[k] = d[k] + v * log_a * g if k in d else v * log_a * g
        return v, d
    return binop


def formula_law(expr: str, *, name: str | None = None, inputs: Mapping[str, str] | None = None,
                params: Mapping[str, Mapping] | None = None, target: str = "loss") -> Law:
    """A law from a formula string.

    inputs: extra input symbol -> column (defaults: N=params, D=tokens, C=flops, U=unique_tokens, S=step, and
        every numeric runs-table column by its own name).
    params: per-parameter overrides, {"alpha": {"bounds": (0, 2), "start": (0.1, 1), "log_start": False}}.
    """
    text = _normalise(expr)
    if not text:
        raise ScalingLawsError("the formula is empty. Write e.g. 'E + A*N**-alpha'")
    names = {**_NAMES, **dict(inputs or {})}
    shown = expr if len(expr) <= 80 else expr[:60] + "..."
    if len(text) > MAX_LENGTH:
        raise ScalingLawsError(f"formula '{shown}' is {len(text):,} characters long; at most {MAX_LENGTH:,} are "
                               "read. Write the law as a Python function and register it (docs/laws.md)")
    try:
        tree = _with_named_parts(text, shown, set(names))
    except SyntaxError as exc:
        raise ScalingLawsError(f"formula '{shown}' does not parse: {exc.msg} at column {exc.offset}. Check the "
                               "brackets and operators") from None
    except (RecursionError, MemoryError):
        tree = None
    if tree is None or _depth(tree) > MAX_DEPTH:
        raise ScalingLawsError(f"formula '{shown}' is nested more than {MAX_DEPTH} levels deep (brackets, signs or "
                               "operators inside one another). Simplify it, or write the law as a Python function")
    compiler = _Compiler(expr, set(names))
    fn_tree = compiler.compile(tree)
    if not compiler.inputs:
        raise ScalingLawsError(f"formula '{expr}' uses no input. Use N (params), D (tokens), C (flops), U, S or a "
                               "column name")
    if not compiler.params:
        raise ScalingLawsError(f"formula '{expr}' has no parameter to fit")
    overrides = dict(params or {})
    unknown = set(overrides) - set(compiler.params)
    if unknown:
        raise ScalingLawsError(f"--param names {sorted(unknown)} do not appear in formula '{expr}' (its parameters: "
                               f"{', '.join(compiler.params)})")

    derivative = _forward(tree, set(names))

    def fn(x, p):
        return fn_tree(x, p)

    def grad(x, p):
        return derivative(x, p)[1]

    specs = []
    for pname in compiler.params:
        o = overrides.get(pname, {})
        if pname in compiler.in_exponent:
            default_start = (0.05, 1.5) if compiler.in_exponent[pname] else (-1.5, 1.5)
        else:
            default_start = (-1.0, 1.0)
        lo, hi = o.get("bounds", (-INF, INF))
        bounds = (-INF if lo is None else float(lo), INF if hi is None else float(hi))  # None: unbounded
        if not bounds[0] < bounds[1]:
            raise ScalingLawsError(f"parameter {pname}: bounds {bounds[0]:g}:{bounds[1]:g} are empty or inverted; "
                                   f"the lower bound must be below the upper, e.g. bounds:{min(bounds):g}:"
                                   f"{max(bounds) if bounds[0] != bounds[1] else bounds[0] + 1:g}")
        start = tuple(float(s) for s in o.get("start", _start_within(bounds, default_start)))
        if not start[0] <= start[1] or not all(np.isfinite(start)):
            raise ScalingLawsError(f"parameter {pname}: start range {start[0]:g}:{start[1]:g} is inverted or not "
                                   f"finite; write LO:HI with LO <= HI, e.g. {min(start):g}:{max(start):g}")
        if o.get("log_start") and start[0] <= 0:
            raise ScalingLawsError(f"parameter {pname}: a log start range must be positive, got {start[0]:g}:"
                                   f"{start[1]:g}")
        specs.append(Param(pname, bounds, start, log_start=bool(o.get("log_start", False))))
    law_inputs = {s: names[s] for s in compiler.inputs}
    shown_law = text if ";" in text or "\n" in text else f"y = {text}"
    draft = Law(name=name or "formula", formula=shown_law, inputs=law_inputs, params=tuple(specs), fn=fn,
                target=target)
    source = {"kind": "formula", "expr": expr, "inputs": dict(inputs or {}), "target": target,
              "params": {k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()}
                         for k, v in overrides.items()}}
    return Law(name=draft.name, formula=draft.formula, inputs=law_inputs, params=draft.params, fn=fn, grad=grad,
               linear=affine_params(draft), target=target, source=source,
               reference="user formula", notes="parameters it is affine in are solved by variable projection")


def _start_within(bounds: tuple[float, float], default: tuple[float, float]) -> tuple[float, float]:
    lo, hi = bounds
    if lo == -INF and hi == INF:
        return default
    a = max(default[0], lo) if lo > -INF else default[0]
    b = min(default[1], hi) if hi < INF else default[1]
    if not a < b:  # the default range lies outside the bounds: start inside them instead
        a = lo if lo > -INF else hi - 1.0
        b = hi if hi < INF else lo + 1.0
    return (a, b)


def looks_like_formula(text: str) -> bool:
    return any(ch in text for ch in "+-*/^()·")

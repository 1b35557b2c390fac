"""The vocabulary law (Tao et al. 2024) on the authors' runs: its forecast of the 1.2B models, the vocabulary it
chooses for them, and the compute-optimal vocabulary at larger budgets.

1. Fit on the five sizes up to 682M, every row with FLOPs ≥ 2.18e17 (the authors' cut in their isoloss fit).
2. Forecast the ten 1197M runs' final unigram-normalised losses; score: mean |error| in nats/token, and relative.
   The same score for a Chinchilla-style law fitted to the same rows, -E + A/N^α + B/D^β with N = every parameter
   and D = tokens (the sign of E flipped, as the target is negative): it sees the vocabulary only through N and D.
   And the vocabulary law with tokens in place of characters in its data term, as the authors' fitting script has
   it (`approach3_isoloss.py` feeds H_to_D(H, V)).
3. The best vocabulary of the 1197M model at the budget of its V = 32,768 run (FLOP 3.94e20), from the law with
   the FLOP accounting of plan/vocabulary.py (n held at the 1197M model's N_nv), against the observed best.
4. The compute-optimal vocabulary (and N_nv, tokens) at budgets 1e20 … 1e24 from `optimise_axis`, to be set beside
   the paper's trend: its abstract and Figure 1 put the optimal vocabulary of a Llama2-70B-sized model at 216K or
   more (Nnv ≈ 70B), and its optimal V grows as a power of the budget.

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_vocab.py
The runs are read from ../shared/data/vocab_tao2024 (not bundled: no licence; SCALINGLAWS_SHARED_DATA to point
elsewhere); the benchmark says so and stops when they are absent.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.laws.vocabulary import VOCABULARY, tokens_per_character
from scalinglaws.plan.axes import optimise_axis

SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
RUNS = SHARED / "vocab_tao2024" / "runs.csv"
PLAIN = "-E + A*N**-alpha + B*D**-beta"


def main() -> int:
    if not RUNS.exists():
        print(f"{RUNS} is not here: nothing to benchmark")
        return 0
    df = pd.read_csv(RUNS)
    df["run"] = df.model_size_label + "-" + df.vocab_size.astype(str)
    train = df[(df.model_size_label != "1197M") & (df.flops >= 2.18e17)]
    test = df[(df.model_size_label == "1197M") & df.is_final]
    y = test.loss_unigram_normalized.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        law = sl.fit(train, "vocabulary")
        # the authors' fitting script reads tokens, not characters, in the data term
        in_tokens = sl.fit(train, "vocabulary", inputs={"H": "tokens"})
        plain = sl.fit(train, PLAIN, inputs={"N": "params", "D": "tokens"}, target="loss_unigram_normalized",
                       space="linear")
    print(f"fitted on {len(train)} rows (5 sizes ≤ 682M, FLOPs ≥ 2.18e17); forecast: 10 final 1197M runs")
    print("vocabulary law:", {k: round(v, 4) for k, v in law.params.items()}, "converged" if law.converged else
          "did not converge", "·", "; ".join(law.warnings) or "no warnings")
    x = {"N_nv": test.params_non_vocab.to_numpy(), "N_v": test.params_vocab.to_numpy(),
         "H": test.characters.to_numpy()}
    pred_law = VOCABULARY(x, law.params)
    pred_tokens = VOCABULARY({**x, "H": test.tokens.to_numpy()}, in_tokens.params)
    pred_plain = plain.get_law()({"N": test.params.to_numpy(), "D": test.tokens.to_numpy()}, plain.params)
    for name, pred in (("vocabulary law", pred_law), ("  ...H = tokens", pred_tokens),
                       ("chinchilla-style", pred_plain)):
        err = np.abs(pred - y)
        print(f"  {name:18s} mean |error| {err.mean():.4f} nats/token ({(err / np.abs(y)).mean():.2%}), "
              f"max {err.max():.4f}; best V by forecast {int(test.vocab_size.to_numpy()[np.argmin(pred)])}")
    print(f"  observed: best V {int(test.vocab_size.to_numpy()[np.argmin(y)])} "
          f"(L_u {y.min():.4f}; spread over V {y.max() - y.min():.4f})")

    nnv, d = float(test.params_non_vocab.iloc[0]), float(test.embed_dim.iloc[0])
    C = float(test.flops[test.vocab_size == 32768].iloc[0])
    V = np.geomspace(2048, 262144, 4001)
    D = C / (6 * (nnv + V * d))
    L = VOCABULARY({"N_nv": np.full_like(V, nnv), "N_v": V * d, "H": D / tokens_per_character(V)}, law.params)
    print(f"best V of the 1197M model (N_nv {nnv:.3g}, d {d:.0f}) at {C:.3g} FLOP: {V[np.argmin(L)]:,.0f} "
          "(observed 32,768)")

    print("compute-optimal vocabulary (plan --optimise vocab_size, accounting plan/vocabulary.py):")
    for c in (1e20, 1e21, 1e22, 1e23, 1e24):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = optimise_axis(law, c, "vocab_size", bounds=(1024, 4_000_000))
        print(f"  C {c:.0e}: V* {p.value:>9,.0f}  N_nv {p.params:.3g}  tokens {p.tokens:.3g}  L_u {p.loss:.4f}"
              f"{'  (' + str(round(p.extrapolation)) + '× beyond the runs)' if p.extrapolation > 3 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The vocabulary law: loss as a function of non-vocabulary parameters, vocabulary parameters and training
characters (Tao et al. 2024, "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies",
arXiv:2407.13623, eq. 5).

Losses of models with different vocabularies cannot be compared as cross-entropies per token: a larger vocabulary
makes each token rarer and so harder to predict. Tao et al. measure the unigram-normalised loss instead,

    L_u = -(1/T) Σ_i ln( p(w_i | w_<i) / p(w_i) ),

the cross-entropy minus what a unigram model of the same tokens would pay (p(w) the token's frequency in the
corpus). It is negative (the model beats the unigram model) and lower is better. Their law counts the two kinds of
parameters apart, N_nv (every parameter but the embeddings) and N_v = V·d (a vocabulary of V tokens, embedding
width d), and the data in characters H, which do not depend on the tokeniser:

    L_u = -E + A1 / N_nv^α1 + A2 / N_v^α2 + B / H^β

Since L_u < 0, the law is fitted in linear residual space (its `space`), on absolute errors in nats per token.
"""

from __future__ import annotations

import numpy as np

from .spec import Law, Param

POS = (0.0, np.inf)
EXPONENT = (0.1, 1.0)  # the authors keep every exponent in (0.1, 1): outside it the terms trade off freely

# Tokens per character of a BPE vocabulary of V tokens trained on SlimPajama: the authors' quadratic fit in ln V
# (Tao et al. 2024, sec. 4 and their released `H_to_D`), used to turn characters into tokens.
TOKENS_PER_CHARACTER = (0.00639222, -0.15811069, 1.20470122)  # coefficients of ln²V, ln V, 1


def tokens_per_character(vocab_size, coefficients=TOKENS_PER_CHARACTER) -> np.ndarray:
    """t(V): tokens per character of a vocabulary of V tokens, a·ln²V + b·lnV + c (Tao et al. 2024)."""
    a, b, c = coefficients
    lv = np.log(np.asarray(vocab_size, dtype=float))
    return a * lv ** 2 + b * lv + c


def unigram_entropy(counts) -> float:
    """-Σ p ln p (nats) of the token frequencies p = counts / Σ counts: the loss per token of a unigram model of
    the corpus it was counted on. Tokens never seen (count 0) add nothing."""
    c = np.asarray(counts, dtype=float).ravel()
    if c.size == 0 or np.any(c < 0) or not np.all(np.isfinite(c)) or c.sum() <= 0:
        raise ValueError("counts must be finite, non-negative and not all zero")
    p = c[c > 0] / c.sum()
    return float(-(p * np.log(p)).sum())


def unigram_normalized_loss(loss, unigram_entropy) -> np.ndarray:
    """L_u = loss - unigram loss: the cross-entropy per token (nats) less the mean of -ln p(w) over the same
    tokens, p the unigram frequency (Tao et al. 2024, eq. 3). When the evaluation text has the corpus's token
    frequencies, that mean is the unigram entropy (`unigram_entropy(counts)`). Negative when the model beats a
    unigram model; comparable across vocabularies, unlike the loss per token."""
    return np.asarray(loss, dtype=float) - np.asarray(unigram_entropy, dtype=float)


def vocabulary(x, p):
    # α1 = β, as the authors fit it (Tao et al. 2024, sec. 5.3): free, the two trade off against E on this data
    return (-p["E"] + p["A1"] * x["N_nv"] ** -p["beta"] + p["A2"] * x["N_v"] ** -p["alpha2"]
            + p["B"] * x["H"] ** -p["beta"])


def vocabulary_grad(x, p):
    tn = x["N_nv"] ** -p["beta"]
    tv = x["N_v"] ** -p["alpha2"]
    th = x["H"] ** -p["beta"]
    return {
        "E": -np.ones_like(tn + tv + th),
        "A1": tn, "A2": tv, "B": th,
        "alpha2": -p["A2"] * tv * np.log(x["N_v"]),
        "beta": -p["B"] * th * np.log(x["H"]) - p["A1"] * tn * np.log(x["N_nv"]),
    }


VOCABULARY = Law(
    name="vocabulary",
    formula="L_u = -E + A1·N_nv^(-beta) + A2·N_v^(-alpha2) + B·H^(-beta)",
    inputs={"N_nv": "params_non_vocab", "N_v": "params_vocab", "H": "characters"},
    params=(
        Param("E", POS, (1.0, 8.0), doc="minus the irreducible unigram-normalised loss (nats/token)"),
        Param("A1", POS, (1.0, 1e5), log_start=True, doc="non-vocabulary parameter term scale"),
        Param("A2", POS, (0.1, 1e4), log_start=True, doc="vocabulary parameter term scale"),
        Param("B", POS, (1.0, 1e5), log_start=True, doc="data (characters) term scale"),
        Param("alpha2", EXPONENT, (0.15, 0.9), doc="vocabulary parameter exponent"),
        Param("beta", EXPONENT, (0.15, 0.9), doc="data exponent, also the non-vocabulary parameter exponent α1"),
    ),
    fn=vocabulary, grad=vocabulary_grad, linear=("E", "A1", "A2", "B"),
    target="loss_unigram_normalized", space="linear",
    reference="Tao et al. 2024, arXiv:2407.13623, eq. 5",
    notes="Target: the unigram-normalised loss (negative; fitted on absolute errors). N_v = V·d; H in characters. "
          "The authors' released coefficients give their published vocabularies with tokens in the data term "
          "(inputs={'H': 'tokens'}), as their prediction reads it (docs/laws.md).",
)

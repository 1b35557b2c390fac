"""The law library: a plain dict from name to `Law` (see docs/laws.md).

Adding a law is writing one function and one spec and listing it here.
"""

from __future__ import annotations

from ..errors import ScalingLawsError
from .batch import BATCH_SIZE
from .broken import BNSL, BNSL2, make_bnsl
from .curation import UTILITY_DECAY
from .dcpt import DCPT
from .experts import MOE_GRANULAR, MOE_ROUTED
from .farseer import FARSEER
from .formula import formula_law, looks_like_formula
from .mixing import DATA_MIXING, DATA_MIXING3
from .parametric import CHINCHILLA, DATA_CONSTRAINED, KAPLAN, OVERTRAIN, POWER, SKALING
from .precision import PRECISION, PRECISION_BITS
from .saturating import SATURATING
from .schedule import LR_ANNEALING, LR_ANNEALING_ND, MULTIPOWER, SCHEDULE
from .sparsity import SPARSE_AVERAGE
from .spec import Law, Param
from .streams import PARSCALE, PARSCALE_ND
from .vocabulary import VOCABULARY

LAWS: dict[str, Law] = {law.name: law for law in (
    POWER, CHINCHILLA, KAPLAN, SKALING, OVERTRAIN, DATA_CONSTRAINED, FARSEER, BNSL, BNSL2,
    SCHEDULE, LR_ANNEALING, MULTIPOWER, LR_ANNEALING_ND, UTILITY_DECAY, DCPT, BATCH_SIZE, VOCABULARY,
    MOE_GRANULAR, MOE_ROUTED, PARSCALE, PARSCALE_ND, PRECISION, PRECISION_BITS, SPARSE_AVERAGE, SATURATING,
    DATA_MIXING, DATA_MIXING3,
)}


# the names the papers and other tools use for the laws above (lower case, '-' and ' ' read as '_')
ALIASES = {"hoffmann": "chinchilla", "hoffmann2022": "chinchilla", "approach3": "chinchilla",
           "kaplan2020": "kaplan", "muennighoff": "data_constrained", "muennighoff2023": "data_constrained",
           "datablations": "data_constrained", "gadre": "overtrain", "gadre2024": "overtrain",
           "caballero": "bnsl", "broken": "bnsl", "tissue": "lr_annealing", "tissue2024": "lr_annealing",
           "luo": "multipower", "luo2025": "multipower", "multi_power": "multipower", "power_law": "power",
           "goyal2024": "utility_decay", "fadu": "utility_decay", "d_cpt": "dcpt", "que2024": "dcpt",
           "krajewski": "moe_granular", "krajewski2024": "moe_granular", "clark": "moe_routed",
           "clark2022": "moe_routed", "parallel_scaling": "parscale", "kumar": "precision", "kumar2024": "precision",
           "jin2025": "sparse_average", "saturation_both": "saturating", "nezhurina": "saturating",
           "nezhurina2025": "saturating", "ye2024": "data_mixing",
           "mixing_law": "data_mixing"}


def register_law(law: Law, *, replace: bool = False) -> Law:
    """Make a user law available by name (to `fit`, the CLI in this process, and fit files that name it)."""
    if law.name in LAWS and not replace and LAWS[law.name] is not law:
        raise ScalingLawsError(f"a law named '{law.name}' exists already. Choose another name or pass replace=True")
    LAWS[law.name] = law
    return law


def get_law(spec) -> Law:
    """A Law from a Law, a registered name, a name with published values held ('chinchilla@besiroglu2024',
    laws/published.py), or a formula string."""
    if isinstance(spec, Law):
        return spec
    if not isinstance(spec, str):
        raise ScalingLawsError(f"a law is a name, a formula string or a Law, not {type(spec).__name__}")
    if spec in LAWS:
        return LAWS[spec]
    if "@" in spec and not looks_like_formula(spec):  # 'chinchilla@besiroglu2024': published values held
        from .published import prior_law, prior_named

        prior = prior_named(spec.strip())
        return prior_law(get_law(prior.law), prior)
    key = spec.strip().lower().replace("-", "_").replace(" ", "_")
    if key in LAWS or ALIASES.get(key) in LAWS:
        return LAWS[key if key in LAWS else ALIASES[key]]
    if looks_like_formula(spec):
        return formula_law(spec)
    from difflib import get_close_matches

    near = get_close_matches(key, list(LAWS) + list(ALIASES), n=1, cutoff=0.75)
    hint = f"Did you mean '{ALIASES.get(near[0], near[0])}'? " if near else ""
    raise ScalingLawsError(f"unknown law '{spec}'. {hint}Choose one of: {', '.join(LAWS)} (`scalinglaws laws` "
                           "lists them), or give a formula such as 'E + A*N**-alpha'")


def recorded_law(name: str, source=None) -> Law:
    """A law by the name and source a record keeps (a fit file, a law mixture's member): rebuilt from its formula,
    or found in the registry."""
    if source and source.get("kind") == "grouped":
        from .grouped import grouped

        return grouped(recorded_law(source["base"]), source["by"], source["groups"], source["shared"],
                       within=source.get("within", True))
    if source and source.get("kind") == "fixed":  # a law with some parameters held (laws/fixed.py)
        from .fixed import fix_params

        return fix_params(recorded_law(source["base"], source.get("base_source")), source["values"])
    if source and source.get("kind") == "formula":
        params = {k: {kk: tuple(vv) if isinstance(vv, list) else vv for kk, vv in v.items()}
                  for k, v in source.get("params", {}).items()}
        return formula_law(source["expr"], name=name, inputs=source.get("inputs"), params=params,
                           target=source.get("target", "loss"))
    if name in LAWS:
        return LAWS[name]
    raise ScalingLawsError(f"the fit uses law '{name}', which is not registered in this process. Register it "
                           "with scalinglaws.register_law(...) before loading the fit")


__all__ = ["LAWS", "Law", "Param", "formula_law", "get_law", "make_bnsl", "recorded_law", "register_law"]

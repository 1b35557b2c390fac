"""Published measurements bundled with the package, as runs tables.

`load_dataset("chinchilla_epoch")` returns a `Runs`; on the command line any data argument also takes
`dataset:NAME`. Attribution and licences: `data/NOTICE.md`. The files are rebuilt by `tools/bundle_datasets.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import ScalingLawsError


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    varies: str
    source: str
    licence: str
    cite: str
    notes: str = ""


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("chinchilla_epoch", "Chinchilla final losses (Hoffmann 2022 Fig. 4, digitised by Epoch AI)",
            "N 57M–16B, C 1.4e18–1.3e22, one row per run",
            "github.com/epoch-research/analyzing-chinchilla", "no licence stated; digitised facts, with attribution",
            "Hoffmann et al. 2022; Besiroglu et al. 2024",
            "epoch_excluded marks the 5 highest-loss points Epoch drops before fitting"),
    Dataset("porian_isoflop", "IsoFLOP sweeps under 10 training setups (Porian 2024)",
            "N 0.3M–1B × 12 budgets 1.25e16–2.56e19 × setup (family) × dataset",
            "github.com/formll/resolving-scaling-law-discrepancies", "MIT", "Porian et al. 2024",
            "family is the paper's setup; param_count_convention says how N was counted"),
    Dataset("multipower_lr_curves", "Loss curves under 9 LR schedules (Luo 2025 Multi-Power Law)",
            "25M/100M/400M × cosine, constant, WSD, two-stage schedules; loss and lr per step",
            "github.com/thu-yao-01-luo/MultiPowerLaw", "MIT", "Luo et al. 2025", "params is nominal"),
    Dataset("pythia_evals", "Pythia downstream evaluations over training (Biderman 2023)",
            "70M–12B × 26 checkpoints × 0/5-shot, 9 tasks and LAMBADA",
            "github.com/EleutherAI/pythia", "Apache-2.0", "Biderman et al. 2023",
            "no loss column: use --target, e.g. lambada_openai__loss or piqa__acc"),
    Dataset("obsscaling", "Public base models' benchmark scores (Ruan 2024 Observational Scaling)",
            "148 models 70M–405B across 40+ families; 8 benchmarks",
            "github.com/ryoungj/ObsScaling", "Apache-2.0", "Ruan, Maddison, Hashimoto 2024",
            "tokens and flops unknown for 25 models"),
    Dataset("datablations", "Repeated-data training curves (Muennighoff 2023)",
            "2.8B/4.2B/8.7B, 1–44 epochs of repeated data, validation loss vs tokens",
            "github.com/IBM/ColPret (from huggingface/datablations)", "MIT (ColPret)",
            "Muennighoff et al. 2023; Choshen et al. 2024"),
    Dataset("datablations_contour", "Data-constrained final losses (Muennighoff 2023 contour grid)",
            "N 7M–8.7B, D 100M–900B, unique tokens 100M–178B",
            "github.com/IBM/ColPret (from huggingface/datablations)", "MIT (ColPret)", "Muennighoff et al. 2023"),
    Dataset("gpt3_curves", "GPT-3 loss curves (Brown 2020 Fig. 4.1, digitised)",
            "125M–175B, train and validation loss vs tokens", "github.com/IBM/ColPret", "MIT (ColPret)",
            "Brown et al. 2020", "digitisation noise about ±0.01–0.02 nats; split is train or validation"),
    Dataset("opt_trajectories", "OPT validation perplexity over training (Xia 2023)",
            "125M–175B checkpoints", "github.com/IBM/ColPret", "MIT (ColPret)", "Xia et al. 2023"),
    Dataset("olmo1_curves", "OLMo-1 validation losses and downstream accuracy over training",
            "OLMo-1B, 7B, 7B-Twin-2T; many eval sets per step", "github.com/IBM/ColPret (OLMo W&B logs)",
            "MIT (ColPret); Apache-2.0 (OLMo)", "Groeneveld et al. 2024",
            "no loss column: pick one with --target, e.g. v3_small_c4_en_validation__crossentropyloss"),
)}


def _data_dir() -> Path:
    return Path(str(resources.files(__package__) / "data"))


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads((_data_dir() / "manifest.json").read_text())


def dataset_path(name: str) -> Path:
    if name not in DATASETS:
        close = [n for n in DATASETS if n.startswith(name[:4])] or list(DATASETS)
        raise ScalingLawsError(f"no bundled dataset '{name}'. Choose one of: {', '.join(close)} "
                               "(`scalinglaws datasets` lists them)")
    return _data_dir() / manifest()[name]["file"]


def load_dataset(name: str):
    """A bundled dataset as a validated `Runs` table."""
    from ..runs.io import _read_csv
    from ..runs.validate import validate

    cols, lines, word = _read_csv(dataset_path(name), ",")
    return validate(cols, f"dataset:{name}", lines, word)


def list_datasets() -> list[dict]:
    """One record per bundled dataset: name, rows, what varies, source, licence, citation."""
    info = manifest()
    return [{"name": d.name, "rows": info[d.name]["rows"], "title": d.title, "varies": d.varies,
             "source": d.source, "licence": d.licence, "cite": d.cite, "notes": d.notes,
             "columns": info[d.name]["columns"]} for d in DATASETS.values()]


def _read_dataset_source(name: str):
    return load_dataset(name)


__all__ = ["DATASETS", "Dataset", "dataset_path", "list_datasets", "load_dataset"]

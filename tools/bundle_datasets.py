"""Rebuild the datasets bundled in the package from the shared measurements.

Run from the repository root:  python tools/bundle_datasets.py ../shared/data

Each bundled file is a runs table (docs/runs-table.md): the source's columns renamed to the schema, rows that cannot
be fitted (random-initialisation checkpoints with zero tokens) dropped, and everything else kept as extra columns.
The attribution for every file is in src/scalinglaws/datasets/data/NOTICE.md. Needs pandas.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "scalinglaws" / "datasets" / "data"


def chinchilla_epoch(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "chinchilla_epoch" / "runs.csv")
    return pd.DataFrame({
        "run": [f"chinchilla-{i:03d}" for i in range(len(df))],
        "params": df.params, "tokens": df.tokens, "flops": df.flops, "loss": df.loss,
        "family": "chinchilla", "dataset": df.dataset,
        "epoch_excluded": df.epoch_excluded_outlier.astype(bool),
    })


def porian_isoflop(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "porian_isoflop" / "runs.csv")
    run = (df.config + "/" + df.dataset + "/" + df.param_count_convention + "/" + df.loss_split
           + "/N=" + df.params.astype(str) + "/C=" + df.flops.map("{:.3g}".format))
    return pd.DataFrame({
        "run": run, "params": df.params.astype(float), "tokens": df.tokens, "flops": df.flops, "loss": df.loss,
        "family": df.config, "dataset": df.dataset, "hparams": df.hparams, "warmup": df.warmup,
        "lr_decay": df.lr_decay, "param_count_convention": df.param_count_convention,
        "loss_split": df.loss_split, "source_file": df.source_file,
    })


def multipower_lr_curves(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "multipower_lr_curves" / "runs.csv")
    return pd.DataFrame({
        "run": df.run_name, "params": df.params_nominal.astype(float), "step": df.step, "lr": df.lr,
        "loss": df.loss, "family": df.model_family, "size": df.model_size_label, "schedule": df.lr_schedule,
        "lr_sum": df.lr_sum, "total_steps": df.total_steps, "warmup_steps": df.warmup_steps,
        "peak_lr": df.peak_lr, "end_lr": df.end_lr, "decay_start_step": df.decay_start_step, "split": df.mpl_split,
    })


def pythia_evals(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "pythia_evals" / "runs.csv")
    df = df[df.step > 0].reset_index(drop=True)  # step 0 is the random initialisation: zero tokens, no scaling
    metrics = [c for c in df.columns if "__" in c and c != "mmlu_n_subjects"]
    out = pd.DataFrame({
        "run": df.model_name, "params": df.params.astype(float), "tokens": df.tokens.astype(float),
        "flops": df.flops, "step": df.step, "family": np.where(df.variant == "deduped", "pythia-deduped", "pythia"),
        "dataset": df.dataset, "size": df.size_label, "variant": df.variant, "shots": df.shots,
        "params_no_embed": df.params_no_embed.astype(float),
    })
    for c in metrics:
        out[c] = df[c]
    out["lambada_openai__loss"] = np.log(df.lambada_openai__ppl)  # ln(perplexity): a held-out loss proxy
    return out


def obsscaling(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "obsscaling" / "runs.csv")
    out = df.rename(columns={"model": "run", "model_family": "family"})
    return out


def datablations(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "datablations_muennighoff" / "runs.csv")
    return pd.DataFrame({
        "run": df.run_id, "params": df.params.astype(float), "tokens": df.tokens.astype(float), "flops": df.flops,
        "loss": df.loss, "family": df.model_family, "dataset": df.dataset,
        "unique_tokens": df.unique_tokens, "epochs": df.epochs_total, "epochs_seen": df.epochs_seen,
        "size": df.params_label,
    })


def datablations_contour(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "datablations_muennighoff" / "final_losses_contour.csv")
    return pd.DataFrame({
        "run": df.run_name, "params": df.params.astype(float), "tokens": df.tokens.astype(float),
        "flops": df.flops, "loss": df.loss, "family": "gpt2_megatron_datablations", "dataset": df.dataset,
        "unique_tokens": df.unique_tokens.astype(float), "epochs": df.epochs,
    })


def gpt3_curves(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "gpt3_curves_digitized" / "runs.csv")
    return pd.DataFrame({
        "run": df.model_name, "params": df.params, "tokens": df.tokens, "flops": df.flops, "loss": df.loss,
        "family": df.model_family, "dataset": "gpt3_mix", "split": df.loss_split,
        "loss_pixel_min": df.loss_pixel_min, "loss_pixel_max": df.loss_pixel_max,
        "batch_size_tokens": df.batch_size_tokens, "peak_lr": df.lr,
        "n_layers": df.n_layers, "d_model": df.d_model, "n_heads": df.n_heads,
    })


def opt_trajectories(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "opt_trajectories" / "runs.csv")
    return pd.DataFrame({
        "run": df.model_name, "params": df.params, "tokens": df.tokens, "flops": df.flops, "step": df.step,
        "loss": df.loss, "family": df.model_family, "dataset": df.dataset, "perplexity": df.perplexity,
    })


def olmo1_curves(src: Path) -> pd.DataFrame:
    df = pd.read_csv(src / "olmo1_curves" / "runs.csv", low_memory=False)
    keep = [c for c in df.columns if c.endswith("__crossentropyloss") or c.startswith("downstream__")]
    out = pd.DataFrame({
        "run": df.model_name, "params": df.params.astype(float), "step": df.step, "tokens": df.tokens,
        "family": "olmo1", "dataset": "dolma",
    })
    for c in keep:
        out[c] = df[c]
    return out


BUILDERS = {
    "chinchilla_epoch": chinchilla_epoch,
    "porian_isoflop": porian_isoflop,
    "multipower_lr_curves": multipower_lr_curves,
    "pythia_evals": pythia_evals,
    "obsscaling": obsscaling,
    "datablations": datablations,
    "datablations_contour": datablations_contour,
    "gpt3_curves": gpt3_curves,
    "opt_trajectories": opt_trajectories,
    "olmo1_curves": olmo1_curves,
}


def main(src: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, build in BUILDERS.items():
        df = build(src)
        path = OUT / f"{name}.csv.gz"
        # mtime=0 keeps the gzip bytes identical from one rebuild to the next
        import gzip
        with gzip.GzipFile(path, "wb", mtime=0) as fh:
            fh.write(df.to_csv(index=False, float_format="%.10g").encode())
        manifest[name] = {
            "file": path.name, "rows": int(len(df)), "columns": list(df.columns),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        print(f"{name:22s} {len(df):6d} rows  {path.stat().st_size / 1024:7.1f} KiB")
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))

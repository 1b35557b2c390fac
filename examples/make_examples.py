"""Rebuild the example logs in this folder from published measurements (see NOTICE.md).

    python examples/make_examples.py [PYTHIA_EVALS_JSON_GZ]

- tensorboard/100M_cosine_24000/: one real training curve, the 100M-parameter model trained 23,920 steps on a cosine
  schedule (Luo et al. 2025, bundled as dataset:multipower_lr_curves), written with TensorBoard's own writer as
  the scalars `train/loss` and `train/lr`, one event per logged step. Event files record the wall-clock time of
  writing, so a rebuilt file differs from the committed one in those times only.
- lm-eval/pythia-160m_step143000.json: one real lm-evaluation-harness result file, Pythia-160M's final checkpoint
  zero-shot (Biderman et al. 2023), taken unchanged from EleutherAI's evals (default path: the shared data copy).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN = "100M_cosine_24000"
SHARED = Path(os.environ.get("SCALINGLAWS_SHARED_DATA", HERE.parents[1] / "shared" / "data"))
PYTHIA_RAW = SHARED / "pythia_evals" / "raw" / "pythia_v1_evals_zero_five_shot.json.gz"
PYTHIA_KEY = "evals/pythia-v1/pythia-160m/zero-shot/160m_step143000.json"


def write_tensorboard() -> Path:
    from tensorboard.summary import Writer

    import scalinglaws as sl

    runs = sl.load_dataset("multipower_lr_curves").where(f"run={RUN}")
    folder = HERE / "tensorboard" / RUN
    with tempfile.TemporaryDirectory() as tmp:
        writer = Writer(tmp)
        for step, loss, lr in zip(runs["step"], runs["loss"], runs["lr"]):
            writer.add_scalar("train/loss", float(loss), step=int(step))
            writer.add_scalar("train/lr", float(lr), step=int(step))
        writer.close()
        (written,) = Path(tmp).glob("*tfevents*")
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        target = folder / f"events.out.tfevents.{RUN}"  # a fixed name instead of the writer's time and host
        shutil.move(str(written), target)
    return target


def write_lm_eval(raw: Path) -> Path:
    if not raw.is_file():
        sys.exit(f"{raw}: the Pythia evals bundle is missing. Give its path: python examples/make_examples.py "
                 "PATH/pythia_v1_evals_zero_five_shot.json.gz")
    with gzip.open(raw, "rt", encoding="utf-8") as fh:
        result = json.load(fh)[PYTHIA_KEY]
    target = HERE / "lm-eval" / "pythia-160m_step143000.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    raw = Path(sys.argv[1]) if len(sys.argv) > 1 else PYTHIA_RAW
    for path in (write_tensorboard(), write_lm_eval(raw)):
        print(f"wrote {path.relative_to(HERE.parent)} ({path.stat().st_size / 1e3:.1f} kB)")

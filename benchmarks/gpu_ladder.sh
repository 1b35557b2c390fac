#!/usr/bin/env bash
# The ladder benchmark on one GPU, as one prepared script: 6 rungs up to about 20M parameters, bf16 autocast,
# tokens/s and MFU per rung, the held-back rung forecast and scored. Sized to finish in under 8 minutes on an
# H200 (a hard limit of 470 s stops it otherwise). Without a GPU, `benchmarks/gpu_ladder.sh --smoke --device cpu`
# runs the same path on a micro ladder.
#   benchmarks/gpu_ladder.sh [--compile] [--json out.json]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
if [[ " $* " != *" --device "* ]]; then
    set -- --device cuda "$@"
fi
exec timeout 470 "$PY" benchmarks/bench_ladder.py "$@"

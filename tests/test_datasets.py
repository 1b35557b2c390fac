"""The bundled datasets: registry, files, attribution, and the dataset: source."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from scalinglaws.datasets import DATASETS, dataset_path, list_datasets, load_dataset, manifest
from scalinglaws.errors import ScalingLawsError
from scalinglaws.runs import read_runs

REQUIRED = ["chinchilla_epoch", "porian_isoflop", "multipower_lr_curves", "pythia_evals"]
NOT_BUNDLABLE = ["steplaw", "misfitting_li2025"]  # no licence stated: tests only


def test_required_datasets_are_bundled_and_unbundlable_ones_are_not():
    assert set(REQUIRED) <= set(DATASETS)
    assert not set(NOT_BUNDLABLE) & set(DATASETS)
    assert set(DATASETS) == set(manifest())


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_dataset_loads_and_matches_its_manifest(name):
    info = manifest()[name]
    path = dataset_path(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"]
    runs = load_dataset(name)
    assert len(runs) == info["rows"]
    assert runs.source == f"dataset:{name}"
    assert "run" in runs
    for col in ("params", "tokens", "flops", "loss"):
        if col in runs:
            finite = runs[col][np.isfinite(runs[col])]
            assert (finite > 0).all()


def test_listing_says_rows_source_and_licence():
    rows = {d["name"]: d for d in list_datasets()}
    assert rows["chinchilla_epoch"]["rows"] == 245
    assert rows["porian_isoflop"]["licence"] == "MIT"
    assert rows["pythia_evals"]["licence"] == "Apache-2.0"
    for d in rows.values():
        assert d["source"] and d["cite"] and d["varies"]


def test_notice_attributes_every_file():
    notice = (dataset_path("chinchilla_epoch").parent / "NOTICE.md").read_text()
    for name, info in manifest().items():
        assert info["file"].split(".")[0] in notice, name
    licences = dataset_path("chinchilla_epoch").parent / "licenses"
    assert (licences / "multipower_lr_curves.LICENSE").read_text().startswith("MIT License")


def test_chinchilla_matches_the_published_points(shared_data):
    import csv

    with open(shared_data / "chinchilla_epoch" / "runs.csv") as fh:
        rows = list(csv.DictReader(fh))
    runs = load_dataset("chinchilla_epoch")
    np.testing.assert_allclose(runs["loss"], [float(r["loss"]) for r in rows], rtol=1e-9)
    np.testing.assert_allclose(runs["params"], [float(r["params"]) for r in rows], rtol=1e-9)
    flagged = runs["epoch_excluded"]
    assert flagged.sum() == 5
    assert set(np.argsort(runs["loss"])[-5:]) == set(np.flatnonzero(flagged))  # the 5 highest losses


def test_dataset_source_and_filters():
    runs = read_runs("dataset:pythia_evals?shots=0&family=pythia")
    assert set(runs["shots"].tolist()) == {0.0}
    assert runs.n_runs == 8
    with pytest.raises(ScalingLawsError, match="no bundled dataset 'chinchila'"):
        read_runs("dataset:chinchila")


def test_cli_lists_and_describes(cli):
    code, out, _ = cli("datasets", "--json")
    assert code == 0 and '"porian_isoflop"' in out
    code, out, _ = cli("datasets", "multipower_lr_curves")
    assert code == 0 and "schedule" in out and "27 runs" in out
    code, _, err = cli("datasets", "nope")
    assert code == 1 and err.startswith("Error: no bundled dataset 'nope'")

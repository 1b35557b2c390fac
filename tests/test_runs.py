"""The runs table: schema, every loader, --map, filters, and every kind of bad input."""

from __future__ import annotations

import gzip
import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.errors import DataWarning, ScalingLawsError
from scalinglaws.runs import Runs, parse_map, read_runs

CSV = "run,params,tokens,loss,family\na,1e8,2e9,3.1,x\nb,2e8,4e9,2.9,x\nc,4e8,8e9,2.7,y\n"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_types_lines_and_derived_flops(tmp_path):
    runs = read_runs(write(tmp_path, "runs.csv", CSV))
    assert len(runs) == 3 and runs.n_runs == 3
    assert runs["params"].dtype == float and runs["family"].tolist() == ["x", "x", "y"]
    np.testing.assert_allclose(runs["flops"], 6 * runs["params"] * runs["tokens"])
    assert any("6·N·D" in n for n in runs.notes)
    assert runs.locate(0) == "line 2 of runs.csv"  # the header is line 1


def test_columns_are_read_only(tmp_path):
    runs = read_runs(write(tmp_path, "runs.csv", CSV))
    with pytest.raises(ValueError):
        runs["loss"][0] = 0.0


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "json", "json-object", "tsv", "csv.gz"])
def test_every_format_reads_the_same_table(tmp_path, fmt):
    import pyarrow as pa

    ref = read_runs(write(tmp_path, "runs.csv", CSV))
    records = [{k: ref[k][i].item() if hasattr(ref[k][i], "item") else ref[k][i] for k in
                ("run", "params", "tokens", "loss", "family")} for i in range(len(ref))]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        path = tmp_path / "runs.parquet"
        pq.write_table(pa.Table.from_pylist(records), path)
    elif fmt == "jsonl":
        path = write(tmp_path, "runs.jsonl", "\n".join(json.dumps(r) for r in records))
    elif fmt == "json":
        path = write(tmp_path, "runs.json", json.dumps(records))
    elif fmt == "json-object":
        path = write(tmp_path, "runs.json", json.dumps({"runs": records}))
    elif fmt == "tsv":
        path = write(tmp_path, "runs.tsv", CSV.replace(",", "\t"))
    else:
        path = tmp_path / "runs.csv.gz"
        path.write_bytes(gzip.compress(CSV.encode()))
    runs = read_runs(path)
    for col in ("params", "tokens", "loss"):
        np.testing.assert_allclose(runs[col], ref[col])
    assert runs["run"].tolist() == ["a", "b", "c"]


def test_dataframe_arrow_and_mapping_sources():
    import pandas as pd
    import pyarrow as pa

    df = pd.DataFrame({"params": [1e8, 2e8], "tokens": [1e9, 2e9], "loss": [3.0, 2.8]}, index=[10, 11])
    runs = read_runs(df)
    assert runs.locate(1) == "row 11 of DataFrame"
    assert read_runs(pa.Table.from_pandas(df))["loss"].tolist() == [3.0, 2.8]
    assert read_runs({"params": [1e8], "tokens": [1e9], "loss": [3.0]})["flops"][0] == pytest.approx(6e17)
    assert read_runs(runs) is runs
    np.testing.assert_array_equal(runs.to_pandas()["loss"], [3.0, 2.8])


def test_map_renames_columns(tmp_path):
    path = write(tmp_path, "r.csv", "size,n_tokens,val\n1e8,2e9,3.0\n2e8,4e9,2.8\n")
    runs = read_runs(path, rename=["params=size", "tokens=n_tokens", "loss=val"])
    assert {"params", "tokens", "loss"} <= set(runs.names)
    with pytest.raises(ScalingLawsError, match=r"rename 'ntok' -> 'tokens': r.csv has no column 'ntok' \(found: size"):
        read_runs(path, rename={"ntok": "tokens"})
    assert set(read_runs(path, rename={"size": "params", "n_tokens": "tokens", "val": "loss"}).names) >= {"params"}
    with pytest.raises(ScalingLawsError, match=r"Did you mean \{'size': 'params'\}\? rename= maps old -> new"):
        read_runs(path, rename={"params": "size"})  # written the other way round
    with pytest.raises(ScalingLawsError, match="is not NEW=OLD"):
        parse_map(["tokens"])


def test_filters(tmp_path):
    runs = read_runs(write(tmp_path, "runs.csv", CSV))
    assert runs.where("family=x").names == runs.names
    assert len(runs.where("family=x")) == 2
    assert len(runs.where("params>=2e8", "family!=y")) == 1
    assert len(runs.where("family=x|y")) == 3
    assert len(read_runs(str(tmp_path / "runs.csv") + "?params<2e8")) == 1
    with pytest.raises(ScalingLawsError,
                       match=r"filter 'famly=x': column 'famly' is missing from runs.csv \(found: run"):
        runs.where("famly=x")
    with pytest.raises(ScalingLawsError, match="not of the form"):
        runs.where("family")
    with pytest.raises(ScalingLawsError, match="holds numbers"):
        runs.where("params=big")
    with pytest.raises(ScalingLawsError, match="leaves no rows"):
        runs.where("params>1e12")
    with pytest.raises(ScalingLawsError, match="only compare with = or !="):
        runs.where("family<x")


def test_groups_and_hash(tmp_path):
    runs = read_runs(write(tmp_path, "runs.csv", CSV))
    groups = runs.groups("family")
    assert list(groups) == ["x", "y"] and len(groups["x"]) == 2
    assert runs.hash(["params", "loss"]) == read_runs(write(tmp_path, "b.csv", CSV)).hash(["params", "loss"])
    assert runs.hash(["loss"]) != runs.take([0, 1]).hash(["loss"])


# -- bad input: one line naming the place and the fix ----------------------------------------------------------------
BAD = [
    ("missing file", None, r"file not found: .*nope\.csv\. Check the path"),
    ("empty file", "", r"empty\.csv is empty"),
    ("header only", "params,tokens,loss\n", r"has a header but no rows"),
    ("non-numeric", "params,tokens,loss\n1e8,2e9,3.0\n7 bn,2e9,3.0\n",
     r"column 'params' has a non-numeric value '7 bn' at line 3 of bad\.csv\. Write a number \(7e9, or a size"),
    ("infinite", "params,tokens,loss\n1e8,inf,3.0\n", r"column 'tokens' is infinite at line 2 of bad\.csv"),
    ("zero", "params,tokens,loss\n1e8,2e9,3.0\n1e8,2e9,0\n", r"column 'loss' must be positive but is 0 at line 3"),
    ("negative", "params,tokens,loss\n-1e8,2e9,3.0\n", r"column 'params' must be positive but is -1e\+08 at line 2"),
    ("millions", "params,tokens,loss\n70,2e9,3.0\n410,4e9,2.8\n",
     r"column 'params' in bad\.csv looks scaled \(largest value 410\)"),
    ("ragged", "params,tokens,loss\n1e8,2e9\n", r"bad\.csv could not be read as csv: .*Expected 3 columns"),
    ("unknown type", "x", r"unknown file type '\.xlsx'"),
]


@pytest.mark.parametrize("case,text,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_clear_line(tmp_path, case, text, message):
    name = {"missing file": "nope.csv", "empty file": "empty.csv", "unknown type": "bad.xlsx"}.get(case, "bad.csv")
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ScalingLawsError, match=message) as err:
        read_runs(path)
    assert "\n" not in str(err.value)


def test_missing_and_nan_required_columns(tmp_path):
    path = write(tmp_path, "r.csv", "params,tokens,loss\n1e8,2e9,3.0\n2e8,,2.9\n")
    runs = read_runs(path)  # an empty optional cell is allowed at load time ...
    assert np.isnan(runs["tokens"][1])
    with pytest.raises(ScalingLawsError, match=r"column 'tokens' is empty or NaN at line 3 of r\.csv"):
        read_runs(path, require=["tokens"])  # ... but not where it is needed
    with pytest.raises(ScalingLawsError, match=r"column 'step' is missing from r\.csv \(found: params, tokens"):
        read_runs(path, require=["step"])


def test_duplicate_rows_warn_and_keep_one(tmp_path):
    path = write(tmp_path, "d.csv", "params,tokens,loss\n1e8,2e9,3.0\n2e8,4e9,2.8\n1e8,2e9,3.0\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = read_runs(path)
    assert len(runs) == 2
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert msgs == ["d.csv: 1 duplicate row (line 4 repeats line 2); kept the first of each"]


def test_unknown_object_and_folder(tmp_path):
    with pytest.raises(ScalingLawsError, match="cannot read runs from a int"):
        read_runs(3)
    with pytest.raises(ScalingLawsError, match="is a folder"):
        read_runs(tmp_path)


def test_runs_object_is_immutable():
    runs = Runs({"loss": np.array([1.0, 2.0])})
    with pytest.raises(AttributeError):
        runs.source = "x"


def test_a_fits_data_hash_covers_one_list_of_columns():
    """The engine records the hash over fit_columns; the rows read again for a figure are checked over the same."""
    import scalinglaws as sl
    from scalinglaws.plots.fitdata import fit_data
    from scalinglaws.runs import fit_columns

    runs = sl.load_dataset("chinchilla_epoch")
    f = sl.fit(runs, "chinchilla", starts=64)
    assert fit_columns(f.inputs.values(), f.target) == ["params", "tokens", "loss", "run"]
    assert f.data["hash"] == runs.hash(fit_columns(f.inputs.values(), f.target))
    assert fit_data(f, runs).matches
    extra = runs.with_columns(note=np.arange(len(runs)).astype(float))  # a column the fit never read
    assert fit_data(f, extra).matches


def test_duplicates_are_found_as_a_row_by_row_comparison_would():
    """The vectorised check keeps exactly the first of each group of identical rows (NaN equal to NaN, -0.0 to
    0.0, text compared as text) and names the earliest repeat, as comparing rows one by one does."""
    import warnings

    from scalinglaws.runs.validate import _first_of_each

    rng = np.random.default_rng(5)
    n = 400
    cols = {"run": rng.choice(["a", "b", "c"], n).astype(object), "params": rng.choice([1e8, 2e8, np.nan], n),
            "offset": rng.choice([0.0, -0.0, 1e9], n), "loss": rng.choice([2.0, 2.5], n)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = read_runs(cols, dedupe=False)
    keep, first = _first_of_each(runs)
    seen, want, repeat = {}, np.ones(n, dtype=bool), None
    for i, row in enumerate(zip(*(runs[c].tolist() for c in runs.names))):
        key = tuple("nan" if isinstance(v, float) and v != v else (0.0 if v == 0 else v) for v in row)
        if key in seen:
            want[i] = False
            repeat = repeat or (seen[key], i)
        else:
            seen[key] = i
    assert np.array_equal(keep, want) and first == repeat


def test_sizes_are_read_as_numbers_everywhere(tmp_path, cli):
    from scalinglaws.runs.values import parse_number

    assert [parse_number(v) for v in ("125M", "1.3B", "1.4T", "20k", "160m", "7e9", " 2.5 G ", "1_000", "1,000")] \
        == [125e6, 1.3e9, 1.4e12, 20e3, 160e6, 7e9, 2.5e9, 1000.0, 1000.0]
    for bad in ("7 bn", "1,5", "B", "12X", ""):
        with pytest.raises(ValueError):
            parse_number(bad)
    path = write(tmp_path, "sizes.csv", "params,tokens,loss\n125M,2.5B,3.3\n350M,7B,3.0\n1.3B,26B,2.7\n"
                                        "2.7B,54B,2.5\n")
    runs = read_runs(path, where=["params<2B"])
    np.testing.assert_allclose(runs["params"], [125e6, 350e6, 1.3e9])
    np.testing.assert_allclose(runs["tokens"], [2.5e9, 7e9, 26e9])
    fit = sl.fit(path, "power", inputs={"x": "params"})
    np.testing.assert_allclose(fit.predict(params="1.3B").prediction, fit.predict(params=1.3e9).prediction)
    fit.save(tmp_path / "fit.json")
    code, out, err = cli("predict", str(tmp_path / "fit.json"), "--at", "params=1.3B", "--json")
    assert code == 0, err
    assert json.loads(out)["predictions"][0]["params"] == 1.3e9


def test_what_can_be_derived_is_derived_and_said(tmp_path):
    runs = read_runs(write(tmp_path, "c.csv", "params,flops,loss\n1e8,1.2e18,3.3\n4e8,1.92e19,3.0\n"))
    np.testing.assert_allclose(runs["tokens"], [2e9, 8e9])
    assert "tokens computed as flops / (6·params) (the table has no tokens column)" in runs.notes
    runs = read_runs(write(tmp_path, "s.csv", "run,params,step,batch_size,seq_len,loss\n"
                                              "a,1e8,1000,512,2048,3.3\na,1e8,2000,512,2048,3.1\n"))
    np.testing.assert_allclose(runs["tokens"], [1000 * 512 * 2048, 2000 * 512 * 2048])
    assert runs.notes[0].startswith("tokens computed as step × batch_size × seq_len")
    runs = read_runs(write(tmp_path, "t.csv", "params,step,batch_size,loss\n1e8,10,4e6,3.3\n"))
    assert runs["tokens"][0] == 4e7 and "(batch_size in tokens)" in runs.notes[0]


def test_constants_fill_what_a_table_does_not_say(tmp_path):
    path = write(tmp_path, "one.csv", "tokens,loss\n2e9,3.3\n4e9,3.1\n8e9,2.95\n")
    runs = read_runs(path, constants={"params": 1.6e8, "family": "mine"})
    assert list(runs["params"]) == [1.6e8] * 3 and list(runs["family"]) == ["mine"] * 3
    np.testing.assert_allclose(runs["flops"], 6 * 1.6e8 * runs["tokens"])
    assert runs.notes[-1] == "set for every row: params=1.6e+08, family=mine"


def test_a_missing_column_suggests_the_likely_one(tmp_path):
    path = write(tmp_path, "m.csv", "model_size,n_tokens,val_loss\n1e8,2e9,3.3\n")
    with pytest.raises(ScalingLawsError, match=r"It looks like 'model_size': pass --map params=model_size \(in "
                                               r"Python rename=\{'model_size': 'params'\}\)"):
        sl.fit(path, "chinchilla")
    from scalinglaws.runs.schema import likely_column

    assert likely_column("tokens", ["model_size", "n_tokens"]) == "n_tokens"
    assert likely_column("loss", ["Params", "eval/loss"]) == "eval/loss"
    assert likely_column("params", ["paramz", "x"]) == "paramz"  # a misspelling
    assert likely_column("params", ["x", "y"]) is None


def test_a_semicolon_table_gets_a_delimiter_hint(tmp_path):
    with pytest.raises(ScalingLawsError, match=r"s.csv is separated by semicolons, not commas .*sep=';'"):
        read_runs(write(tmp_path, "s.csv", "params;tokens;loss\n1e8;2e9;3,3\n"))


def test_a_loss_that_looks_like_perplexity_warns(tmp_path):
    with pytest.warns(DataWarning, match=r"column 'loss' looks like a perplexity \(median 31"):
        read_runs(write(tmp_path, "p.csv", "params,tokens,loss\n1e8,2e9,35.0\n4e8,8e9,28.0\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_runs(write(tmp_path, "l.csv", "params,tokens,loss\n1e8,2e9,10.9\n4e8,8e9,3.0\n"))


def test_a_map_that_swaps_two_columns_swaps_them():
    from scalinglaws.runs import read_runs

    runs = read_runs({"params": [1e9, 2e10], "tokens": [1e8, 3e8], "loss": [3.0, 2.5]},
                     rename={"tokens": "params", "params": "tokens"})
    assert list(runs["params"]) == [1e8, 3e8] and list(runs["tokens"]) == [1e9, 2e10]

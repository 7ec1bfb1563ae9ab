"""Time series data: reading, windowing, scaling, step scores, .ts files, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from aekit.data import Dataset, Scaling, load_dataset
from aekit.data.series import (
    cut_windows,
    default_stride,
    load_series,
    window_scores_to_steps,
    window_starts,
    windows_to_series,
)
from aekit.errors import AekitError


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def series_csv(tmp_path):
    t = np.arange(40)
    rows = [
        (f"2024-01-{i:02d}", np.sin(i / 3), 10 + 2 * np.cos(i / 5), int(i in (17, 18)))
        for i in t
    ]
    return write_csv(tmp_path / "s.csv", ["Timestamp", "a", "b", "is_anomaly"], rows)


def test_csv_windows_channels_first_with_index_and_labels(series_csv):
    ds = load_dataset(series_csv, window=8, stride=4)
    assert ds.kind == "sequence" and ds.sample_shape == (2, 8)
    assert ds.scaling.layout == "cw" and ds.scaling.domain == "real"
    starts = window_starts(40, 8, 4)
    assert len(ds) == len(starts) == 9
    # windows covering steps 17 or 18 are labelled 1
    expect = [int(s <= 18 and s + 8 > 17) for s in starts]
    assert ds.y.tolist() == expect
    part = ds.series.parts[0]
    assert part.n_steps == 40 and part.index[0] == "2024-01-00"
    assert part.step_labels.sum() == 2
    # standardised per channel over the training series
    whole = ds.series.to_series(ds.x)[0]  # (T, C)
    np.testing.assert_allclose(whole.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(whole.std(0), 1, atol=1e-4)


def test_step_rows_keep_time_and_labels(tmp_path, series_csv):
    from aekit.data.io import write_csv

    ds = load_dataset(series_csv, window=8, stride=4)
    rows = ds.series.step_rows(np.arange(len(ds), dtype=float))
    assert len(rows) == 40 and rows[0]["time"] == "2024-01-00"
    assert rows[17]["label"] == 1 and rows[0]["step"] == 1
    assert rows[0]["score"] == 0.0 and rows[-1]["score"] == len(ds) - 1
    out = write_csv(tmp_path / "steps.csv", rows, list(rows[0]))
    assert out.read_text().startswith("series,step,time,label,score")


def test_windows_match_source_values(series_csv):
    ds = load_dataset(series_csv, window=5, stride=1)
    back = ds.scaling.to_source(ds.x)  # (N, C, W) in source units
    assert back.shape == (36, 2, 5)
    np.testing.assert_allclose(back[3, 0], np.sin(np.arange(3, 8) / 3), atol=1e-5)
    np.testing.assert_allclose(back[0, 1, 0], 12.0, atol=1e-4)


def test_default_stride_is_one_step_on_short_series(series_csv):
    assert default_stride(8) == 2 and default_stride(3) == 1  # the window helper's
    ds = load_dataset(series_csv, window=8)  # 40 steps: every step starts a window
    assert ds.series.stride == 1 and len(ds) == 33


@pytest.mark.parametrize("shape", [(30,), (30, 3)])
def test_npy_series(tmp_path, shape):
    a = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    np.save(tmp_path / "s.npy", a)
    ds = load_dataset(tmp_path / "s.npy", window=10, stride=10)
    c = 1 if len(shape) == 1 else 3
    assert ds.sample_shape == (c, 10) and len(ds) == 3 and ds.y is None


def test_folder_windows_never_cross_files(tmp_path):
    for i, n in enumerate((12, 9)):
        np.save(
            tmp_path / f"{i}.npy", np.full((n, 1), float(i)) + np.arange(n)[:, None]
        )
    ds = load_dataset(tmp_path, window=4, stride=4)
    parts = ds.series.parts
    assert [p.n_steps for p in parts] == [12, 9]
    assert [p.n_windows for p in parts] == [3, 3]  # 0,4,8 and 0,4,5 (end-aligned)
    raw = ds.scaling.to_source(ds.x)[:, 0]
    np.testing.assert_allclose(raw[3], [1, 2, 3, 4], atol=1e-5)  # file 1's first
    np.testing.assert_allclose(raw[5], [6, 7, 8, 9], atol=1e-5)  # its end window


def test_every_step_covered_and_scores_are_window_means():
    starts = window_starts(10, 4, 3)
    assert starts.tolist() == [0, 3, 6]
    starts = window_starts(11, 4, 3)
    assert starts.tolist() == [0, 3, 6, 7]
    scores = window_scores_to_steps(np.array([1.0, 2.0, 3.0, 4.0]), 11, 4, 3)
    # step 3 is in windows 0 and 1; step 7 in windows 2 and 3; step 10 only in 3
    assert scores[0] == 1 and scores[3] == 1.5 and scores[7] == 3.5 and scores[10] == 4
    per_step = window_scores_to_steps(np.ones((4, 4)), 11, 4, 3)
    np.testing.assert_allclose(per_step, 1.0)


def test_windows_round_trip_to_the_series():
    series = np.random.default_rng(1).normal(size=(23, 2))
    for window, stride in [(5, 1), (5, 2), (6, 6), (23, 1)]:
        w = cut_windows(series, window, stride)
        assert w.shape[1:] == (2, window)
        np.testing.assert_allclose(windows_to_series(w, 23, stride), series)
    w = torch.from_numpy(cut_windows(series, 5, 2)).float()
    assert windows_to_series(w, 23, 2).shape == (23, 2)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_windows_cover_every_step_and_invert(data):
    n = data.draw(st.integers(2, 60))
    window = data.draw(st.integers(2, n))
    stride = data.draw(st.integers(1, window))
    starts = window_starts(n, window, stride)
    assert starts[0] == 0 and starts[-1] == n - window
    assert np.all(np.diff(starts) >= 1) and np.all(np.diff(starts) <= stride)
    series = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    np.testing.assert_allclose(
        windows_to_series(cut_windows(series, window, stride), n, stride), series
    )
    errors = np.full(len(starts), 3.0)
    np.testing.assert_allclose(window_scores_to_steps(errors, n, window, stride), 3.0)


def test_scaling_stored_as_json_and_reapplied(tmp_path, series_csv):
    ds = load_dataset(series_csv, window=8, stride=4)
    stored = Scaling.from_dict(json.loads(json.dumps(ds.scaling.to_dict())))
    assert stored == ds.scaling
    rows = [(f"t{i}", 2 * np.sin(i), 10.0, 0) for i in range(12)]
    later = write_csv(tmp_path / "later.csv", ["time", "a", "b", "label"], rows)
    new = load_dataset(later, window=8, stride=4, scaling=stored)
    assert new.scaling == stored
    np.testing.assert_allclose(
        new.scaling.to_source(new.x)[0, 1], np.full(8, 10.0), atol=1e-4
    )
    # a model trained on sequences routes a CSV through the series loader
    assert load_dataset(later, scaling=stored).kind == "sequence"
    three = write_csv(tmp_path / "3.csv", ["a", "b", "c"], [(1, 2, 3)] * 10)
    with pytest.raises(AekitError, match="3 channels but the model expects 2"):
        load_dataset(three, window=4, scaling=stored)


def test_old_scaling_records_still_load():
    old = {"offset": [0.5, 1.0], "scale": [2.0, 3.0], "domain": "real", "layout": "d"}
    assert Scaling.from_dict(old).layout == "d"
    image = {"offset": 0.0, "scale": 255.0, "domain": "unit", "layout": "hw"}
    assert Scaling.from_dict(image).scale == 255.0


def test_dataset_kind_from_shape_and_subset_drops_series(series_csv):
    assert Dataset(torch.zeros(3, 4)).kind == "vector"
    assert Dataset(torch.zeros(3, 1, 4, 4)).kind == "image"
    assert Dataset(torch.zeros(3, 2, 5)).kind == "sequence"
    with pytest.raises(AekitError, match="not of kind 'image'"):
        Dataset(torch.zeros(3, 2, 5), kind="image")
    ds = load_dataset(series_csv, window=8, stride=4)
    train, val = ds.split(0.25)
    assert train.series is None and train.kind == "sequence"
    # split in time: validation is the series' end, and no training window reaches
    # into it (9 windows of 8 every 4: the last 2 validate, 1 overlaps and is left)
    assert (len(train), len(val)) == (6, 2)
    assert torch.equal(val.x, ds.x[-2:]) and torch.equal(train.x, ds.x[:6])


def ts_text(rows, header=None):
    head = header or [
        "@problemName Toy",
        "@timeStamps false",
        "@univariate false",
        "@dimensions 2",
        "@equalLength true",
        "@seriesLength 4",
        "@classLabel true up down",
        "@data",
    ]
    return "# a comment\n" + "\n".join(head + rows) + "\n"


def test_ts_file_one_labelled_series_per_sample(tmp_path):
    path = tmp_path / "toy_TRAIN.ts"
    path.write_text(
        ts_text(
            [
                "1,2,3,4:0,0,0,1:up",
                "4,3,2,1:1,0,0,0:down",
                "1,2,3,5:0,1,0,1:up",
            ]
        )
    )
    ds = load_dataset(path)
    assert ds.kind == "sequence" and ds.sample_shape == (2, 4)
    assert ds.classes == ("down", "up") and ds.y.tolist() == [1, 0, 1]
    np.testing.assert_allclose(
        ds.scaling.to_source(ds.x)[1, 0], [4, 3, 2, 1], atol=1e-5
    )
    windows = load_dataset(path, window=2, stride=2)
    assert len(windows) == 6 and windows.y.tolist() == [1, 1, 0, 0, 1, 1]


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (["1,2,?,4:0,0,0,1:up"], r"line 10: dimension 1 has a missing value '\?'"),
        (["1,2,3,4:up"], "1 dimension.* @dimensions says 2"),
        (["1,2,3,4:0,0,0,1:left"], "class 'left' is not among"),
        (["1,2,3,4:0,0,0,1:up", "1,2,3:0,0,1:up"], "unequal-length"),
        (["1,2,x,4:0,0,0,1:up"], "'x' is not a number"),
    ],
)
def test_bad_ts_files(tmp_path, rows, match):
    path = tmp_path / "bad.ts"
    path.write_text(ts_text(rows))
    with pytest.raises(AekitError, match=match) as e:
        load_dataset(path)
    assert "\n" not in str(e.value)


def test_ts_regression_files_refused(tmp_path):
    path = tmp_path / "r.ts"
    path.write_text(ts_text(["1,2:0.5"], ["@targetLabel true", "@data"]))
    with pytest.raises(AekitError, match="regression"):
        load_dataset(path)


def test_ts_without_class_labels_and_folder_of_ts(tmp_path):
    head = ["@problemName P", "@univariate true", "@classLabel false", "@data"]
    (tmp_path / "a.ts").write_text(ts_text(["1,2,3", "4,5,6"], head))
    (tmp_path / "b.ts").write_text(ts_text(["7,8,9"], head))
    ds = load_dataset(tmp_path)
    assert ds.sample_shape == (1, 3) and len(ds) == 3 and ds.y is None


def test_ts_unequal_length_header_refused(tmp_path):
    path = tmp_path / "u.ts"
    path.write_text(
        ts_text(["1,2:up"], ["@equalLength false", "@classLabel true up", "@data"])
    )
    with pytest.raises(AekitError, match="unequal length are not supported"):
        load_dataset(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window": 41}, r"window \(41 steps\) is longer than the series \(40 steps\)"),
        ({"window": 1}, "window must be at least 2"),
        ({"window": 8, "stride": 0}, "stride must be at least 1"),
        ({"stride": 2}, "a stride needs a window"),
        ({"window": 2.5}, "whole number"),
        ({"window": 4, "stride": 5}, r"stride \(5\) is longer than the window"),
    ],
)
def test_bad_windows(series_csv, kwargs, match):
    with pytest.raises(AekitError, match=match):
        load_dataset(series_csv, **kwargs)


def test_nan_names_file_and_row(tmp_path):
    path = write_csv(tmp_path / "n.csv", ["a", "b"], [(1, 2), (3, 4), ("nan", 5)])
    with pytest.raises(AekitError, match=r"n\.csv: line 4 \(counting from 1\)"):
        load_dataset(path, window=2)
    a = np.ones((6, 2))
    a[4, 1] = np.inf
    np.save(tmp_path / "n.npy", a)
    with pytest.raises(AekitError, match=r"n\.npy: row 5 \(counting from 1\)"):
        load_dataset(tmp_path / "n.npy", window=2)


def test_no_numeric_columns(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["date", "label"], [("d1", 0), ("d2", 1)])
    with pytest.raises(AekitError, match="no numeric columns"):
        load_dataset(path, window=2)
    text = write_csv(tmp_path / "x.csv", ["a", "b"], [("x", "y"), ("z", "w")])
    with pytest.raises(AekitError, match="no numeric columns"):
        load_dataset(text, window=2)


def test_bad_step_labels_and_shapes(tmp_path):
    path = write_csv(tmp_path / "l.csv", ["a", "anomaly"], [(1, 0), (2, 0.5), (3, 1)])
    with pytest.raises(AekitError, match="line 3.*label '0.5' is not an integer"):
        load_dataset(path, window=2)
    np.save(tmp_path / "cube.npy", np.zeros((4, 3, 2)))
    with pytest.raises(AekitError, match=r"shaped \(T,\) or \(T, C\)"):
        load_dataset(tmp_path / "cube.npy", window=2)


def test_errors_that_do_not_fit_the_windows():
    with pytest.raises(AekitError, match="do not fit"):
        window_scores_to_steps(np.ones(3), 20, 5, 5)
    with pytest.raises(AekitError, match="3 windows"):
        windows_to_series(np.ones((3, 1, 5)), 30, 5)


def test_stream_with_window_refused(series_csv):
    with pytest.raises(AekitError, match="not streamed"):
        load_dataset(series_csv, window=4, stream=True)


def test_existing_loads_unchanged(tmp_path):
    path = write_csv(tmp_path / "v.csv", ["a", "b", "label"], [(1, 2, 0), (3, 4, 1)])
    ds = load_dataset(path)
    assert ds.kind == "vector" and ds.sample_shape == (2,)


def test_load_series_list_of_files(tmp_path):
    for i in range(2):
        np.save(tmp_path / f"{i}.npy", np.arange(10.0))
    ds = load_series([tmp_path / "0.npy", tmp_path / "1.npy"], window=5, stride=5)
    assert len(ds) == 4 and len(ds.series.parts) == 2


@pytest.mark.slow
def test_statsmodels_series_loads(tmp_path):
    sm = pytest.importorskip("statsmodels.datasets")
    frame = sm.sunspots.load_pandas().data  # YEAR, SUNACTIVITY
    frame = frame.rename(columns={"YEAR": "date"})
    frame.to_csv(tmp_path / "sunspots.csv", index=False)
    ds = load_dataset(tmp_path / "sunspots.csv", window=32, stride=8)
    assert ds.sample_shape == (1, 32) and len(ds) > 30
    assert ds.series.parts[0].index[0].startswith("1700")

"""The pieces of anomaly detection over time: the split in time, UCR's top-1 rule,
flagged spans, and the per-step ranking."""

from __future__ import annotations

import numpy as np
import torch

from aekit.analysis.plots.sequences import spans
from aekit.analysis.series_anomaly import step_ranking, ucr_hit
from aekit.data.series import RawSeries, series_dataset


def dataset(lengths, window=8, stride=2, labels=False):
    raws = []
    for i, n in enumerate(lengths):
        raw = RawSeries(np.sin(np.arange(n) / 3.0)[:, None], f"s{i}")
        if labels:
            raw.step_labels = (np.arange(n) >= n - 5).astype(np.int64)
        raws.append(raw)
    return series_dataset(raws, window, stride)


def test_split_in_time_per_series_leaks_no_step():
    ds = dataset([40, 60])
    train_idx, val_idx = ds.series.split_index(0.2)
    assert set(train_idx).isdisjoint(val_idx)
    for part in ds.series.parts:
        starts = np.arange(0, part.n_steps - 8 + 1, 2)  # no end-aligned extra here
        mine = [
            i - part.first
            for i in val_idx
            if part.first <= i < part.first + len(starts)
        ]
        first_val = starts[min(mine)]
        kept = [
            i - part.first
            for i in train_idx
            if part.first <= i < part.first + len(starts)
        ]
        assert all(starts[i] + 8 <= first_val for i in kept)  # ends before validation
        assert max(mine) == part.n_windows - 1  # the series' end validates
    train, val = ds.split(0.2)
    assert len(train) == len(train_idx) and len(val) == len(val_idx)


def test_too_short_a_series_falls_back_to_a_random_split():
    ds = dataset([10], window=8, stride=1)  # 3 windows, all overlapping
    assert ds.series.split_index(0.3) is None
    train, val = ds.split(0.3)
    assert len(train) + len(val) == len(ds)


def test_ucr_hit_allows_100_steps_either_side():
    truth = np.zeros(1000, dtype=bool)
    truth[500:520] = True
    for top, hit in [(400, True), (399, False), (619, True), (620, False)]:
        scores = np.zeros(1000)
        scores[top] = 1.0
        assert ucr_hit(scores, truth) is hit


def test_spans_of_flags():
    assert spans(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]
    assert spans(np.zeros(3, dtype=bool)) == []


def test_step_ranking_needs_labels_and_scores_steps():
    ds = dataset([30], labels=True)
    errors = torch.zeros(len(ds))
    errors[-1] = 1.0  # the last window, which holds the labelled steps
    report = step_ranking(ds, errors.numpy())
    assert report["n_steps"] == 30 and report["n_anomalous_steps"] == 5
    assert report["auroc"] > 0.99  # the normal steps of that window share its score
    assert (report["ucr_series"], report["ucr_top1_hits"]) == (1, 1)
    assert step_ranking(dataset([30]), errors.numpy()) is None

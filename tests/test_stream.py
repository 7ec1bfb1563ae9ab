"""Streamed data: chunked reads give the rows an in-memory load gives, epochs cover
every row once in bounded reads, and training on a stream resumes exactly."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

import aekit.data.arrayfile as arrayfile
import aekit.data.stream as stream
from aekit.data import load_dataset, open_stream
from aekit.errors import AekitError
from aekit.models import build_model
from aekit.training.loop import TrainConfig, fit


def write_idx(path, a):
    """An IDX file as MNIST ships it: magic, dimensions, big-endian bytes."""
    code = {np.uint8: 0x08, np.float32: 0x0D}[a.dtype.type]
    head = struct.pack(">BBBB", 0, 0, code, a.ndim) + struct.pack(
        f">{a.ndim}I", *a.shape
    )
    path.write_bytes(head + a.astype(a.dtype.newbyteorder(">")).tobytes())
    return path


@pytest.fixture
def images(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (150, 6, 5), dtype=np.uint8)
    labels = np.arange(150, dtype=np.uint8) % 10
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    return write_idx(tmp_path / "train-images-idx3-ubyte", a), a, labels


@pytest.mark.parametrize(
    "make",
    [
        lambda g: g.integers(0, 256, (40, 7, 6), dtype=np.uint8),  # images, /255
        lambda g: g.random((40, 9)).astype(np.float32),  # vectors in [0, 1]
        lambda g: (g.normal(size=(40, 9)) * 3 + 5).astype(np.float64),  # standardised
        lambda g: g.random((40, 5, 4, 3)).astype(np.float32),  # channels last
    ],
)
def test_npy_rows_and_scaling_match_an_in_memory_load(tmp_path, make):
    a = make(np.random.default_rng(1))
    np.save(tmp_path / "a.npy", a)
    data, streamed = load_dataset(tmp_path / "a.npy"), open_stream(tmp_path / "a.npy")
    assert streamed.scaling.domain == data.scaling.domain
    np.testing.assert_allclose(streamed.scaling.scale, data.scaling.scale, rtol=1e-6)
    np.testing.assert_allclose(streamed.scaling.offset, data.scaling.offset, rtol=1e-6)
    assert streamed.sample_shape == data.sample_shape and len(streamed) == len(data)
    torch.testing.assert_close(streamed.x[3:17], data.x[3:17], rtol=1e-5, atol=1e-5)
    picked = np.array([30, 2, 2, 17])
    torch.testing.assert_close(streamed.x[picked], data.x[picked], rtol=1e-5, atol=1e-5)


def test_raw_idx_streams_with_its_labels(images):
    path, a, labels = images
    data, streamed = load_dataset(path), open_stream(path.parent)
    torch.testing.assert_close(streamed.x[:], data.x)
    assert torch.equal(streamed.y, torch.from_numpy(labels.astype(np.int64)))
    train, val = streamed.split(0.2, seed=3)
    mem_train, mem_val = data.split(0.2, seed=3)
    # the same rows as an in-memory split, kept in file order for forward reads
    assert sorted(train.y.tolist()) == sorted(mem_train.y.tolist())
    assert list(val.index) == sorted(val.index) and len(val) == len(mem_val)


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (
            lambda p: p.write_bytes(gzip.compress(b"\0\0\x08\x03" + b"\0" * 20)),
            "gunzip",
        ),
        (lambda p: np.save(p, np.asfortranarray(np.ones((4, 3)))), "Fortran"),
        (
            lambda p: p.write_bytes(b"\0\0\x08\x02" + struct.pack(">2I", 9, 9)),
            "truncated",
        ),
        (lambda p: p.write_bytes(b"PK\x03\x04 a zip"), "neither an .npy"),
    ],
)
def test_files_that_cannot_stream_are_refused_by_name(tmp_path, write, message):
    path = tmp_path / "bad.npy"
    write(path)
    with pytest.raises(AekitError, match=message):
        open_stream(path)


def test_nan_rows_are_refused_naming_the_row(tmp_path):
    a = np.random.default_rng(0).random((30, 4)).astype(np.float32)
    a[21, 2] = np.nan
    np.save(tmp_path / "a.npy", a)
    with pytest.raises(AekitError, match="row 21"):
        open_stream(tmp_path / "a.npy")


def test_an_epoch_visits_every_row_once_reading_one_window_at_a_time(
    images, monkeypatch
):
    path, a, _ = images
    monkeypatch.setattr(arrayfile, "CHUNK_BYTES", 10 * 30)  # 10 rows of 30 bytes
    monkeypatch.setattr(stream, "WINDOW_CHUNKS", 3)
    reads = []
    real = arrayfile.ArrayFile.read

    def spy(self, start, stop):
        reads.append(stop - start)
        return real(self, start, stop)

    monkeypatch.setattr(arrayfile.ArrayFile, "read", spy)
    data = open_stream(path)
    reads.clear()
    batches = list(data.batches(16, seed=5))
    rows = torch.cat(batches).reshape(len(a), -1)
    assert [len(b) for b in batches] == [16] * 9 + [6]
    flat = torch.from_numpy(a.reshape(len(a), -1) / np.float32(255))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, flat.tolist()))
    assert max(reads) <= 3 * 10  # never more than one window of rows at once
    again = torch.cat(list(data.batches(16, seed=5)))
    other = torch.cat(list(data.batches(16, seed=6)))
    assert torch.equal(torch.cat(batches), again) and not torch.equal(again, other)


@pytest.mark.parametrize(
    ("rows", "longest"), [(np.arange(150), 40), (np.arange(0, 150, 3), 1)]
)
def test_rows_are_read_a_chunk_at_most_and_gaps_are_skipped(
    images, monkeypatch, rows, longest
):
    path, a, _ = images
    monkeypatch.setattr(arrayfile, "CHUNK_BYTES", 30 * 40)  # 40 rows of 30 bytes
    file, spans = arrayfile.array_file(path), []
    real = arrayfile.ArrayFile.read
    monkeypatch.setattr(
        arrayfile.ArrayFile,
        "read",
        lambda self, i, j: spans.append(j - i) or real(self, i, j),
    )
    shuffled = np.random.default_rng(0).permutation(rows)
    assert np.array_equal(file.take(shuffled), a[shuffled])
    assert max(spans) == longest and sum(spans) == len(rows)


def blob_file(tmp_path, n=120, d=10):
    g = torch.Generator().manual_seed(0)
    x = torch.sigmoid(torch.randn(n, 2, generator=g) @ torch.randn(2, d, generator=g))
    np.save(tmp_path / "blobs.npy", x.numpy())
    return open_stream(tmp_path / "blobs.npy").split(0.25, seed=0)


def test_training_on_a_stream_learns_and_resumes_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(arrayfile, "CHUNK_BYTES", 40 * 16)  # several chunks per epoch
    train, val = blob_file(tmp_path)
    config = TrainConfig(epochs=4, batch_size=16, lr=1e-2, patience=0)

    def model():
        torch.manual_seed(0)
        return build_model("mlp", (10,), latent_dim=2, hidden=(16,))

    straight = model()
    history = fit(straight, train, val, config, out=tmp_path / "a")
    assert history.rows[-1]["val_loss"] < history.rows[0]["val_loss"]

    def stop(event, info):
        if event == "step" and info["epoch"] == 3 and info["step"] == 2:
            raise KeyboardInterrupt

    fit(model(), train, val, config, out=tmp_path / "b", progress=stop)
    resumed = model()
    fit(resumed, train, val, config, out=tmp_path / "b", resume=True)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_encode_streams_large_inputs_and_gives_the_in_memory_codes(
    tmp_path, monkeypatch
):
    import aekit
    from aekit.interfaces import api

    train, _ = blob_file(tmp_path)
    run = aekit.train(
        tmp_path / "blobs.npy",
        "mlp",
        latent_dim=2,
        hidden=(8,),
        epochs=1,
        out=tmp_path / "run",
        pictures=False,
        report=False,
    )
    in_memory = aekit.encode(run, tmp_path / "blobs.npy")
    monkeypatch.setattr(arrayfile, "STREAM_BYTES", 0)  # every file counts as large
    assert isinstance(
        api.load_inputs(run, str(tmp_path / "blobs.npy")), stream.StreamDataset
    )
    np.testing.assert_allclose(
        aekit.encode(run, tmp_path / "blobs.npy"), in_memory, atol=1e-6
    )


@pytest.mark.slow
def test_cli_trains_on_a_stream_and_records_it(tmp_path):
    from aekit.data.io import read_json
    from aekit.interfaces.cli import main

    blob_file(tmp_path)
    out = tmp_path / "run"
    args = [
        "train",
        "--data",
        str(tmp_path / "blobs.npy"),
        "--stream",
        "--out",
        str(out),
    ]
    assert (
        main([*args, "--epochs", "2", "--hidden", "8", "--quiet", "--no-pictures"]) == 0
    )
    spec = read_json(out / "config.json")["data"]
    assert spec["options"]["stream"] is True
    assert read_json(out / "metrics.json")["val_mse"] > 0
    assert main(["train", "--resume", str(out), "--epochs", "3", "--quiet"]) == 0
    assert len((out / "history.csv").read_text().splitlines()) == 1 + 3

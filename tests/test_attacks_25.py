"""Attacks on the commands added with sequences, music, clustering and the generative
families (issue 25.13): each hole found has its test here."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from aekit.interfaces.cli import main
from midi_files import write_piece

fcntl = pytest.importorskip("fcntl")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def cli(*args):
    return main([*map(str, args), "--threads", "1"])


def series(path):
    t = np.arange(200)
    rows = [f"{i},{np.sin(i / 5):.4f},{np.cos(i / 7):.4f}" for i in t]
    path.write_text("time,a,b\n" + "\n".join(rows) + "\n")
    return path


TRAIN = ("--model", "conv1d", "--window", 20, "--epochs", 1, "--latent-dim", 3)
QUIET = ("--quiet", "--no-report", "--no-pictures")


def test_a_second_train_into_a_run_being_written_is_refused(tmp_path, capsys):
    """Two `aekit train --out RUN` at once both wrote RUN (exit 0 twice, one run's
    files over the other's); the one that comes second is refused now."""
    data, out = series(tmp_path / "s.csv"), tmp_path / "run"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)  # another process's claim on the folder
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert cli("train", "--data", data, *TRAIN, "--out", out, *QUIET) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "another aekit process" in err, err
        assert list(out.iterdir()) == []  # nothing written beside the other run
    finally:
        os.close(fd)
    assert cli("train", "--data", data, *TRAIN, "--out", out, *QUIET) == 0
    # the lock goes with the training: the same process may train there again
    assert cli("train", "--data", data, *TRAIN, "--out", out, "--force", *QUIET) == 0


def test_codes_csv_with_no_rows_is_one_line(tmp_path, capsys):
    """An empty codes CSV leaked numpy's UserWarning (two more stderr lines)."""
    data, run = series(tmp_path / "s.csv"), tmp_path / "run"
    assert cli("train", "--data", data, *TRAIN, "--out", run, *QUIET) == 0
    capsys.readouterr()
    for text in ("", "z0,z1,z2\n"):
        codes = tmp_path / "codes.csv"
        codes.write_text(text)
        assert cli("decode", run, codes, "--out", tmp_path / "x.npy") == 2
        err = capsys.readouterr().err.strip()
        assert err.splitlines() == [f"aekit: error: {codes}: no codes (an empty file "
                                    "or a header only)"], err  # fmt: skip
    # a sequence run's samples cannot be a PNG, and the message says sequences
    assert cli("sample", run, "-n", 2, "--out", tmp_path / "s.png") == 2
    assert "data are sequences, not images" in capsys.readouterr().err


def test_force_does_not_move_a_run_another_process_is_writing(tmp_path, capsys):
    """`train --force` moved a folder aside while another process still wrote it;
    now the folder's lock is taken first, and a held one is refused untouched."""
    data, out = series(tmp_path / "s.csv"), tmp_path / "run"
    assert cli("train", "--data", data, *TRAIN, "--out", out, *QUIET) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    fd = os.open(out, os.O_RDONLY)  # another process still writing the run
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        capsys.readouterr()
        code = cli("train", "--data", data, *TRAIN, "--out", out, "--force", *QUIET)
        assert code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "another aekit process" in err, err
        assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "s.csv"]
    finally:
        os.close(fd)


def test_sampling_more_than_memory_holds_is_refused(cvae_run, tmp_path, capsys):
    """`sample -n 10**12` on a conditional run allocated the conditions first and
    died (MemoryError or the kernel's kill); it is one line now."""
    assert cli("sample", cvae_run, "-n", 10**12, "--out", tmp_path / "x.npy") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sample 1000000000000" in err, err
    assert not (tmp_path / "x.npy").exists()


MUSIC = ("--model", "lstm-vae", "--hidden-size", 8, "--latent-dim", 2, "--epochs", 1)


def test_music_with_every_note_out_of_range_is_refused(tmp_path, capsys):
    """Notes all outside --pitch-range trained on silence (exit 0, a model of
    nothing); now refused, with the range the notes span."""
    piece = write_piece(tmp_path / "low.mid", [20, 22, 24, 25] * 8)
    out = tmp_path / "run"
    args = ("--pitch-range", "48:84", "--bars", 1)
    assert cli("train", "--data", piece, *MUSIC, *args, "--out", out, *QUIET) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "no notes in pitch range 48..83" in err and "20..25" in err, err
    assert not out.exists()


def test_music_too_short_for_two_segments_names_its_length(tmp_path, capsys):
    """A piece shorter than two segments failed with a bare count of rows; the
    error now gives the music's length beside the segment's."""
    piece = write_piece(tmp_path / "short.mid", [60, 62, 64])  # 3 beats
    out = tmp_path / "run"
    args = ("--bars", 4, "--out", out)
    assert cli("train", "--data", piece, *MUSIC, *args, *QUIET) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "3 beat(s) long" in err and "16 beats" in err and "--bars" in err, err
    assert not out.exists()


def test_interpolate_with_more_steps_than_files_it_may_write(tmp_path, capsys):
    """`interpolate --steps 10000000` began writing ten million MIDI files; more
    than 1000 steps is refused before the run is read."""
    out = tmp_path / "paths"
    code = cli("interpolate", tmp_path / "no-run", "a.mid", "b.mid", "--out", out,
               "--steps", 10**7)  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "at most 1000 steps" in err, err
    assert not out.exists()


def test_cluster_a_conditional_run_writes_everything_or_nothing(cvae_run, tmp_path):
    """`cluster` on a cvae run wrote labels.csv, then failed drawing the clusters'
    decoded centres (a conditional decoder needs a condition): exit 2 with a file
    left behind. The map is drawn without prototypes now, before any write."""
    out = tmp_path / "labels.csv"
    assert cli("cluster", cvae_run, "--k", 3, "--out", out) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "index,cluster" and len(rows) > 100
    assert (tmp_path / "labels-map.png").stat().st_size > 0


def test_a_config_whose_shapes_disagree_is_refused(tmp_path, capsys):
    """A config.json edited to give the data another sample_shape than the model's
    exported (and sampled) without a word; it is refused as malformed now."""
    import json

    data, run = series(tmp_path / "s.csv"), tmp_path / "run"
    assert cli("train", "--data", data, *TRAIN, "--out", run, *QUIET) == 0
    record = json.loads((run / "config.json").read_text())
    record["data"]["sample_shape"] = [2, 21]
    (run / "config.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert cli("sample", run, "-n", 2, "--out", tmp_path / "x.npy") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not the model's input_shape" in err, err
    assert not (tmp_path / "x.npy").exists()


def test_the_dead_unit_hint_names_an_option_the_model_has():
    """The warning told every model to lower --sparsity, an option only the
    plain autoencoders have (a VAE given it is refused)."""
    from aekit.analysis.run_outputs import dead_units_hint

    assert "--sparsity" in dead_units_hint({"sparsity": 1e-3, "beta": None})
    assert "--beta" in dead_units_hint({"beta": 1.0})
    assert "--sparsity-target" in dead_units_hint({"sparsity_target": 0.05})
    plain = dead_units_hint({"sparsity": 0.0, "latent_dim": 16})
    assert "--latent-dim" in plain and "sparsity" not in plain


@pytest.mark.parametrize("option", [("--bars", 10**6), ("--steps-per-beat", 10**6)])
def test_music_segments_longer_than_memory_holds_are_refused(tmp_path, capsys, option):
    """`--bars 10**6` ran past a minute padding every piece to 16 million steps, and
    `--steps-per-beat 10**6` was killed for memory; both are one line now (found by
    benchmarks/attack_campaign.py)."""
    pieces = tmp_path / "pieces"
    pieces.mkdir()
    for k in range(2):
        write_piece(pieces / f"p{k}.mid", [60 + k, 62, 64, 65] * 4)
    out = tmp_path / "run"
    assert cli("train", "--data", pieces, *MUSIC, *option, "--out", out, *QUIET) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err, err
    assert "--steps-per-beat" in err or "finest common MIDI" in err, err
    assert not out.exists()


def table(path, rows=80):
    g = np.random.default_rng(0)
    x = g.normal(size=(rows, 6)).round(4)
    path.write_text("a,b,c,d,e,f\n" + "\n".join(",".join(map(str, r)) for r in x))
    return path


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vae")
    data, run = table(tmp / "t.csv"), tmp / "run"
    args = ("--model", "vae", "--epochs", 1, "--latent-dim", 2, *QUIET)
    assert cli("train", "--data", data, *args, "--out", run) == 0
    return run, data


def test_reconstructions_beyond_memory_are_refused(vae_run, tmp_path, capsys):
    """`reconstruct --samples 10**9` died in torch's allocator (exit 1, a
    traceback); the size is checked first now (found by attack_campaign.py)."""
    run, data = vae_run
    out = tmp_path / "r.npy"
    assert cli("reconstruct", run, data, "--samples", 10**9, "--out", out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not enough memory" in err, err
    assert not out.exists()
    assert cli("reconstruct", run, data, "--samples", 3, "--out", out) == 0
    assert np.load(out).shape == (80, 3, 6)


def test_an_empty_factors_file_is_refused(vae_run, tmp_path, capsys):
    """`evaluate --factors EMPTY.csv` failed in numpy's reshape (exit 1); an empty
    file, or one with a header only, is one line now, and nothing is written."""
    run, data = vae_run
    before = sorted(p.name for p in run.iterdir())
    for text in ("", "size,colour\n"):
        factors = tmp_path / "f.csv"
        factors.write_text(text)
        capsys.readouterr()
        assert cli("evaluate", run, "--data", data, "--factors", factors) == 2
        err = capsys.readouterr().err.strip()
        assert err.splitlines() == [f"aekit: error: {factors}: no factors (a column "
                                    "per factor, a row per input)"], err  # fmt: skip
    assert sorted(p.name for p in run.iterdir()) == before

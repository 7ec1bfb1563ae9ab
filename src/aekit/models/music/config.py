"""MusicVAE's configuration, without torch (Roberts et al. 2018, https://arxiv.org/abs/1803.05428).

Declared with `option` like the other configs, so `aekit train --model music-vae`
offers its fields; flags shared with the other VAEs mean the same (--latent-dim,
--hidden-size, --beta, --kl-warmup). The model lives in model.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import AekitError
from ..configs import (
    check_choice,
    check_numbers,
    kl_warmup_option,
    positive_int_tuple,
)
from ..options import option

ENCODINGS = ("roll", "melody")  # polyphonic Bernoulli cells, or one token per step
KEY_CONDITIONS = ("shift", "none")  # tell the networks a piece's key shift, or not
BAR_STEPS = 16  # a 4/4 bar at 4 steps per beat: the conductor's step without data
FREE_BITS_PER_BAR = 16.0  # nats; MusicVAE's 48 (2 bars) and 256 (16 bars) in scale
_SHAPE = "(P, T): pitches, time steps"


@dataclass(frozen=True)
class MusicVAEConfig:
    input_shape: tuple[int, ...] = option((), _SHAPE, cli=False)
    # the paper's 512 is for 16 bars of melody on a GPU; 128 keeps a 2-core CPU busy
    # in the LSTMs rather than in the code's linear layers
    latent_dim: int = option(128, "code size", metavar="N")
    hidden_size: int = option(
        128, "encoder LSTM state size, each direction", metavar="H"
    )
    conductor_size: int = option(
        128, "conductor LSTM state size (one output per bar)", metavar="H"
    )
    decoder_size: int = option(192, "per-bar decoder LSTM state size", metavar="H")
    # set by `aekit train` from the data's --bars; 0 without data: one per 16 steps
    conductor_steps: int = option(
        0,
        "bars the conductor cuts a sample into (0: the data's --bars)",
        metavar="N",
    )
    encoding: str = option(
        "roll",
        "roll: each (pitch, step) a Bernoulli cell (polyphonic); melody: one "
        "categorical token per step, the highest sounding pitch or a rest",
        choices=ENCODINGS,
    )
    beta: float = option(0.2, "weight of the KL term (MusicVAE: 0.2)", metavar="B")
    # None: FREE_BITS_PER_BAR per conductor step
    free_bits: float | None = option(
        None,
        "nats of KL per example that cost nothing (free bits)",
        metavar="NATS",
        shown="16 per bar",
    )
    kl_warmup_epochs: int = kl_warmup_option()
    # 0.5: held-out 2-bar chorale melodies 0.861 -> 0.892 note accuracy
    # (benchmarks/music_chorales.py, BENCHMARKS.md)
    step_dropout: float = option(
        0.5,
        "share of decoder steps fed a blank instead of the true step before, in "
        "training (word dropout), so the decoder leans on the code",
        metavar="P",
    )
    # 6: every key once (a tritone either way); held-out chorales in BENCHMARKS.md
    transpose: int = option(
        6,
        "in training, move each piece by a random number of semitones up to this "
        "either way (keeping its notes inside the pitch range); 0: as written",
        metavar="SEMITONES",
    )
    # none: shift makes samples keep the corpus' keys under `transpose`, but costs
    # held-out note accuracy (0.896 -> 0.846, BENCHMARKS.md); absent from older
    # runs' config.json, where it means none (ABSENT_MEANS)
    key_condition: str = option(
        "none",
        "shift: in training the encoder and the decoder are told (one-hot) the key "
        "shift of the piece each sees, drawn apart, so the code keeps the key as "
        "written and sampling, decoding and interpolation write in the corpus' "
        "keys (shift 0); none: the networks see only the notes",
        choices=KEY_CONDITIONS,
    )
    temperature: float = option(
        1.0,
        "sampling temperature of `aekit sample` (0: the most likely notes)",
        metavar="T",
    )

    def __post_init__(self) -> None:
        check_numbers(self)
        shape = positive_int_tuple(self.input_shape, "input_shape", allow_empty=False)
        if len(shape) != 2:
            raise AekitError(
                f"music-vae needs piano rolls (pitches, steps), got sample shape "
                f"{shape}"
            )
        object.__setattr__(self, "input_shape", shape)
        for name in ("latent_dim", "hidden_size", "conductor_size", "decoder_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AekitError(f"{name} must be a whole number >= 1, got {value!r}")
        check_choice(self.encoding, ENCODINGS, "encoding")
        check_choice(self.key_condition, KEY_CONDITIONS, "key_condition")
        steps = shape[1]
        bars = self.conductor_steps
        if isinstance(bars, bool) or not isinstance(bars, int) or bars < 0:
            raise AekitError(f"conductor_steps must be a whole number >= 0: {bars!r}")
        if bars == 0:
            bars = steps // BAR_STEPS if steps % BAR_STEPS == 0 else 1
        if steps % bars:
            raise AekitError(
                f"conductor_steps {bars} does not divide the {steps} steps of a sample"
            )
        object.__setattr__(self, "conductor_steps", bars)
        if self.free_bits is None:
            object.__setattr__(self, "free_bits", FREE_BITS_PER_BAR * bars)
        checks = [
            (self.beta >= 0, f"beta must be >= 0, got {self.beta}"),
            (self.free_bits >= 0, f"free_bits must be >= 0, got {self.free_bits}"),
            (self.temperature >= 0, f"temperature must be >= 0: {self.temperature}"),
            (0 <= self.step_dropout < 1, "step_dropout must be in [0, 1)"),
        ]
        for ok, message in checks:
            if not ok:
                raise AekitError(message)
        shift = self.transpose
        whole = isinstance(shift, int) and not isinstance(shift, bool)
        if not whole or not 0 <= shift < 128:
            raise AekitError(f"transpose must be a whole number in 0..127: {shift!r}")
        warmup = self.kl_warmup_epochs
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise AekitError(f"kl_warmup_epochs must be a whole number >= 0: {warmup}")

    @property
    def key_shifts(self) -> int:
        """Width of the one-hot key shift the networks are fed (-transpose..transpose);
        0 when they are fed none (no condition, or no transposition)."""
        on = self.key_condition == "shift" and self.transpose > 0
        return 2 * self.transpose + 1 if on else 0

    @property
    def likelihood(self) -> str:
        """What the decoder's p(x|z) is (aekit.analysis.likelihood names it)."""
        return "bernoulli" if self.encoding == "roll" else "categorical"

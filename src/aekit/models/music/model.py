"""MusicVAE: a hierarchical recurrent VAE for music (Roberts et al. 2018, https://arxiv.org/abs/1803.05428).

A bidirectional LSTM reads the piece; its two final states give a diagonal
Gaussian q(z|x). The decoder is two-level: a "conductor" LSTM, started from z,
writes one embedding per bar (it is also fed z at every step); each bar is then
written by a decoder LSTM started from that bar's embedding and fed, at every
step, the embedding and the step before (the true one in training: teacher
forcing; its own choice when generating). Because a bar's decoder starts afresh
from the conductor, it cannot carry the whole piece in its state and must use the
code: the paper's cure for posterior collapse on long sequences. The loss is the
negative ELBO with free bits, -log p(x|z) + beta * max(KL - free_bits, 0)
(Kingma et al. 2016, https://arxiv.org/abs/1606.04934, on the summed KL as
MusicVAE does). `step_dropout` blanks a share of the steps fed back in training
(word dropout, Bowman et al. 2016, https://arxiv.org/abs/1511.06349), so that
free running, which feeds back its own mistakes, leans on the code; `transpose`
draws each training piece in a random key (aekit.models.music.augment). With
`key_condition` "shift" the encoder is told the shift of the piece it reads and the
conductor and bar decoders the (independently drawn) shift of the piece they write,
a one-hot of -transpose..transpose beside their inputs: only the key as written is
common to both, so that is what the code keeps, and the decoder must take the key
from the shift (else a model trained in every key samples in every key). Sampling,
decoding and interpolation write at shift 0, the pieces' own keys. A step is a
roll's Bernoulli cells (polyphonic) or one melody token (categorical;
aekit.models.music.tokens). Sampling draws each step at a temperature;
decoding (reconstruction, interpolation) takes the likeliest.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import AekitError
from ..base import Condition, Model
from ..vae.model import LOGVAR_RANGE, VAE
from .augment import draw_shifts, transpose
from .config import MusicVAEConfig
from .tokens import melody_tokens, one_hot, roll_steps, tokens_to_roll

State = tuple[torch.Tensor, torch.Tensor]


class MusicVAE(Model):
    """x -> bi-LSTM -> q(z|x) -> conductor (one embedding per bar) -> bar LSTMs."""

    # log p(x|z) is scored teacher-forced, so it needs x: aekit.analysis.likelihood
    # calls log_likelihood_of(x, z) instead of decoding logits from z alone
    autoregressive = True
    kl = staticmethod(VAE.kl)
    reparameterize = staticmethod(VAE.reparameterize)

    def __init__(self, config: MusicVAEConfig):
        super().__init__()
        self.config = c = config
        self.pitches, self.length = c.input_shape
        self.bars = c.conductor_steps
        self.bar_length = self.length // self.bars
        self.melody = c.encoding == "melody"
        self.width = self.pitches + 1 if self.melody else self.pitches  # a step's
        self.keys = k = c.key_shifts  # one-hot key shift beside the inputs (0: none)
        self.encoder = nn.LSTM(
            self.width + k, c.hidden_size, batch_first=True, bidirectional=True
        )
        self.to_posterior = nn.Linear(2 * c.hidden_size, 2 * c.latent_dim)
        self.to_conductor = nn.Linear(c.latent_dim + k, 2 * c.conductor_size)
        self.conductor = nn.LSTM(c.latent_dim + k, c.conductor_size, batch_first=True)
        self.to_decoder = nn.Linear(c.conductor_size, 2 * c.decoder_size)
        self.decoder = nn.LSTM(
            self.width + c.conductor_size + k, c.decoder_size, batch_first=True
        )
        self.out = nn.Linear(c.decoder_size, self.width)
        self.kl_weight = c.beta if c.kl_warmup_epochs == 0 else 0.0

    # -- data in, the contract ----------------------------------------------------
    def init_from_data(self, x: torch.Tensor) -> None:
        """Refuse what is not a piano roll before anything trains on it."""
        if not bool(((x == 0) | (x == 1)).all()):
            raise AekitError(
                "music-vae models piano rolls (cells 0 or 1: MIDI or MusicXML "
                "files); these samples hold other values"
            )

    def steps(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P, T) roll -> (B, T, width): the cells, or the one-hot melody."""
        if self.melody:
            return one_hot(melody_tokens(x), self.pitches)
        return roll_steps(x.float())

    def key(self, shift: int | torch.Tensor, n: int, device: Any) -> torch.Tensor:
        """(n, keys) one-hot of a key shift (an int for all, or (n,) shifts); (n, 0)
        when the model is told no key. A shift past `transpose` is refused."""
        if isinstance(shift, torch.Tensor):
            shifts = shift.to(device).long()
        else:
            shifts = torch.full((n,), int(shift), dtype=torch.long, device=device)
        if self.keys == 0:
            if bool((shifts != 0).any()):
                raise AekitError(
                    "this music-vae was not trained with key shifts "
                    "(key_condition none or transpose 0): only key shift 0"
                )
            return torch.zeros(n, 0, device=device)
        t = self.config.transpose
        if bool((shifts.abs() > t).any()):
            raise AekitError(f"key shift must be within -{t}..{t} (its --transpose)")
        return F.one_hot(shifts + t, self.keys).float()

    def encode_distribution(
        self, x: torch.Tensor, c: Condition = None, *, key: Any = 0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        steps = self.steps(x)
        shift = self.key(key, len(x), x.device).to(steps.dtype)
        inputs = torch.cat([steps, shift[:, None].expand(-1, steps.shape[1], -1)], 2)
        _, (h, _) = self.encoder(inputs)  # h: (2, B, hidden)
        mu, logvar = self.to_posterior(torch.cat([h[0], h[1]], 1)).chunk(2, dim=1)
        return mu, logvar.clamp(*LOGVAR_RANGE)  # (B, latent) each

    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The posterior mean: the deterministic code."""
        return self.encode_distribution(x)[0]

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        """The likeliest piece, step by step (temperature 0), as a (B, P, T) roll:
        for rolls each cell's probability given the notes chosen before it, for
        melodies the chosen tokens (a categorical's mean would spread a step's
        note over many pitches)."""
        return self.generate(z, temperature=0.0)

    def forward(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        seen: Any = 0  # the key shift of the piece the encoder reads
        written: Any = 0  # and of the piece the decoder writes
        if self.training and self.config.transpose:  # a random key per piece
            both = x if target is x else torch.maximum(x, target)
            written = draw_shifts(both, self.config.transpose)
            # told the keys, encoder and decoder see the piece in keys drawn apart
            seen = draw_shifts(both, self.config.transpose) if self.keys else written
            same, x = target is x and not self.keys, transpose(x, seen)
            target = x if same else transpose(target, written)
            if not self.keys:  # the networks are told no key: they see only notes
                seen = written = 0
        mu, logvar = self.encode_distribution(x, key=seen)
        z = self.reparameterize(mu, logvar)
        recon = -self.log_likelihood_of(target, z, key=written).mean()
        kl = self.kl(mu, logvar)  # (B,)
        free = (kl - self.config.free_bits).clamp(min=0).mean()
        # validation (eval mode) scores with the full KL weight, as vae/model.py does
        weight = self.kl_weight if self.training else self.config.beta
        return {"loss": recon + weight * free, "recon": recon, "kl": kl.mean()}

    @property
    def data_views(self) -> int:
        """Keys a piece is drawn in (`transpose` either way): the budget counts them."""
        return 2 * self.config.transpose + 1

    def set_epoch(self, epoch: int) -> None:
        warmup = self.config.kl_warmup_epochs
        self.kl_weight = self.config.beta * (
            min(1.0, epoch / warmup) if warmup else 1.0
        )

    def sample(
        self,
        n: int,
        c: Condition = None,
        *,
        generator: torch.Generator | None = None,
        key_shift: int = 0,
    ) -> torch.Tensor:
        """n pieces from the prior N(0, I) (aekit.models.music.model.MusicVAE.draw)."""
        device = self.out.weight.device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return self.draw(z, generator=generator, key_shift=key_shift)

    def draw(
        self,
        z: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        key_shift: int = 0,
    ) -> torch.Tensor:
        """(B, P, T) 0/1 rolls from codes, each step drawn at the config's
        temperature given the steps drawn before it (aekit sample reads this), in
        the corpus' keys moved by `key_shift` semitones (0: as the pieces are)."""
        t = self.config.temperature
        if t == 0:
            chosen = self.generate(z, temperature=0.0, key_shift=key_shift)
            return (chosen >= 0.5).float()
        return self.generate(z, temperature=t, generator=generator, key_shift=key_shift)

    # -- likelihood ---------------------------------------------------------------
    def teacher_forced_logits(
        self, x: torch.Tensor, z: torch.Tensor, *, key: Any = 0
    ) -> torch.Tensor:
        """(B, T, width) logits of every step given z, the key shift and the true
        steps before it; all bars run as one batch."""
        b = len(z)
        shift = self.key(key, b, z.device).to(z.dtype)
        truth = self.steps(x)  # (B, T, width)
        before = torch.cat([torch.zeros_like(truth[:, :1]), truth[:, :-1]], dim=1)
        if self.training and self.config.step_dropout > 0:  # word dropout
            keep = torch.rand(b, self.length, 1, device=z.device)
            before = before * (keep >= self.config.step_dropout).to(before.dtype)
        bars = self._conduct(z, shift)  # (B, U, conductor)
        flat = bars.reshape(b * self.bars, -1)
        shifts = shift.repeat_interleave(self.bars, 0)  # (B * U, keys)
        inputs = torch.cat(
            [
                before.reshape(b * self.bars, self.bar_length, self.width),
                flat[:, None].expand(-1, self.bar_length, -1),
                shifts[:, None].expand(-1, self.bar_length, -1),
            ],
            dim=2,
        )
        h, _ = self.decoder(inputs, self._bar_state(flat))
        return self.out(h).reshape(b, self.length, self.width)

    def log_likelihood(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per example in nats, from (B, T, width) step logits."""
        logits = logits.float()
        if self.melody:
            tokens = melody_tokens(x)  # (B, T)
            picked = F.log_softmax(logits, -1).gather(-1, tokens[..., None])
            return picked.squeeze(-1).sum(1)
        cells = roll_steps(x.float())
        bce = F.binary_cross_entropy_with_logits(logits, cells, reduction="none")
        return -bce.flatten(1).sum(1)

    def log_likelihood_of(
        self, x: torch.Tensor, z: torch.Tensor, *, key: Any = 0
    ) -> torch.Tensor:
        """log p(x|z) per example (nats), teacher-forced: exact for this decoder."""
        return self.log_likelihood(x, self.teacher_forced_logits(x, z, key=key))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T, width) logits of the likeliest piece, each step given the steps
        chosen before it (use log_likelihood_of to score a given piece)."""
        return self._run(z, temperature=0.0, generator=None)[1]

    # -- generating ---------------------------------------------------------------
    def generate(
        self,
        z: torch.Tensor,
        *,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        key_shift: int = 0,
    ) -> torch.Tensor:
        """(B, P, T) rolls from codes: temperature 0 the likeliest step each time
        (roll cells as probabilities), else steps drawn at that temperature (0/1);
        written at `key_shift` (0: the keys of the pieces as written)."""
        chosen, logits = self._run(
            z, temperature=temperature, generator=generator, key_shift=key_shift
        )
        if self.melody:
            return tokens_to_roll(chosen.argmax(-1), self.pitches)
        if temperature == 0:
            return torch.sigmoid(logits).transpose(1, 2)
        return chosen.transpose(1, 2)

    def _run(
        self, z: torch.Tensor, *, temperature: float, generator: Any, key_shift: Any = 0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Free running: ((B, T, width) chosen steps, (B, T, width) logits)."""
        b = len(z)
        shift = self.key(key_shift, b, z.device).to(z.dtype)
        bars = self._conduct(z, shift)  # (B, U, conductor)
        step = torch.zeros(b, self.width, device=z.device, dtype=z.dtype)
        chosen, logits = [], []
        for u in range(self.bars):
            embedding = bars[:, u]
            state = self._bar_state(embedding)
            for _ in range(self.bar_length):
                inputs = torch.cat([step, embedding, shift], 1)[:, None]
                h, state = self.decoder(inputs, state)
                logit = self.out(h[:, 0])  # (B, width)
                step = self._choose(logit, temperature, generator)
                chosen.append(step)
                logits.append(logit)
        return torch.stack(chosen, 1), torch.stack(logits, 1)

    def _choose(
        self, logit: torch.Tensor, temperature: float, generator: Any
    ) -> torch.Tensor:
        """One step's notes from its logits: the likeliest, or drawn."""
        if self.melody:
            if temperature == 0:
                token = logit.argmax(-1)
            else:
                p = F.softmax(logit.float() / temperature, -1)
                token = torch.multinomial(p.cpu(), 1, generator=generator)[:, 0]
                token = token.to(logit.device)
            return F.one_hot(token, self.width).to(logit.dtype)
        if temperature == 0:
            return (logit >= 0).to(logit.dtype)
        p = torch.sigmoid(logit.float() / temperature).cpu()
        return torch.bernoulli(p, generator=generator).to(logit.device, logit.dtype)

    def _conduct(self, z: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        """(B, latent) codes, (B, keys) key shifts -> (B, U, conductor): one
        embedding per bar."""
        code = torch.cat([z, shift], 1)
        h0, c0 = self.to_conductor(code).chunk(2, dim=1)
        inputs = code[:, None].expand(-1, self.bars, -1)
        out, _ = self.conductor(
            inputs, (torch.tanh(h0)[None].contiguous(), c0[None].contiguous())
        )
        return out

    def _bar_state(self, embedding: torch.Tensor) -> State:
        h0, c0 = self.to_decoder(embedding).chunk(2, dim=1)
        return torch.tanh(h0)[None].contiguous(), c0[None].contiguous()

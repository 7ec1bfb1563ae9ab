"""Sequence autoencoders for (B, C, T) inputs: 1-D convolutional and LSTM, plain or VAE.

The LSTM pair follows Srivastava et al. 2015, "Unsupervised Learning of Video
Representations using LSTMs" (https://arxiv.org/abs/1502.04681), and Malhotra et al.
2016, "LSTM-based Encoder-Decoder for Multi-sensor Anomaly Detection"
(https://arxiv.org/abs/1607.00148): an encoder LSTM's last hidden state is the code,
and a decoder LSTM rebuilds the sequence from the code, so decode(z) needs no input.
The code is both the decoder's initial state and part of every step's input. The
`lstm` model's bodies (recurrent.py, beside this module) also feed each step the
value before it (teacher-forced, then free running), write in reverse order, and
offer GRU cells and a bidirectional encoder; lstm-vae keeps the code-only decoder.
The variational versions keep vae/model.py's objective (Kingma & Welling 2014,
https://arxiv.org/abs/1312.6114; for sequences, Fabius & van Amersfoort 2015,
"Variational Recurrent Auto-Encoders", https://arxiv.org/abs/1412.6581) and reuse
its KL, reparametrisation and likelihood.

Every method takes an optional condition `c`, which these models ignore.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Model
from ..layers import activation, output_activation
from ..pca_start import PCAStart
from ..vae.model import LOGVAR_RANGE, VAE
from ..vae_pca_start import WhitenedPCAStart
from .config import (
    UPSAMPLE_1D,  # noqa: F401  (re-exported)
    Conv1dConfig,
    Conv1dVAEConfig,
    LSTMConfig,
    LSTMVAEConfig,
)
from .recurrent import RecurrentDecoder, RecurrentEncoder


# -- bodies: encoder x -> (B, F) features, decoder z -> (B, C, T) logits --------------
class Conv1dEncoder(nn.Module):
    """[conv1d -> act -> maxpool2] per width, on the input zero-padded to 2**depth."""

    def __init__(self, input_shape: tuple[int, ...], channels: tuple, k: int, act: str):
        super().__init__()
        c, t = input_shape
        m = 2 ** len(channels)
        self.padded = math.ceil(t / m) * m
        self.grid = (channels[-1], self.padded // m)
        self.features = math.prod(self.grid)
        widths = [c, *channels]
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(a, b, k, padding=k // 2), activation(act))
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, self.padded - x.shape[-1]))
        for block in self.blocks:
            x = F.max_pool1d(block(x), 2)
        return x.flatten(1)  # (B, F)


class Conv1dDecoder(nn.Module):
    """Linear -> (B, C_last, T / 2**depth) -> [upsample 2x -> conv1d] per width."""

    def __init__(self, encoder: Conv1dEncoder, config: Any):
        super().__init__()
        self.grid, self.length = encoder.grid, config.input_shape[1]
        channels, k, mode = config.channels, config.kernel_size, config.upsample
        last = max(channels[0] // 2, 8)  # full resolution is the costliest
        outs = [last, *channels[:-1]]  # up block i undoes down block i
        self.from_code = nn.Linear(config.latent_dim, encoder.features)
        self.mode = mode
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(channels[i], outs[i], 4, stride=2, padding=1)
            if mode == "transpose"
            else nn.Conv1d(channels[i], outs[i], k, padding=k // 2)
            for i in range(len(channels))
        )
        self.act = activation(config.activation)
        self.head = nn.Conv1d(last, config.input_shape[0], k, padding=k // 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.act(self.from_code(z)).view(len(z), *self.grid)
        for up in reversed(self.ups):
            if self.mode != "transpose":
                x = F.interpolate(x, scale_factor=2, mode=self.mode)
            x = self.act(up(x))
        return self.head(x)[..., : self.length]  # (B, C, T)


class LSTMEncoder(nn.Module):
    """LSTM over the time steps; the last layer's final hidden state is the summary."""

    def __init__(self, config: Any):
        super().__init__()
        self.lstm = nn.LSTM(
            config.input_shape[0],
            config.hidden_size,
            config.num_layers,
            batch_first=True,
        )
        self.features = config.hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(x.transpose(1, 2))  # (B, T, C) in
        return h[-1]  # (B, hidden)


class LSTMDecoder(nn.Module):
    """The code sets the initial state and is each step's input, with the position."""

    def __init__(self, config: Any):
        super().__init__()
        self.channels, self.length = config.input_shape
        self.layers, self.hidden = config.num_layers, config.hidden_size
        self.to_state = nn.Linear(config.latent_dim, 2 * self.layers * self.hidden)
        self.lstm = nn.LSTM(
            config.latent_dim + 1, self.hidden, self.layers, batch_first=True
        )
        self.out = nn.Linear(self.hidden, self.channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b = len(z)
        state = self.to_state(z).view(b, 2, self.layers, self.hidden)
        h0, c0 = state.permute(1, 2, 0, 3).contiguous()  # (layers, B, hidden) each
        position = torch.linspace(0, 1, self.length, device=z.device, dtype=z.dtype)
        steps = torch.cat(
            [
                z[:, None, :].expand(b, self.length, -1),
                position[None, :, None].expand(b, -1, 1),
            ],
            dim=2,
        )  # (B, T, latent + 1)
        h, _ = self.lstm(steps, (torch.tanh(h0), c0))
        return self.out(h).transpose(1, 2)  # (B, C, T)


def _init(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases, as layers.init_weights does in 2-D."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.ConvTranspose1d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


# -- the two model shapes ------------------------------------------------------------
class _SequenceAutoencoder(Model):
    """x -> encoder -> linear code z -> decoder -> x_hat; MSE or BCE."""

    def __init__(self, config: Any, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.config = config
        self.encoder, self.decoder = encoder, decoder
        self.to_code = nn.Linear(encoder.features, config.latent_dim)
        _init(self)
        if getattr(config, "start", "random") == "pca":  # aekit.models.pca_start
            self.pca = PCAStart(config.input_shape, config.latent_dim)

    def init_from_data(self, x: torch.Tensor) -> None:
        if hasattr(self, "pca"):
            self.pca.fit(x)
            self.starts_at_solution = True

    def encode(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        z = self.to_code(self.encoder(x))  # (B, latent)
        return self.pca.code(x, z) if hasattr(self, "pca") else z

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return output_activation(self.config.output, self._logits(z))  # (B, C, T)

    def _logits(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decoder(z)
        return self.pca.output(z, out) if hasattr(self, "pca") else out

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        logits = self._logits(self.encode(x)).float()
        if self.config.recon_loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target)
        else:
            recon = F.mse_loss(output_activation(self.config.output, logits), target)
        return {"loss": recon, "recon": recon}


class _SequenceVAE(Model):
    """x -> encoder -> (mu, logvar) -> z = mu + sigma * eps -> decoder -> p(x|z)."""

    # vae/model.py's pieces, shared rather than copied: they read config.likelihood,
    # config.output, config.sigma, config.beta and self.log_sigma
    kl = staticmethod(VAE.kl)
    reparameterize = staticmethod(VAE.reparameterize)
    log_likelihood = VAE.log_likelihood
    _log_sigma = VAE._log_sigma
    set_epoch = VAE.set_epoch

    def __init__(self, config: Any, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.config = c = config
        self.encoder, self.decoder = encoder, decoder
        self.to_posterior = nn.Linear(encoder.features, 2 * c.latent_dim)
        learn_sigma = c.likelihood == "gaussian" and c.sigma is None
        self.log_sigma = nn.Parameter(torch.zeros(())) if learn_sigma else None
        self.kl_weight = c.beta if c.kl_warmup_epochs == 0 else 0.0
        _init(self)
        if getattr(c, "start", "random") == "pca":  # aekit.models.vae_pca_start
            self.pca = WhitenedPCAStart(c.input_shape, c.latent_dim)

    def init_from_data(self, x: torch.Tensor) -> None:
        """The start at pPCA: the net's log-variance and the decoder's noise begin
        at the fitted ones (the mean's correction waits behind its gate)."""
        if not hasattr(self, "pca"):
            return
        self.pca.fit(x)
        k = self.config.latent_dim
        with torch.no_grad():
            self.to_posterior.weight[k:].zero_()
            self.to_posterior.bias[k:].zero_()
            if self.log_sigma is not None:
                self.log_sigma.fill_(0.5 * math.log(float(self.pca.noise)))
        self.starts_at_solution = True

    def encode_distribution(
        self, x: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_posterior(self.encoder(x)).chunk(2, dim=1)
        if hasattr(self, "pca"):
            mu, logvar = self.pca.code(x, mu), self.pca.logvar(logvar)
        return mu, logvar.clamp(*LOGVAR_RANGE)  # (B, latent) each

    def encode(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior mean: the deterministic code used for plots and probes."""
        return self.encode_distribution(x)[0]

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The mean of p(x|z)."""
        return output_activation(self.config.output, self.decode_logits(z))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's pre-activation output, which log_likelihood scores
        (aekit.analysis.likelihood reads it as for vae/model.py's VAE)."""
        out = self.decoder(z)  # (B, C, T)
        return self.pca.output(z, out) if hasattr(self, "pca") else out

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode_distribution(x)
        z = self.reparameterize(mu, logvar)
        recon = -self.log_likelihood(target, self.decode_logits(z)).mean()
        kl = self.kl(mu, logvar).mean()
        # validation (eval mode) always scores the full objective, as vae/model.py does
        weight = self.kl_weight if self.training else self.config.beta
        terms = {"loss": recon + weight * kl, "recon": recon, "kl": kl}
        if self.log_sigma is not None:
            terms["sigma"] = self._log_sigma().exp().detach()
        return terms

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        c: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode n draws from the prior N(0, I)."""
        device = self.to_posterior.weight.device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return self.decode(z)


# -- the four models ---------------------------------------------------------------
class Conv1dAutoencoder(_SequenceAutoencoder):
    """1-D conv + 2x pooling per width, a linear code, an upsampling decoder."""

    def __init__(self, config: Conv1dConfig):
        c = config
        encoder = Conv1dEncoder(c.input_shape, c.channels, c.kernel_size, c.activation)
        super().__init__(config, encoder, Conv1dDecoder(encoder, c))


class Conv1dVAE(_SequenceVAE):
    """Conv1dAutoencoder's body with a Gaussian posterior and the negative ELBO."""

    def __init__(self, config: Conv1dVAEConfig):
        c = config
        encoder = Conv1dEncoder(c.input_shape, c.channels, c.kernel_size, c.activation)
        super().__init__(config, encoder, Conv1dDecoder(encoder, c))


class LSTMAutoencoder(_SequenceAutoencoder):
    """EncDec-AD's encoder-decoder (recurrent.py): an encoder RNN (LSTM or
    GRU, one way or both) -> code -> a decoder RNN that rebuilds the window step by
    step, in reverse order by default, teacher-forced at first and free running by
    the end of the teacher_forcing schedule."""

    def __init__(self, config: LSTMConfig):
        super().__init__(config, RecurrentEncoder(config), RecurrentDecoder(config))
        self.teacher = 1.0 if config.teacher_forcing > 0 else 0.0

    def set_epoch(self, epoch: int) -> None:
        """Scheduled sampling: the chance of feeding a true value falls from 1 at
        the first epoch to 0 (free running) at epoch teacher_forcing."""
        epochs = self.config.teacher_forcing
        self.teacher = max(0.0, 1.0 - epoch / epochs) if epochs > 0 else 0.0

    def _logits(
        self, z: torch.Tensor, target: torch.Tensor | None = None
    ) -> torch.Tensor:
        teacher = self.teacher if (self.training and target is not None) else 0.0
        if not hasattr(self, "pca"):
            return self.decoder(z, target=target, teacher=teacher)
        pca = self.pca
        base = (z @ pca.basis + pca.mean).view(len(z), *self.config.input_shape)
        return self.decoder(
            z, target=target, teacher=teacher, base=base, gate=pca.gates[1]
        )

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        logits = self._logits(self.encode(x), target).float()
        if self.config.recon_loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target)
        else:
            recon = F.mse_loss(output_activation(self.config.output, logits), target)
        return {"loss": recon, "recon": recon}


class LSTMVAE(_SequenceVAE):
    """LSTMAutoencoder with a Gaussian posterior and the negative ELBO."""

    def __init__(self, config: LSTMVAEConfig):
        super().__init__(config, LSTMEncoder(config), LSTMDecoder(config))


SEQUENCE_MODELS: dict[str, tuple[type[Model], type]] = {
    "conv1d": (Conv1dAutoencoder, Conv1dConfig),
    "conv1d-vae": (Conv1dVAE, Conv1dVAEConfig),
    "lstm": (LSTMAutoencoder, LSTMConfig),
    "lstm-vae": (LSTMVAE, LSTMVAEConfig),
}

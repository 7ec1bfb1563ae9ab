"""A sparse autoencoder for dictionary learning: f = sparse(W_e (x - b_d) + b_e),
x_hat = D f + b_d with unit-norm dictionary columns D = W_d / ||W_d|| (normalised in
every forward pass, so the saved decoder is the dictionary).

The families (aekit.models.sae.config) differ in `sparse` and in the penalty:
relu-l1 takes ReLU and sum_i |f_i| ||d_i|| (Bricken et al. 2023); topk keeps each
input's k largest (Gao et al. 2024); batch-topk keeps the batch's k * B largest and
infers with the learnt floor as a threshold (Bussmann et al. 2024); jumprelu
zeroes what is under a learnt per-latent threshold and pays lambda * L0 through a
straight-through kernel (Rajamanoharan et al. 2024).

Dead latents (silent for `dead_steps` training steps) are trained by AuxK (Gao et
al.): the aux_k largest dead pre-activations reconstruct the residual x - x_hat,
weighted aux_weight; and, with resample_every, re-initialised at badly reconstructed
inputs (Bricken et al.). Both run inside `loss` in training mode: a hook of the
model's own, no trainer change. The decoder bias starts at the data's geometric
median (init_from_data).

Inputs are scaled by one number, `input_scale` s, fitted in init_from_data so that
the training inputs have E||s x|| = sqrt(D) (the papers' normalisation of SAE
inputs: Anthropic's April 2024 update; one number, so the geometry is kept).
encode reads s x and decode returns x_hat / s, so codes and the penalties see
scale-free inputs (MSE grows as s^2, an L1 as s: without it the defaults fit one
scale only) while outputs stay in the data's units. The loss terms (mse, aux) are
in the scaled units; FVU is the same in both. Activations of a network come
already scaled to E||a|| = sqrt(D) (aekit.data.activations), so s ~ 1 there; runs
saved before s existed load with s = 1.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..base import Condition, Model
from .activations import batch_topk, geometric_median, jumprelu, step, topk
from .config import SAEConfig


def bag(index: torch.Tensor, rows: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """sum_j values[b, j] rows[index[b, j]]: a sparse code decoded without the
    (B, n) dense product (and a sparse gradient into the dictionary)."""
    return nn.functional.embedding_bag(
        index, rows, per_sample_weights=values, mode="sum"
    )


# log theta = THRESHOLD_SPEED * the stored parameter. Adam moves a parameter by about
# lr a step whatever its gradient's size, so a plain log-threshold at lr 1e-3 rises at
# most e-fold per 1,000 steps: on the toy benchmark (3,900 steps) it went from 0.1 to
# 0.19 while the features' activations sit near 1-2, and the L0 never fell (51% dead,
# no feature recovered). Ten times faster, it reaches them in a few hundred steps.
THRESHOLD_SPEED = 10.0
MEDIAN_ROWS = 4096  # rows of the training data the geometric median is taken over
FLOOR_DECAY = 0.99  # EMA of BatchTopK's smallest kept activation


def input_scale(flat: torch.Tensor) -> float:
    """s with E||s x|| = sqrt(D) over the rows of flat (N, D); 1 for all-zero
    data (nothing to scale)."""
    mean_norm = float(flat.double().norm(dim=1).mean())
    return math.sqrt(flat.shape[1]) / mean_norm if mean_norm > 0 else 1.0


class SAE(Model):
    """(B, *shape) inputs, flattened, -> (B, latent) sparse codes -> (B, *shape)."""

    def __init__(self, config: SAEConfig):
        super().__init__()
        self.config = c = config
        width, n = math.prod(c.input_shape), c.latent_dim
        direction = torch.randn(n, width)
        direction /= direction.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(direction)  # (n, D): row i is latent i's direction
        # tied start (Gao et al.); where many latents may fire at once (relu-l1,
        # jumprelu) scaled by D / n so that the first reconstruction is ~x, not ~(n/D) x
        scale = 1.0 if "topk" in c.sae else min(1.0, width / n)
        self.W_enc = nn.Parameter(direction * scale)
        self.b_enc = nn.Parameter(torch.zeros(n))
        self.b_dec = nn.Parameter(torch.zeros(width))
        if c.sae == "jumprelu":
            start = math.log(c.threshold) / THRESHOLD_SPEED
            self.threshold_param = nn.Parameter(torch.full((n,), start))
        self.register_buffer("silent", torch.zeros(n, dtype=torch.long))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("floor", torch.zeros(()))  # batch-topk's threshold
        self.register_buffer("input_scale", torch.ones(()))  # s, see the docstring

    def absent_state(self) -> dict[str, torch.Tensor]:
        return {"input_scale": torch.ones(())}  # runs saved before s: unscaled

    # -- the dictionary ---------------------------------------------------------------
    def directions(self) -> torch.Tensor:
        """(n, D) unit-norm latent directions, the rows of the decoder."""
        norms = self.W_dec.pow(2).sum(1, keepdim=True).sqrt()
        return self.W_dec / norms.clamp_min(1e-8)

    def dictionary(self) -> torch.Tensor:
        """(D, n): the unit-norm decoder columns, one per latent."""
        return self.directions().t()

    def threshold(self) -> torch.Tensor:
        """(n,) JumpReLU's per-latent thresholds theta."""
        return (THRESHOLD_SPEED * self.threshold_param).exp()

    def scaled(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *shape) data -> (B, D) flat inputs in the SAE's units, s x."""
        return x.reshape(len(x), -1) * self.input_scale

    def pre_activations(self, x: torch.Tensor) -> torch.Tensor:
        """W_e (s x - b_d) + b_e, as s x W_e^T + (b_e - W_e b_d): the batch's
        gradient then never flows back to x, only a vector to b_d (one (B, D)
        product less)."""
        return self._pre(self.scaled(x))

    def _pre(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.b_enc - self.W_enc @ self.b_dec, flat, self.W_enc.t())

    def sparse(self, pre: torch.Tensor) -> torch.Tensor:
        """The family's sparse code of pre-activations (B, n)."""
        c = self.config
        if c.sae == "relu-l1":
            return pre.relu()
        if c.sae == "topk":
            return topk(pre, c.k)
        if c.sae == "batch-topk":
            if self.training:
                kept, floor = batch_topk(pre, c.k)
                with torch.no_grad():
                    self.floor.lerp_(floor, 1 - FLOOR_DECAY)
                return kept
            return pre.relu() * (pre > self.floor)
        theta = self.threshold()
        if torch.is_grad_enabled():
            return jumprelu(pre, theta, c.bandwidth)
        return pre.relu() * (pre > theta)

    # -- the contract -----------------------------------------------------------------
    def encode(self, x: torch.Tensor, c: Condition = None) -> torch.Tensor:
        return self.sparse(self.pre_activations(x))

    def decode(self, z: torch.Tensor, c: Condition = None) -> torch.Tensor:
        out = (z @ self.directions() + self.b_dec) / self.input_scale
        return out.view(len(z), *self.config.input_shape)

    def init_from_data(self, x: torch.Tensor) -> None:
        flat = x.reshape(len(x), -1)[:MEDIAN_ROWS].to(self.b_dec.device).double()
        with torch.no_grad():
            self.input_scale.fill_(input_scale(flat))
            self.b_dec.copy_(geometric_median(flat * self.input_scale.double()))

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        cfg = self.config
        flat_x, flat_t = self.scaled(x), self.scaled(target)
        if self.training and cfg.resample_every:
            self._maybe_resample(flat_x, flat_t)
        pre = self._pre(flat_x)
        rows = self.directions()
        if cfg.sae == "topk":  # k values per row, decoded as a bag of k rows
            values, index = pre.topk(cfg.k, dim=-1)
            values = values.relu()
            x_hat = bag(index, rows, values) + self.b_dec
            active = values > 0
            l0 = active.sum(-1, dtype=torch.float32).mean()
            fired = torch.zeros(len(rows), dtype=torch.bool, device=pre.device)
            fired[index[active]] = True
        else:
            f = self.sparse(pre)
            x_hat = f @ rows + self.b_dec
            fired = (f > 0).any(0)
            l0 = (f > 0).sum(-1, dtype=torch.float32).mean()
        error = (x_hat - flat_t).pow(2).sum(-1)
        mse = error.mean()
        centred = (flat_t - flat_t.mean(0)).pow(2).sum()
        terms = {
            "mse": mse,
            "fvu": error.sum().detach() / centred.clamp_min(1e-12),
            "l0": l0.detach(),
        }
        loss = mse
        if cfg.sae == "relu-l1":
            # sum_i |f_i| ||d_i||, and every ||d_i|| is 1 here (unit rows)
            terms["l1"] = f.sum(-1).mean()
            loss = loss + cfg.l1 * terms["l1"]
        elif cfg.sae == "jumprelu":
            theta = self.threshold()
            terms["l0_penalty"] = step(pre, theta, cfg.bandwidth).sum(-1).mean()
            loss = loss + cfg.l0_weight * terms["l0_penalty"]
        if self.training:
            dead = self._track(fired)
            terms["dead"] = dead.float().mean()
            if cfg.aux_k > 0 and cfg.aux_weight > 0 and bool(dead.any()):
                residual = (flat_t - x_hat).detach()
                values, index = (pre - (~dead) * 1e4).topk(cfg.aux_k, dim=-1)
                aux = bag(index, rows, values.relu())
                terms["aux"] = (aux - residual).pow(2).sum(-1).mean()
                loss = loss + cfg.aux_weight * terms["aux"]
        terms["loss"] = loss
        return terms

    # -- dead latents -----------------------------------------------------------------
    @torch.no_grad()
    def _track(self, fired: torch.Tensor) -> torch.Tensor:
        """Count silent steps per latent (fired: (n,) bool); True where dead."""
        self.silent.add_(1).masked_fill_(fired, 0)
        self.steps.add_(1)
        return self.silent >= self.config.dead_steps

    @torch.no_grad()
    def _maybe_resample(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """Every resample_every steps, point each dead latent at an input drawn in
        proportion to its squared reconstruction error (Bricken et al. 2023); x
        and target (B, D) in the SAE's units."""
        cfg = self.config
        if int(self.steps) == 0 or int(self.steps) % cfg.resample_every:
            return
        dead = (self.silent >= cfg.dead_steps).nonzero().flatten()
        if len(dead) == 0:
            return
        x_hat = self.sparse(self._pre(x)) @ self.directions() + self.b_dec
        error = (x_hat - target).pow(2).sum(-1).pow(2)
        if not float(error.sum()) > 0:
            return
        pick = torch.multinomial(error, len(dead), replacement=True)
        direction = x[pick] - self.b_dec
        direction /= direction.norm(dim=1, keepdim=True).clamp_min(1e-8)
        alive = self.silent < cfg.dead_steps
        scale = self.W_enc[alive].norm(dim=1).mean() if alive.any() else 1.0
        self.W_dec[dead] = direction
        self.W_enc[dead] = direction * 0.2 * scale
        self.b_enc[dead] = 0.0
        if cfg.sae == "jumprelu":  # back to the start: a threshold learnt while
            # dead keeps the new direction silent (at the alive latents' median
            # threshold half the dictionary stayed dead on the toy benchmark)
            self.threshold_param[dead] = math.log(cfg.threshold) / THRESHOLD_SPEED
        self.silent[dead] = 0

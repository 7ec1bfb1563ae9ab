"""VAE-GAN: Larsen et al. 2016, "Autoencoding beyond pixels using a learned
similarity metric", https://arxiv.org/abs/1512.09300.

A VAE (aekit.models.vae.model) whose decoder is also a GAN's generator, and a
discriminator D that tells data from reconstructions and from decoded prior draws.
The reconstruction error is measured in D's last hidden layer (its features)
beside the usual pixel term, so the autoencoder learns a similarity that GAN
training shapes. Two parameter groups, each stepped on its own loss:

- "model" (encoder + decoder): loss = pixel_weight * recon + feature_weight *
  feature_recon + beta * KL + gan_weight * generator, where `generator` is the
  non-saturating -log D(x_tilde) over reconstructions and prior draws;
- "discriminator": discriminator_loss = BCE of D on data (real) and on
  reconstructions and prior draws (fake).

The trainer back-propagates each loss into its own group only (see
aekit.training.loop._Loop.backward), so D's loss never moves the generator and the
generator's loss never moves D. Small MLPs and a modest gan_weight keep it stable
on digits; the paper's convolutional version also scales the terms per layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import Condition
from ..layers import init_weights, mlp, output_activation
from ..vae.model import VAE
from .config import VAEGANConfig


class Discriminator(nn.Module):
    """x -> MLP features (the last hidden layer) -> one logit (real vs fake)."""

    def __init__(self, input_shape: tuple[int, ...], hidden: tuple[int, ...], act: str):
        super().__init__()
        d = 1
        for s in input_shape:
            d *= s
        self.features = mlp([d, *hidden], act, act_last=True)
        self.logit = nn.Linear(hidden[-1], 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x.flatten(1))
        return self.logit(h)[:, 0], h  # (B,), (B, F)


class VAEGAN(VAE):
    """A VAE plus a discriminator whose features measure reconstruction. Both
    groups step together on one forward pass (Model.optimisation's default); the
    best checkpoint is the one with the lowest negative ELBO, never a GAN term."""

    selection_metric = "nelbo"

    def __init__(self, config: VAEGANConfig):
        super().__init__(config)
        c = config
        self.discriminator = Discriminator(c.input_shape, c.disc_hidden, "leaky-relu")
        init_weights(self.discriminator)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        disc = {id(p) for p in self.discriminator.parameters()}
        model = [p for p in self.parameters() if id(p) not in disc and p.requires_grad]
        return {"model": model, "discriminator": list(self.discriminator.parameters())}

    def loss(
        self, x: torch.Tensor, target: torch.Tensor, c: Condition = None
    ) -> dict[str, torch.Tensor]:
        cfg = self.config
        mu, logvar, switches = self._posterior(x)
        z = self.reparameterize(mu, logvar)
        logits = self.decode_logits(z, switches)
        recon = -self.log_likelihood(target, logits).mean()
        kl = self.kl(mu, logvar).mean()
        x_rec = output_activation(cfg.output, logits)
        x_fake = self.decode(torch.randn_like(mu))  # prior draws
        d_real, f_real = self.discriminator(target)
        d_rec, f_rec = self.discriminator(x_rec)
        d_fake, _ = self.discriminator(x_fake)
        # the features of real data are the target: the decoder moves towards them
        feature = (f_rec.float() - f_real.detach().float()).pow(2).sum(1).mean()
        generator = 0.5 * (_bce(d_rec, 1.0) + _bce(d_fake, 1.0))
        weight = self.kl_weight if self.training else cfg.beta
        loss = (
            cfg.pixel_weight * recon
            + cfg.feature_weight * feature
            + weight * kl
            + cfg.gan_weight * generator
        )
        d_rec_sg, _ = self.discriminator(x_rec.detach())
        d_fake_sg, _ = self.discriminator(x_fake.detach())
        discriminator = _bce(d_real, 1.0) + 0.5 * (
            _bce(d_rec_sg, 0.0) + _bce(d_fake_sg, 0.0)
        )
        terms = {
            "loss": loss,
            "discriminator_loss": discriminator,
            "recon": recon,
            "feature_recon": feature,
            "kl": kl,
            "nelbo": (recon + kl).detach(),  # what selects the best checkpoint
            "generator": generator,
            "d_real": torch.sigmoid(d_real.float()).mean().detach(),
        }
        if self.log_sigma is not None:
            terms["sigma"] = self._log_sigma().exp().detach()
        return terms


def _bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))

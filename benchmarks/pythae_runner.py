"""Times pythae 0.1.2's trainer on aekit's architectures; run by throughput.py in
pythae's own virtual environment (its pins clash with aekit's).

Reads one JSON request per line on stdin, {"model", "batch", "data", "threads"},
and answers {"seconds": the second epoch's training time} (or {"error": ...}).
The aekit model is wrapped as pythae's encoder and decoder, so both train the same
network; pythae's trainer adds its DataLoader, progress bar and bookkeeping.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pythae.data.datasets import BaseDataset  # noqa: E402
from pythae.models import AE, VAE, AEConfig, VAEConfig  # noqa: E402
from pythae.models.base.base_utils import ModelOutput  # noqa: E402
from pythae.models.nn import BaseDecoder, BaseEncoder  # noqa: E402
from pythae.trainers import BaseTrainer, BaseTrainerConfig  # noqa: E402
from pythae.trainers.training_callbacks import TrainingCallback  # noqa: E402


class Encoder(BaseEncoder):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        if hasattr(self.model, "encode_distribution"):
            mu, logvar = self.model.encode_distribution(x)
            return ModelOutput(embedding=mu, log_covariance=logvar)
        return ModelOutput(embedding=self.model.encode(x))


class Decoder(BaseDecoder):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, z):
        return ModelOutput(reconstruction=self.model.decode(z))


class EpochClock(TrainingCallback):
    """Seconds from the start of each epoch's training pass to its last step."""

    def __init__(self):
        self.begun, self.seconds = 0.0, []

    def on_train_step_begin(self, training_config, **kwargs):
        self.begun = time.perf_counter()
        self.seconds.append(0.0)

    def on_train_step_end(self, training_config, **kwargs):
        self.seconds[-1] = time.perf_counter() - self.begun


def time_pythae(key: str, batch: int, x: torch.Tensor) -> float:
    from zoo import MODELS, make_model

    net = make_model(key)
    shape = tuple(x.shape[1:])
    if MODELS[key][0].endswith("vae"):
        config = VAEConfig(input_dim=shape, latent_dim=net.latent_dim)
        model = VAE(config, encoder=Encoder(net), decoder=Decoder(net))
    else:
        config = AEConfig(input_dim=shape, latent_dim=net.latent_dim)
        model = AE(config, encoder=Encoder(net), decoder=Decoder(net))
    clock = EpochClock()
    with tempfile.TemporaryDirectory() as out:
        training = BaseTrainerConfig(
            output_dir=out,
            per_device_train_batch_size=batch,
            per_device_eval_batch_size=batch,
            num_epochs=2,
            learning_rate=1e-3,
            no_cuda=True,
        )
        labels = torch.zeros(len(x))
        trainer = BaseTrainer(
            model,
            BaseDataset(x, labels),
            BaseDataset(x[:batch], labels[:batch]),
            training,
            callbacks=[clock],
        )
        trainer.train()
    return clock.seconds[-1]


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            torch.set_num_threads(request["threads"])
            x = torch.from_numpy(np.load(request["data"]))
            answer = {"seconds": time_pythae(request["model"], request["batch"], x)}
        except Exception as e:  # report, keep serving
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()

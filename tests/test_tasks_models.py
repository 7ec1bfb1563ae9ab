"""Image-to-image models: shapes at odd sizes, losses, round trips, small-batch fits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from aekit.errors import AekitError
from aekit.models import IMAGE_TO_IMAGE, MODELS, model_from_record, model_record
from aekit.models.bodies import UPSAMPLE_MODES
from aekit.models.image_to_image.segnet import SegNet, SegNetConfig
from aekit.models.image_to_image.unet import UNet, UNetConfig

COLOUR = {"in_channels": 1, "out_channels": 2, "loss": "l1"}
CLASSES = {"in_channels": 3, "out_channels": 4, "loss": "cross-entropy"}


def build(name: str, **options) -> torch.nn.Module:
    spec = IMAGE_TO_IMAGE[name]
    return spec.cls(spec.config(channels=(4, 8, 8), **options, **spec.fixed))


def test_image_to_image_models_declare_no_code():
    assert set(IMAGE_TO_IMAGE) <= set(MODELS)
    for name in IMAGE_TO_IMAGE:
        caps = MODELS[name].capabilities
        assert caps.codes is None and "reconstruct" not in caps.tasks
    assert IMAGE_TO_IMAGE["unet"].fixed["skip"] is True
    assert IMAGE_TO_IMAGE["encoder-decoder"].fixed["skip"] is False


@pytest.mark.parametrize("name", list(IMAGE_TO_IMAGE))
@pytest.mark.parametrize("size", [(16, 16), (13, 22), (5, 7)], ids=str)
def test_output_shapes_and_dtypes_at_any_size(name, size):
    torch.manual_seed(0)
    model = build(name, **CLASSES)
    x = torch.rand(2, 3, *size)
    logits = model(x)
    assert logits.shape == (2, 4, *size) and logits.dtype == torch.float32
    target = torch.randint(0, 4, (2, *size))
    terms = model.loss(x, target)
    assert torch.isfinite(terms["loss"]) and 0 <= terms["pixel_accuracy"] <= 1
    terms["loss"].backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", list(IMAGE_TO_IMAGE))
@pytest.mark.parametrize("loss", ["l1", "mse"])
def test_colour_loss_is_l1_or_mse(name, loss):
    model = build(name, **{**COLOUR, "loss": loss}).eval()
    x, target = torch.rand(2, 1, 12, 12), torch.rand(2, 2, 12, 12)
    terms = model.loss(x, target)
    y = model(x)
    expected = (y - target).abs().mean() if loss == "l1" else (y - target).pow(2).mean()
    torch.testing.assert_close(terms["loss"], expected)
    assert set(terms) == {"loss", "mae", "mse"}


@pytest.mark.parametrize("mode", UPSAMPLE_MODES)
def test_unet_upsamples_every_way(mode):
    model = UNet(UNetConfig(channels=(4, 8, 8), upsample=mode, **COLOUR))
    assert model(torch.rand(3, 1, 9, 14)).shape == (3, 2, 9, 14)


def test_skips_change_the_decoder_and_nothing_else():
    plain = build("encoder-decoder", **COLOUR)
    unet = build("unet", **COLOUR)
    n = [sum(p.numel() for p in m.parameters()) for m in (plain, unet)]
    assert n[1] > n[0]
    assert [p.shape for p in plain.down.parameters()] == [
        p.shape for p in unet.down.parameters()
    ]


def test_cross_entropy_matches_pytorch_with_weights_and_ignore_index():
    torch.manual_seed(0)
    weights = (0.5, 1.0, 2.0, 0.0)
    model = UNet(UNetConfig(channels=(4, 8), class_weights=weights, **CLASSES)).eval()
    x = torch.rand(2, 3, 8, 8)
    target = torch.randint(0, 4, (2, 8, 8))
    target[0, :3] = 255
    expected = F.cross_entropy(
        model(x), target, weight=torch.tensor(weights), ignore_index=255
    )
    torch.testing.assert_close(model.loss(x, target)["loss"], expected)


def test_all_ignored_pixels_give_zero_loss_not_nan():
    model = SegNet(SegNetConfig(channels=(4,), **CLASSES))
    terms = model.loss(torch.rand(2, 3, 8, 8), torch.full((2, 8, 8), 255))
    assert terms["loss"].item() == 0.0 and torch.isfinite(terms["pixel_accuracy"])


@pytest.mark.parametrize(
    "options, message",
    [
        ({**CLASSES, "class_weights": (1.0, 2.0)}, "2 class weights for 4"),
        ({**CLASSES, "out_channels": 1}, "at least 2 classes"),
        ({**COLOUR, "class_weights": (1.0, 1.0)}, "cross-entropy loss only"),
        ({**COLOUR, "loss": "huber"}, "loss must be one of"),
        ({**COLOUR, "in_channels": 0}, "in_channels must be at least 1"),
    ],
)
def test_bad_configs_are_clear_errors(options, message):
    with pytest.raises(AekitError, match=message):
        UNetConfig(**options)


def test_segnet_unpools_to_the_encoders_maxima():
    model = SegNet(SegNetConfig(channels=(2,), convs=1, **COLOUR)).eval()
    seen = {}
    model.up[0].register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0]))
    model(torch.rand(1, 1, 8, 8))
    unpooled = seen["x"]  # what the decoder stage receives
    # one value per 2x2 cell survives unpooling, at its max position
    cells = (unpooled != 0).float().unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))
    assert cells.max() <= 1


@pytest.mark.parametrize("name", list(IMAGE_TO_IMAGE))
def test_record_round_trip_gives_identical_outputs(name):
    model = build(name, **CLASSES, class_weights=(1.0, 1.0, 2.0, 0.5)).eval()
    again = model_from_record(model_record(name, model)).eval()
    again.load_state_dict(model.state_dict())
    x = torch.rand(1, 3, 11, 9)
    torch.testing.assert_close(model(x), again(x))
    assert again.config == model.config


@pytest.mark.parametrize("name", ["unet", "segnet"])
def test_overfits_one_small_batch(name):
    torch.manual_seed(0)
    spec = IMAGE_TO_IMAGE[name]
    model = spec.cls(spec.config(channels=(4, 8), **CLASSES, **spec.fixed))
    x = torch.rand(2, 3, 8, 8)
    target = (x[:, 0] > 0.5).long() * 2  # a per-pixel rule: class 2 where bright
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    first = model.loss(x, target)["loss"].item()
    for _ in range(40):
        optimizer.zero_grad()
        terms = model.loss(x, target)
        terms["loss"].backward()
        optimizer.step()
    # judged in training mode: 40 steps are too few for batch norm's running stats
    assert terms["loss"].item() < 0.3 * first
    assert terms["pixel_accuracy"] > 0.9


@pytest.mark.parametrize("name", list(IMAGE_TO_IMAGE))
def test_no_vector_code_is_a_clear_error(name):
    model = build(name, **COLOUR)
    with pytest.raises(AekitError, match="no vector code"):
        model.encode(torch.rand(1, 1, 8, 8))
    with pytest.raises(AekitError, match="no vector code"):
        _ = model.latent_dim

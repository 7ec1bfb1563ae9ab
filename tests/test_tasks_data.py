"""Paired folders, masks, patches, Lab, scores and whole-image inference."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from aekit.analysis.colorization import color_scores, ssim
from aekit.analysis.segmentation import (
    confusion_matrix,
    default_palette,
    mask_png_bytes,
    median_frequency_weights,
    overlay,
    segmentation_scores,
)
from aekit.data.color import colorization_dataset, lab_to_rgb, rgb_to_lab, to_rgb
from aekit.data.demo import SHAPE_CLASSES, shape_pairs
from aekit.data.paired import (
    ImagePairs,
    extract_patches,
    read_class_names,
    read_mask,
    read_pairs,
    segmentation_dataset,
)
from aekit.errors import AekitError
from aekit.inference.images import predict_whole
from aekit.models.image_to_image.unet import UNet, UNetConfig

RNG = np.random.default_rng(0)


def save_palette_mask(path, ids: np.ndarray) -> None:
    image = Image.fromarray(ids.astype(np.uint8), mode="P")
    image.putpalette(default_palette(256).reshape(-1).tolist())
    image.save(path)


def make_pairs(tmp_path, sizes=((20, 24), (17, 23)), n_classes=3) -> tuple:
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for i, (h, w) in enumerate(sizes):
        Image.fromarray(RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
            images / f"im{i}.jpg"
        )
        save_palette_mask(masks / f"im{i}.png", RNG.integers(0, n_classes, (h, w)))
    return images, masks


# -- colour ---------------------------------------------------------------------------
def test_lab_matches_scikit_image_and_round_trips():
    color = pytest.importorskip("skimage.color")
    rgb = RNG.random((16, 9, 3))
    np.testing.assert_allclose(rgb_to_lab(rgb), color.rgb2lab(rgb), atol=1e-3)
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-9)


def test_ssim_matches_scikit_image_gaussian_ssim():
    metrics = pytest.importorskip("skimage.metrics")
    a = RNG.random((30, 25, 3))
    b = np.clip(a + RNG.normal(0, 0.1, a.shape), 0, 1)
    expected = metrics.structural_similarity(
        a,
        b,
        data_range=1.0,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    assert ssim(a, b) == pytest.approx(expected, abs=1e-9)
    assert ssim(a, a) == pytest.approx(1.0)


@pytest.mark.parametrize("space, channels", [("lab", 2), ("rgb", 3)])
def test_colorization_pairs_hold_lightness_and_colour(space, channels):
    patches = RNG.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    data = colorization_dataset(patches, space, "test")
    assert data.x.shape == (5, 1, 8, 8) and data.x.dtype == torch.float32
    assert data.target.shape == (5, channels, 8, 8)
    assert data.target.dtype == torch.float32
    rebuilt = to_rgb(data.x[0], data.target[0], space)  # the truth comes back
    np.testing.assert_allclose(rebuilt, patches[0] / 255.0, atol=1e-5)


def test_color_scores_put_truth_above_the_gray_copy():
    truth = [RNG.random((12, 14, 3))]
    scores = color_scores(truth, truth)
    assert scores["psnr"] == np.inf and scores["ssim"] == pytest.approx(1.0)
    assert scores["gray_copy_psnr"] < 40 and scores["gray_copy_ssim"] < 1


# -- segmentation scores --------------------------------------------------------------
def test_scores_by_hand_with_an_ignored_pixel_and_an_absent_class():
    truth = np.array([[0, 0, 1, 1], [1, 255, 0, 0]])
    pred = np.array([[0, 1, 1, 1], [0, 2, 0, 0]])
    conf = confusion_matrix(pred, truth, 4, ignore_index=255)
    assert conf.sum() == 7  # the ignored pixel is not counted
    scores = segmentation_scores(conf, ("bg", "a", "b", "c"))
    assert scores["pixel_accuracy"] == pytest.approx(5 / 7)
    assert scores["iou_bg"] == pytest.approx(3 / 5)  # TP 3, FP 1, FN 1
    assert scores["iou_a"] == pytest.approx(2 / 4)  # TP 2, FP 1, FN 1
    assert scores["iou_b"] is None and scores["iou_c"] is None  # nowhere
    assert scores["miou"] == pytest.approx((3 / 5 + 2 / 4) / 2)


def test_median_frequency_weights_by_hand():
    masks = [np.array([[0, 0, 0, 1]]), np.array([[0, 0, 2, 2]])]
    # f0 = 5/8, f1 = 1/4 (only image 1), f2 = 2/4 (only image 2); median 1/2
    w = median_frequency_weights(masks, 4)
    np.testing.assert_allclose(w, [0.8, 2.0, 1.0, 0.0])


def test_palette_png_round_trip_and_overlay():
    assert default_palette(4).tolist()[:4] == [
        [0, 0, 0],
        [128, 0, 0],
        [0, 128, 0],
        [128, 128, 0],
    ]
    ids = RNG.integers(0, 4, (9, 11))
    with Image.open(io.BytesIO(mask_png_bytes(ids, default_palette(4)))) as image:
        assert image.mode == "P" and image.size == (11, 9)
        np.testing.assert_array_equal(np.asarray(image), ids)
    photo = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    tinted = overlay(photo, ids, default_palette(4))
    assert tinted.shape == photo.shape and tinted.dtype == np.uint8
    np.testing.assert_array_equal(tinted[ids == 0], photo[ids == 0])  # black: as is
    assert (tinted[ids == 1] != photo[ids == 1]).any()


# -- masks and paired folders ---------------------------------------------------------
@pytest.mark.parametrize("mode", ["P", "L", "I;16", "RGB-gray"])
def test_masks_read_as_int64_class_ids(tmp_path, mode):
    ids = RNG.integers(0, 5, (7, 6))
    path = tmp_path / "m.png"
    if mode == "P":
        save_palette_mask(path, ids)
    elif mode == "RGB-gray":
        Image.fromarray(np.repeat(ids[..., None], 3, -1).astype(np.uint8)).save(path)
    else:
        dtype = np.uint16 if mode == "I;16" else np.uint8
        Image.fromarray(ids.astype(dtype)).save(path)
    read, palette = read_mask(path)
    assert read.dtype == np.int64 and read.shape == (7, 6)
    np.testing.assert_array_equal(read, ids)
    assert (palette is not None) == (mode == "P")


def test_colour_and_lossy_masks_are_refused(tmp_path):
    Image.fromarray(RNG.integers(0, 256, (4, 4, 3), dtype=np.uint8)).save(
        tmp_path / "c.png"
    )
    with pytest.raises(AekitError, match="palette PNGs or single-channel"):
        read_mask(tmp_path / "c.png")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "j.jpg")
    with pytest.raises(AekitError, match="losslessly"):
        read_mask(tmp_path / "j.jpg")


def test_pairs_match_by_name_and_keep_sizes(tmp_path):
    images, masks = make_pairs(tmp_path)
    (masks / "classes.txt").write_text("# names\nsky\n\nroad\ncar\n")
    pairs = read_pairs(images, masks)
    assert pairs.names == ["im0", "im1"] and pairs.classes == ("sky", "road", "car")
    assert [m.shape for m in pairs.masks] == [(20, 24), (17, 23)]
    assert pairs.palette is not None


def test_missing_partner_names_the_image(tmp_path):
    images, masks = make_pairs(tmp_path)
    (masks / "im1.png").unlink()
    with pytest.raises(AekitError, match="no mask .* for 1 image.*im1"):
        read_pairs(images, masks)


def test_class_id_outside_declared_classes_is_named(tmp_path):
    images, masks = make_pairs(tmp_path, n_classes=3)
    names = tmp_path / "names.txt"
    names.write_text("a\nb\n")
    with pytest.raises(AekitError, match="class id 2, outside the 2 declared"):
        read_pairs(images, masks, classes=names)


def test_mask_of_another_size_is_refused(tmp_path):
    images, masks = make_pairs(tmp_path)
    save_palette_mask(masks / "im0.png", np.zeros((5, 5)))
    with pytest.raises(AekitError, match="is 5x5 but its image"):
        read_pairs(images, masks)


def test_class_file_needs_two_distinct_names(tmp_path):
    (tmp_path / "c.txt").write_text("a\na\n")
    with pytest.raises(AekitError, match="given twice"):
        read_class_names(tmp_path / "c.txt")


# -- patches --------------------------------------------------------------------------
def test_patches_are_seeded_and_small_images_padded_with_ignore_index():
    image = RNG.integers(0, 256, (10, 30, 3), dtype=np.uint8)
    mask = RNG.integers(0, 3, (10, 30))
    pairs = ImagePairs([image], ["a"], "test", [mask], ("a", "b", "c"))
    x1, m1 = extract_patches(pairs, 16, per_image=6, seed=3, ignore_index=9)
    x2, m2 = extract_patches(pairs, 16, per_image=6, seed=3, ignore_index=9)
    assert x1.shape == (6, 16, 16, 3) and x1.dtype == np.uint8
    assert m1.shape == (6, 16, 16) and m1.dtype == np.int64
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(m1, m2)
    assert (m1[:, 10:] == 9).all() and (m1[:, :10] != 9).all()


def test_segmentation_dataset_types_and_grayscale_channels():
    pairs = shape_pairs("test", n=3)
    data = segmentation_dataset(pairs, 32, per_image=2, seed=0)
    assert data.x.shape == (6, 3, 32, 32) and data.x.dtype == torch.float32
    assert data.target.shape == (6, 32, 32) and data.target.dtype == torch.int64
    assert 0 <= data.x.min() and data.x.max() <= 1
    assert data.classes == SHAPE_CLASSES
    gray = ImagePairs(
        [np.repeat(a[..., :1], 3, -1) for a in pairs.images],
        pairs.names,
        "gray",
        pairs.masks,
        pairs.classes,
    )
    assert segmentation_dataset(gray, 32, per_image=1).x.shape[1] == 1


def test_shapes_demo_is_seeded_and_labels_every_shape():
    a, b = shape_pairs("test", n=4), shape_pairs("test", n=4)
    np.testing.assert_array_equal(a.images[0], b.images[0])
    ids = np.unique(np.concatenate([m.ravel() for m in a.masks]))
    assert set(ids) <= {0, 1, 2, 3} and len(ids) > 1
    assert not np.array_equal(shape_pairs("train", n=1).images[0], a.images[0])


# -- whole-image inference ------------------------------------------------------------
def test_whole_image_inference_pads_and_crops_back():
    torch.manual_seed(0)
    model = UNet(UNetConfig(channels=(4, 8, 8), in_channels=1, out_channels=2)).eval()
    images = [torch.rand(1, 13, 22), torch.rand(1, 16, 8), torch.rand(1, 13, 22)]
    out = predict_whole(model, images, max_pixels=300)
    assert [tuple(o.shape) for o in out] == [(2, 13, 22), (2, 16, 8), (2, 13, 22)]
    with torch.no_grad():  # sizes that are multiples need no padding: same result
        torch.testing.assert_close(out[1], model(images[1][None])[0])


def test_colorization_training_skips_gray_images_and_needs_colour(tmp_path):
    from aekit.tasks import TASKS

    Image.fromarray(np.full((6, 7), 80, np.uint8)).save(tmp_path / "gray.png")
    with pytest.raises(AekitError, match="every image is grayscale"):
        TASKS["colorize"].read_pairs(str(tmp_path), {})
    colour = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    Image.fromarray(colour).save(tmp_path / "colour.png")
    pairs = TASKS["colorize"].read_pairs(str(tmp_path), {})
    assert pairs.names == ["colour"]

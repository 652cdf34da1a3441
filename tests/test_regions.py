"""Error regions (fcn_core/regions.py): components per class pair, statistics and the verdict rule, on
constructed images."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from fcn_core.predictor import StrideResult
from fcn_core.regions import (
    LABEL_SUSPECT,
    MODEL_WRONG,
    Verdict,
    _pair_components,
    extract_regions,
)

H, W = 80, 100


def _square_image(y0=20, y1=60, x0=30, x1=70, seed=0) -> np.ndarray:
    """A bright square on a dark, slightly noisy background."""
    img = np.full((H, W, 3), 40, np.float32)
    img[y0:y1, x0:x1] = 210
    img += np.random.default_rng(seed).normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _square(cls=1, y0=20, y1=60, x0=30, x1=70, fill=0) -> np.ndarray:
    lab = np.full((H, W), fill, np.uint8)
    lab[y0:y1, x0:x1] = cls
    return lab


def _result(labels, confidence=0.95, margin=0.9) -> StrideResult:
    return StrideResult(labels, np.full(labels.shape, confidence, np.float32),
                        np.full(labels.shape, margin, np.float32))


def _all_strides(labels, **kw) -> dict[int, StrideResult]:
    return {s: _result(labels, **kw) for s in (32, 16, 8)}


def test_regions_per_class_pair_with_boxes_areas_and_min_area():
    gt = np.zeros((H, W), np.uint8)
    pred = gt.copy()
    pred[10:20, 10:18] = 1  # (0 -> 1), 80 px
    pred[10:20, 18:24] = 2  # touches the first but another pair: its own region, 60 px
    pred[50:53, 50:53] = 1  # 9 px: below min_area
    gt[60:70, 60:70] = 255  # void GT never makes a region, whatever is predicted there
    pred[60:70, 60:70] = 3
    regions = extract_regions(np.zeros((H, W, 3), np.uint8), gt, {8: pred}, 8, min_area=20)
    got = [(r.true_class, r.predicted_class, r.box, r.area) for r in regions]
    assert got == [(0, 1, (10, 10, 18, 20), 80), (0, 2, (18, 10, 24, 20), 60)]
    assert regions[0].mask.shape == (10, 8) and regions[0].mask.all()
    assert regions[0].confidence is None and regions[0].agreement is None
    assert regions[0].verdict == MODEL_WRONG  # no confidence: never a suspect label


def test_diagonal_pixels_join_and_separate_blobs_split():
    gt = np.zeros((H, W), np.uint8)
    pred = gt.copy()
    pred[0:8, 0:8] = 1
    pred[8:16, 8:16] = 1  # touches the first only at a corner: 8-connected, one region
    pred[40:48, 40:48] = 1  # separate
    regions = extract_regions(np.zeros((H, W, 3), np.uint8), gt, {8: pred}, min_area=1)
    assert sorted((r.box, r.area) for r in regions) == [((0, 0, 16, 16), 128), ((40, 40, 48, 48), 64)]
    whole = regions[0].full_mask((H, W))
    assert whole.sum() == regions[0].area and whole[0, 0] and whole[15, 15] and not whole[0, 15]


def test_pair_components_match_a_naive_per_pair_scipy_loop():
    rng = np.random.default_rng(3)
    # blocky random maps so that components have all sizes and shapes
    gt = np.kron(rng.integers(0, 4, (20, 25)), np.ones((4, 4), int)).astype(np.uint8)
    pred = np.kron(rng.integers(0, 4, (40, 50)), np.ones((2, 2), int)).astype(np.uint8)
    gt[rng.random(gt.shape) < 0.05] = 255
    fast = sorted((t, p, box, area) for t, p, box, area, _ in _pair_components(gt, pred, 5, 255))
    naive = []
    for t in range(4):
        for p in range(4):
            if t == p:
                continue
            comp, n = ndimage.label((gt == t) & (pred == p), structure=np.ones((3, 3)))
            for k, sl in enumerate(ndimage.find_objects(comp), start=1):
                area = int((comp[sl] == k).sum())
                if area >= 5:
                    naive.append((t, p, (sl[1].start, sl[0].start, sl[1].stop, sl[0].stop), area))
    assert fast == sorted(naive) and len(fast) > 20


def test_confidence_margin_and_stride_agreement():
    gt = np.zeros((H, W), np.uint8)
    pred = gt.copy()
    pred[10:30, 10:20] = 1  # 200 px
    conf = np.full((H, W), 0.2, np.float32)
    conf[10:30, 10:15] = 0.9  # half the region at 0.9, half at 0.2
    res8 = StrideResult(pred, conf, conf / 2)
    half = gt.copy()
    half[10:20, 10:20] = 1  # 16s agrees on half the region
    results = {32: _result(pred), 16: _result(half), 8: res8}
    (region,) = extract_regions(np.zeros((H, W, 3), np.uint8), gt, results, 8)
    assert region.confidence == pytest.approx(0.55) and region.margin == pytest.approx(0.275)
    assert region.agreement == pytest.approx((1.0 + 0.5) / 2)
    record = region.to_json(["bg", "thing"], "img7")
    assert record["image"] == "img7" and record["true_class"] == "bg" and record["predicted_class"] == "thing"
    assert record["box"] == [10, 10, 20, 30] and record["area"] == 200 and record["stride"] == 8


@pytest.mark.parametrize("shift", [4, 8])
def test_label_border_off_the_edge_is_label_suspect(shift):
    image = _square_image()
    pred = _square()  # the model follows the square exactly
    for gt in (_square(x1=70 + shift), _square(x1=70 - shift)):  # label's right border moved out / in
        regions = extract_regions(image, gt, _all_strides(pred), 8, min_area=20)
        assert len(regions) == 1, regions
        assert regions[0].edge_ratio > 2.0 and regions[0].verdict == LABEL_SUSPECT


def test_model_border_off_the_edge_is_model_wrong():
    image = _square_image()
    gt = _square()  # the label follows the square
    for pred in (_square(x1=76), _square(x1=64)):
        (region,) = extract_regions(image, gt, _all_strides(pred), 8, min_area=20)
        assert region.edge_ratio < 1.0 and region.verdict == MODEL_WRONG


def test_erased_object_is_label_suspect_and_a_blob_on_flat_ground_is_not():
    image = _square_image()
    (erased,) = extract_regions(image, np.zeros((H, W), np.uint8), _all_strides(_square()), 8)
    assert erased.true_class == 0 and erased.predicted_class == 1 and erased.verdict == LABEL_SUSPECT
    flat = _square_image(0, 0, 0, 0)  # nothing in the image where the model sees a square
    (blob,) = extract_regions(flat, np.zeros((H, W), np.uint8), _all_strides(_square()), 8)
    assert blob.verdict == MODEL_WRONG


def test_swapped_class_needs_high_confidence():
    image = _square_image()
    gt = _square(cls=2)  # the right outline, the wrong class
    (region,) = extract_regions(image, gt, _all_strides(_square(cls=1), confidence=0.95), 8)
    assert region.edge_ratio is None and region.object_fraction == 1.0
    assert region.verdict == LABEL_SUSPECT
    (region,) = extract_regions(image, gt, _all_strides(_square(cls=1), confidence=0.8), 8)
    assert region.verdict == MODEL_WRONG


def test_unconfident_or_inconsistent_model_is_model_wrong():
    image = _square_image()
    gt, pred = _square(x1=76), _square()
    low = extract_regions(image, gt, _all_strides(pred, confidence=0.4), 8)
    assert [r.verdict for r in low] == [MODEL_WRONG]
    others_disagree = {32: _result(gt), 16: _result(gt), 8: _result(pred)}
    (region,) = extract_regions(image, gt, others_disagree, 8)
    assert region.agreement == 0.0 and region.verdict == MODEL_WRONG
    # the same region with a rule that does not ask for agreement
    assert Verdict(agreement_min=0.0)(region) == LABEL_SUSPECT


def test_bad_inputs_are_value_errors():
    gt = np.zeros((H, W), np.uint8)
    with pytest.raises(ValueError, match="stride 4"):
        extract_regions(np.zeros((H, W, 3), np.uint8), gt, {8: gt}, 4)
    with pytest.raises(ValueError, match="differ in size"):
        extract_regions(np.zeros((H, W, 3), np.uint8), gt, {8: gt[:, :-1]}, 8)
    with pytest.raises(ValueError, match="image"):
        extract_regions(np.zeros((H, W - 1, 3), np.uint8), gt, {8: gt}, 8)
    with pytest.raises(ValueError, match="no predictions"):
        extract_regions(np.zeros((H, W, 3), np.uint8), gt, {}, 8)


def test_read_only_labels_are_fine():
    gt = _square(x1=76)
    gt.flags.writeable = False  # as Dataset.label may return them
    regions = extract_regions(_square_image(), gt, _all_strides(_square()), 8)
    assert [r.verdict for r in regions] == [LABEL_SUSPECT]


def test_object_fraction_is_the_share_of_the_labels_object():
    gt = _square(cls=2)  # background (6400 px) and one object of class 2 (1600 px)
    pred = gt.copy()
    pred[0:10, 0:10] = 1  # two regions in the same background object
    pred[70:80, 90:100] = 1
    pred[20:60, 30:50] = 1  # half of the square
    regions = extract_regions(_square_image(), gt, {8: pred}, 8)
    got = sorted((r.box, r.object_fraction) for r in regions)
    assert got == [((0, 0, 10, 10), 100 / 6400), ((30, 20, 50, 60), 0.5), ((90, 70, 100, 80), 100 / 6400)]


def test_a_sliver_between_outlines_that_agree_within_tolerance_is_model_wrong():
    """Confident slivers along a border both outlines share (within 2 px) were flagged as suspect labels
    (the two false alarms per 50 clean demo images); they are the model's imprecision."""
    image = _square_image()
    (region,) = extract_regions(image, _square(), _all_strides(_square(x1=72)), 8)
    assert region.area == 80 and region.edge_ratio is None and region.object_fraction < 0.5
    assert region.verdict == MODEL_WRONG

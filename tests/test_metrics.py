"""The paper's metrics: equal to a literal reference implementation on real labels, and to hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fcn_core.data import open_dataset
from fcn_core.metrics import ConfusionAccumulator, confusion_matrix, image_scores, scores_from_confusion
from tests.conftest import shared_data_path


def reference_scores(pairs, n_cl, void=255):
    """The paper's §5 formulas written out literally: n_ij counted pixel-class by pixel-class with loops."""
    n = [[0] * n_cl for _ in range(n_cl)]
    for gt, pred in pairs:
        for i in range(n_cl):
            gi = gt == i
            for j in range(n_cl):
                n[i][j] += int(np.count_nonzero(gi & (pred == j)))
    t = [sum(n[i]) for i in range(n_cl)]
    col = [sum(n[j][i] for j in range(n_cl)) for i in range(n_cl)]
    present = [i for i in range(n_cl) if t[i] + col[i] > 0]  # absent from both GT and prediction: skipped
    in_gt = [i for i in range(n_cl) if t[i] > 0]
    pixel_acc = sum(n[i][i] for i in range(n_cl)) / sum(t)
    mean_acc = sum(n[i][i] / t[i] for i in in_gt) / len(in_gt)
    ius = {i: n[i][i] / (t[i] + col[i] - n[i][i]) for i in present}
    mean_iu = sum(ius.values()) / len(present)
    fw_iu = sum(t[i] * ius[i] for i in present) / sum(t)
    return {"pixel_acc": pixel_acc, "mean_acc": mean_acc, "mean_iu": mean_iu, "fw_iu": fw_iu,
            "n": n, "ius": ius}


def perturb(gt, rng, n_cl):
    """A plausible 'prediction': the label shifted a few pixels, void filled, some blocks recoloured."""
    pred = np.roll(gt, shift=(int(rng.integers(-9, 10)), int(rng.integers(-9, 10))), axis=(0, 1)).copy()
    pred[pred == 255] = 0
    h, w = pred.shape
    for _ in range(3):
        y, x = int(rng.integers(0, h - 20)), int(rng.integers(0, w - 20))
        pred[y:y + 20, x:x + 20] = rng.integers(0, n_cl)
    return pred


@pytest.fixture(scope="module")
def voc_pairs():
    ds = open_dataset(shared_data_path("voc2012-sample"))
    rng = np.random.default_rng(0)
    stems = ds.stems[::8]  # 42 real labels: plenty of classes, quick with the looped reference
    return [(g, perturb(g, rng, 21)) for g in (ds.label(s) for s in stems)]


def test_matches_reference_on_real_voc_labels(voc_pairs):
    acc = ConfusionAccumulator(21)
    for gt, pred in voc_pairs:
        acc.update(gt, pred)
    ref = reference_scores(voc_pairs, 21)
    assert acc.matrix.tolist() == ref["n"]
    got = acc.scores()
    for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu"):
        assert abs(got[key] - ref[key]) < 1e-9, key
    for i, iu in ref["ius"].items():
        assert abs(got["per_class"][str(i)]["iu"] - iu) < 1e-9
    assert 0.3 < got["mean_iu"] < 0.95  # a real, imperfect prediction


def test_per_image_scores_match_reference(voc_pairs):
    for gt, pred in voc_pairs[:10]:
        ref = reference_scores([(gt, pred)], 21)
        got = image_scores(gt, pred, 21)
        assert abs(got["mean_iu"] - ref["mean_iu"]) < 1e-9
        assert abs(got["pixel_acc"] - ref["pixel_acc"]) < 1e-9
        valid = gt != 255
        wrong = np.count_nonzero((gt != pred) & valid)
        assert abs(got["error_frac"] - wrong / np.count_nonzero(valid)) < 1e-12


def test_pixel_by_pixel_loop_on_a_crop(voc_pairs):
    gt, pred = voc_pairs[0]
    gt, pred = gt[::6, ::6], pred[::6, ::6]
    n = np.zeros((21, 21), np.int64)
    for g, p in zip(gt.ravel().tolist(), pred.ravel().tolist()):
        if g != 255:
            n[g, p] += 1
    assert np.array_equal(confusion_matrix(gt, pred, 21), n)


def test_hand_computed_case():
    # GT    pred          class 0: t=3, predicted 2, hit 2 -> IU 2/3, acc 2/3
    # 0 0   0 1           class 1: t=2, predicted 3, hit 2 -> IU 2/3, acc 1
    # 0 1   0 1           class 2: absent from both -> NaN, skipped
    # 1 V   1 1           (V = void pixel: ignored)
    gt = np.array([[0, 0], [0, 1], [1, 255]], np.uint8)
    pred = np.array([[0, 1], [0, 1], [1, 1]], np.uint8)
    cm = confusion_matrix(gt, pred, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 2, 0], [0, 0, 0]]
    s = scores_from_confusion(cm, ["a", "b", "c"])
    assert s["pixel_acc"] == pytest.approx(4 / 5)
    assert s["mean_acc"] == pytest.approx((2 / 3 + 1) / 2)
    assert s["mean_iu"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert s["fw_iu"] == pytest.approx((3 * 2 / 3 + 2 * 2 / 3) / 5)
    assert math.isnan(s["per_class"]["c"]["iu"]) and math.isnan(s["per_class"]["c"]["acc"])
    assert s["per_class"]["b"] == {"iu": pytest.approx(2 / 3), "acc": 1.0}


def test_class_predicted_but_not_in_gt_counts_as_zero_iu():
    gt = np.zeros((2, 2), np.uint8)
    pred = np.array([[0, 0], [0, 2]], np.uint8)
    s = scores_from_confusion(confusion_matrix(gt, pred, 3))
    assert s["per_class"]["2"]["iu"] == 0.0 and math.isnan(s["per_class"]["2"]["acc"])
    assert s["mean_iu"] == pytest.approx((3 / 4 + 0) / 2)
    assert s["mean_acc"] == pytest.approx(3 / 4)


def test_perfect_and_all_void():
    gt = np.array([[1, 2], [255, 0]], np.uint8)
    s = image_scores(gt, np.array([[1, 2], [7, 0]], np.uint8), 3)  # value under void is never looked at
    assert s == {"mean_iu": 1.0, "pixel_acc": 1.0, "error_frac": 0.0}
    s = image_scores(np.full((2, 2), 255, np.uint8), np.zeros((2, 2), np.uint8), 3)
    assert all(math.isnan(v) for v in s.values())


def test_bad_shapes_and_values():
    with pytest.raises(ValueError, match="differ in size"):
        confusion_matrix(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8), 3)
    with pytest.raises(ValueError, match="ground truth has values"):
        confusion_matrix(np.full((2, 2), 5, np.uint8), np.zeros((2, 2), np.uint8), 3)
    with pytest.raises(ValueError, match="prediction has values"):
        confusion_matrix(np.zeros((2, 2), np.uint8), np.full((2, 2), 3, np.uint8), 3)


def test_accumulator_sums_and_resets(voc_pairs):
    acc = ConfusionAccumulator(21)
    total = np.zeros((21, 21), np.int64)
    for gt, pred in voc_pairs[:5]:
        total += acc.update(gt, pred)
    assert np.array_equal(acc.matrix, total) and acc.images == 5
    acc.reset()
    assert acc.matrix.sum() == 0 and acc.images == 0


def test_uint8_fast_path_equals_general_path(voc_pairs):
    for gt, pred in voc_pairs[:5]:
        fast = confusion_matrix(gt, pred, 21)
        general = confusion_matrix(gt.astype(np.int64), pred.astype(np.int32), 21)
        assert fast.dtype == general.dtype == np.int64 and np.array_equal(fast, general)
    gt = np.array([[0, 11], [1, 2]], np.int64)
    pred = np.array([[0, 5], [1, 2]], np.int64)
    assert confusion_matrix(gt, pred, 3, ignore_index=11).sum() == 3
    with pytest.raises(ValueError, match="prediction has values"):
        confusion_matrix(gt, np.full((2, 2), 3, np.int64), 3, ignore_index=11)
    with pytest.raises(ValueError, match="ground truth has values"):
        confusion_matrix(np.full((2, 2), 4, np.int64), pred, 3, ignore_index=11)

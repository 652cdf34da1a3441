"""``fcn_core.top2``: labels equal torch's arg-max exactly (ties, NaN), confidence and margin equal
softmax-then-top-2 up to float rounding, for any class count and dtype."""

from __future__ import annotations

import pytest
import torch

from fcn_core.top2 import labels_and_top2


def reference(z: torch.Tensor):
    z = z.float()
    prob = torch.softmax(z, dim=1)
    top = prob.topk(min(2, z.shape[1]), dim=1).values
    margin = top[:, 0] - top[:, 1] if z.shape[1] > 1 else top[:, 0]
    return z.argmax(dim=1).to(torch.uint8), top[:, 0], margin


@pytest.mark.parametrize("classes", [1, 2, 8, 21, 150, 256])
def test_matches_argmax_and_softmax_top2(classes):
    g = torch.Generator().manual_seed(classes)
    z = torch.randn(2, classes, 37, 53, generator=g) * 6
    # Exact ties between the two best classes, and a wide logit range (subnormal exp() terms).
    z[0, :, :5, :5] = 1.5
    z[1, :, 10:20, 10:20] *= 40
    labels, conf, margin = labels_and_top2(z)
    ref_labels, ref_conf, ref_margin = reference(z)
    assert labels.dtype == torch.uint8 and labels.shape == (2, 37, 53)
    assert torch.equal(labels, ref_labels)
    torch.testing.assert_close(conf, ref_conf, atol=2e-6, rtol=0)
    torch.testing.assert_close(margin, ref_margin, atol=2e-6, rtol=0)
    if classes > 1:  # tied best classes: margin 0, and the label is the first of them
        assert float(margin[0, :5, :5].abs().max()) == 0.0
        assert int(labels[0, :5, :5].max()) == 0


def test_labels_do_not_depend_on_confidence_and_tie_goes_to_first_class():
    z = torch.zeros(1, 5, 4, 4)
    z[0, 3] = 2.0
    z[0, 1] = 2.0  # tie between 1 and 3: torch's rule is the first maximum
    z[0, 4, 0, 0] = 3.0
    with_conf = labels_and_top2(z)[0]
    labels, conf, margin = labels_and_top2(z, with_confidence=False)
    assert conf is None and margin is None
    assert torch.equal(labels, with_conf)
    assert int(labels[0, 0, 0]) == 4 and int(labels[0, 1, 1]) == 1
    assert torch.equal(labels, z.argmax(1).to(torch.uint8))


def test_nan_logit_follows_torch_argmax():
    z = torch.randn(1, 6, 8, 8, generator=torch.Generator().manual_seed(0))
    z[0, 4, 2, 3] = float("nan")
    labels, conf, _ = labels_and_top2(z)
    assert torch.equal(labels, z.argmax(1).to(torch.uint8))
    assert int(labels[0, 2, 3]) == 4
    assert torch.isfinite(conf[0, 0, 0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_logits_give_float32_results(dtype):
    z = (torch.randn(1, 21, 16, 16, generator=torch.Generator().manual_seed(1)) * 4).to(dtype)
    labels, conf, margin = labels_and_top2(z)
    ref_labels, ref_conf, ref_margin = reference(z)
    assert conf.dtype == torch.float32 and margin.dtype == torch.float32
    assert torch.equal(labels, ref_labels)
    torch.testing.assert_close(conf, ref_conf, atol=2e-6, rtol=0)
    torch.testing.assert_close(margin, ref_margin, atol=2e-6, rtol=0)

"""bench/datasets.py runs on a small tree and reports what it opened (no timing asserts)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_bench_datasets_small(tmp_path):
    tree = tmp_path / "tree"
    cmd = [sys.executable, str(REPO / "bench" / "datasets.py"), "--count", "30", "--dir", str(tree)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(out.stdout)
    assert report["format"] == "cityscapes" and report["images"] == report["labelled"] == 30
    assert report["splits"] == {"train": 27, "val": 3} and report["tree"]["files"] == 60
    assert report["first_image_shape"] == [8, 16, 3] and report["first_label_classes"][-1] == 255
    assert report["open_s"] >= 0 and report["first_image_s"] >= report["open_s"]
    assert len(list((tree / "gtFine" / "train" / "city000").iterdir())) == 27
    # A second run reuses the tree instead of writing it again.
    again = json.loads(subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout)
    assert again["tree"]["generate_s"] is None and again["images"] == 30

"""bench/regions_verdict.py and bench/assist.py run end to end at tiny sizes and print their JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fcn_core.demo_data import make_demo_dataset
from fcn_core.resources import DEMO_MODEL

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> dict:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(not DEMO_MODEL.is_file(), reason="the bundled demo model is not in this checkout")
def test_regions_verdict_bench_tiny(tmp_path):
    data = make_demo_dataset(tmp_path / "demo", count=10, size=(96, 72))
    out = _run(str(REPO / "bench" / "regions_verdict.py"), "--data", str(data), "--limit", "2",
               "--tune-seed", "1", "--seed", "2", "--json-out", str(tmp_path / "v.json"))
    assert out == json.loads((tmp_path / "v.json").read_text())
    assert out["images"] == 2 and out["tune"]["seed"] == 1
    report = out["report"]
    assert set(report) >= {"defaults", "without_edge_test", "tuned", "seed"}
    for name in ("defaults", "without_edge_test", "tuned"):
        r = report[name]
        assert r["corruptions"] >= 1 and r["clean"]["images"] == 2
        assert r["true_positives"] <= r["flagged"] and r["true_positives"] <= r["corrupted_regions"]


def test_assist_bench_quick(tmp_path):
    out = _run(str(REPO / "bench" / "assist.py"), "--quick", "--json-out", str(tmp_path / "a.json"))
    assert out == json.loads((tmp_path / "a.json").read_text())
    assert out["grabcut_2mp"]["grabcut_refine"]["median_ms"] > 0
    assert out["grabcut_2mp"]["naive_full_image_rect"]["median_ms"] > 0
    assert out["superpixels_2mp"]["superpixels"] > 1
    assert out["scissors_2mp"]["scissors_click"]["median_ms"] > 0
    assert out["regions_2mp"]["regions"] > 0
    assert set(out["regions_2mp"]["components_ms"]) == {"pair_components", "naive_scipy_per_pair"}
    assert out["dataset_regions_1000"]["images"] == 10 and out["dataset_regions_1000"]["regions"] > 0

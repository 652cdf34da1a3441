"""Short CPU runs showing the RGB-D (early fusion) and two-headed (semantic + geometric) nets learn.

Writes demo scenes with depth and geometric labels, trains each net for a few minutes at width 1/8 from
scratch, and prints JSON: first/last training loss and validation mean IU before (untrained: score layers at
zero) and after, semantic and (two-headed) geometric.

    PYTHONPATH=. python3 scripts/paper_nets_cpu_demo.py OUT_DIR [--minutes 2.5] [--count 80]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from fcn_core.data import open_dataset
from fcn_core.demo_data import make_demo_dataset
from fcn_core.metrics import ConfusionAccumulator
from fcn_core.models import forward_tasks
from fcn_core.training import TrainConfig, train_model
from fcn_core.training.recipe import build_stage_model
from fcn_core.training.samples import to_tensor
from fcn_core.training.tasks import input_specs, model_tasks, sample_arrays, sample_targets
from fcn_core.weights.inputs import network_input


@torch.no_grad()
def scores(model, prep, dataset) -> dict[str, float]:
    model.eval()
    specs = input_specs(model, prep)
    tasks = model_tasks(model)
    acc = {"sem": ConfusionAccumulator(dataset.num_classes), "geo": ConfusionAccumulator(3)}
    for s in dataset.split("val"):
        arrays = sample_arrays(dataset, s.stem, tuple(p.name for p in specs))
        x = to_tensor(network_input(specs, arrays))[None]
        out = forward_tasks(model, x)
        target = sample_targets(dataset, s.stem, tasks)
        for i, t in enumerate(tasks):
            gt = target[..., i] if len(tasks) > 1 else target
            pred = next(iter(out[t].values()))[0].argmax(0).numpy().astype(np.uint8)
            acc[t].update(gt, pred)
    return {f"{t}_mean_iu": round(float(acc[t].scores()["mean_iu"]), 4) for t in tasks}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--minutes", type=float, default=2.5)
    ap.add_argument("--count", type=int, default=80)
    ap.add_argument("--archs", default="fcn32s,nyud-fcn32s-color-d,siftflow-fcn16s")
    args = ap.parse_args()
    data = args.out / "scenes"
    if not data.exists():
        make_demo_dataset(data, count=args.count, seed=0, size=(160, 120), depth=True, geometric=True)
    dataset = open_dataset(data)
    report = {}
    for arch in args.archs.split(","):
        cfg = TrainConfig(data=data, out=args.out / arch, arch=arch, width=0.125, batch_size=4,
                          crop=(112, 144), minutes=args.minutes, num_workers=0, show_progress=False, lr=4e-3,
                          seed=0)
        torch.manual_seed(0)
        start, prep, _ = build_stage_model(cfg.resolved(), arch, dataset, dataset.split("train"),
                                           init_from=None, init_vgg16=None)
        before = scores(start, prep, dataset)
        events: list[dict] = []
        result = train_model(cfg, progress=events.append)
        losses = [e["loss"] for e in events if e["event"] == "iteration"]
        after = scores(result.model.cpu(), prep, dataset)
        report[arch] = {
            "iterations": result.iterations, "loss_first": round(losses[0], 4),
            "loss_last10_mean": round(float(np.mean(losses[-10:])), 4),
            "val_before": before, "val_after": after,
        }
        print(json.dumps({arch: report[arch]}), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

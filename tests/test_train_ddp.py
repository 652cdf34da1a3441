"""DistributedDataParallel on CPU: two gloo processes train on different shards and end with one model."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp

from fcn_core.demo_data import make_demo_dataset
from fcn_core.training import TrainConfig, train_model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hash(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _worker(rank: int, world: int, port: int, data: str, out: str, report: str) -> None:
    # What torchrun would set for each process.
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    cfg = TrainConfig(data=Path(data), out=Path(out), arch="fcn-multi", width=0.0625, batch_size=1,
                      crop=(48, 64), max_iters=3, lr=5e-3, num_workers=0, device="cpu", show_progress=False)
    result = train_model(cfg)
    Path(report, f"rank{rank}.txt").write_text(f"{_hash(result.model.state_dict())} {result.iterations}\n")


def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    data = make_demo_dataset(tmp_path / "data", count=10, size=(64, 48))
    report = tmp_path / "report"
    report.mkdir()
    args = (2, _free_port(), str(data), str(tmp_path / "run"), str(report))
    mp.spawn(_worker, args=args, nprocs=2, join=True)
    h0, it0 = (report / "rank0.txt").read_text().split()
    h1, it1 = (report / "rank1.txt").read_text().split()
    assert it0 == it1 == "3"
    assert h0 == h1
    # Rank 0 wrote the checkpoint, and it holds exactly the weights both ranks ended with.
    from fcn_core.weights.reading import read_safetensors

    state, _ = read_safetensors(tmp_path / "run" / "last.safetensors")
    assert _hash(state) == h0
    # The weights moved away from the initial ones (the score layers start at zero).
    assert state["score_fr.weight"].abs().sum() > 0

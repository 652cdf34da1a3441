"""A resumable prediction store: what ``fcn predict`` writes under torchrun (or with ``--resume``).

Layout, the one ``fcn predict --stride all`` writes, plus bookkeeping that label readers ignore::

    OUT/32s/<stem>.png  OUT/16s/<stem>.png  OUT/8s/<stem>.png   (or OUT/<stem>.png for one stride)
    OUT/records/<stem>.json     one per image done: model hash, precision, strides, source size
    OUT/manifest.json           written by rank 0 at the end: model, precision, counts

An image counts as done only when its record says so for the same model content (SHA-256 of the weights
file, not its name or date), precision and strides, for a source of the same size, and its PNGs exist. The
record is written (atomically) after the PNGs, so a run killed at any point redoes at most the images in
flight. Every rank writes only its own images' files; file names never collide between ranks.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fcn_core.data.atomic import atomic_write_text
from fcn_core.pipeline import output_path

RECORDS_DIR = "records"
MANIFEST = "manifest.json"
#: Tests only: the process exits abruptly (like a kill) after writing this many records.
EXIT_AFTER_ENV = "FCN_PREDICT_EXIT_AFTER"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoreKey:
    """What makes two predictions of one image the same: model content, precision, strides written, and the
    head of a two-headed net (``task``)."""

    model_sha256: str
    model_file: str
    arch: str
    precision: str
    strides: tuple[int, ...]
    task: str = "sem"

    def matches(self, record: dict[str, Any]) -> bool:
        """True when ``record`` was written by a run with this key."""
        return (record.get("model_sha256") == self.model_sha256 and record.get("precision") == self.precision
                and tuple(record.get("strides", ())) == self.strides
                and record.get("task", "sem") == self.task)


def shard(paths: Sequence[Path], rank: int, world: int) -> list[Path]:
    """This rank's share: every ``world``-th image starting at ``rank`` (balanced for mixed sizes)."""
    return list(paths[rank::world])


def record_path(out: Path, stem: str) -> Path:
    """Where the record of ``stem`` lives."""
    return out / RECORDS_DIR / f"{stem}.json"


def _source_bytes(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def is_done(out: Path, path: Path, key: StoreKey, per_stride_dirs: bool) -> bool:
    """True when ``path`` was predicted into ``out`` with ``key`` (record matches and PNGs exist)."""
    try:
        record = json.loads(record_path(out, path.stem).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or not key.matches(record):
        return False
    if record.get("source_bytes") != _source_bytes(path):
        return False
    return all(output_path(out, path.stem, s, per_stride_dirs).is_file() for s in key.strides)


def write_record(out: Path, path: Path, key: StoreKey) -> None:
    """Record that ``path`` is done with ``key`` (call after its PNGs are written)."""
    record = {"image": path.name, "source_bytes": _source_bytes(path), **asdict(key)}
    record["strides"] = list(key.strides)
    target = record_path(out, path.stem)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(record, indent=1, sort_keys=True) + "\n")


class ExitAfter:
    """Test hook (``FCN_PREDICT_EXIT_AFTER=k``): ``os._exit`` once ``k`` records are written, as a kill
    would stop the run half-way (other images' PNGs may be written without a record)."""

    def __init__(self) -> None:
        value = os.environ.get(EXIT_AFTER_ENV)
        self.limit = int(value) if value else None
        self.count = 0
        self.lock = threading.Lock()

    def step(self) -> None:
        with self.lock:
            self.count += 1
            if self.limit is not None and self.count >= self.limit:
                os._exit(75)


def write_manifest(out: Path, key: StoreKey, summaries: Sequence[dict[str, Any]], *, total: int) -> dict:
    """Write ``out/manifest.json`` (atomically) from every rank's summary; returns it.

    A summary is ``{"written": n, "skipped": n, "failed": [names], "seconds": s}`` for that rank's share.
    """
    failed = sorted(name for s in summaries for name in s["failed"])
    manifest = {
        "model": {"file": key.model_file, "sha256": key.model_sha256, "arch": key.arch},
        "precision": key.precision,
        "strides": list(key.strides),
        "images": total,
        "written": sum(s["written"] for s in summaries),
        "skipped_already_done": sum(s["skipped"] for s in summaries),
        "failed": len(failed),
        "failed_images": failed[:100],
        "processes": len(summaries),
        "seconds": round(max((s["seconds"] for s in summaries), default=0.0), 3),
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return manifest


def predict_into_store(predictor: Any, paths: Sequence[Path], out: Path, *, key: StoreKey, ctx: Any,
                       per_stride_dirs: bool, **pipeline_options: Any) -> tuple[Any, dict | None]:
    """Predict this rank's share of ``paths`` that is not done yet into ``out``; record each image; gather
    the ranks' summaries and (rank 0) write the manifest. ``ctx`` is a
    :class:`fcn_core.training.distributed.DistContext`; ``pipeline_options`` go to ``predict_paths``.

    Returns ``(this rank's PredictReport, manifest or None on other ranks)``.
    """
    import torch.distributed as dist

    from fcn_core.pipeline import predict_paths

    mine = shard(paths, ctx.rank, ctx.world)
    todo = [p for p in mine if not is_done(out, p, key, per_stride_dirs)]
    exit_after = ExitAfter()

    def record(path: Path) -> None:
        write_record(out, path, key)
        exit_after.step()

    out.mkdir(parents=True, exist_ok=True)
    report = predict_paths(predictor, todo, out, strides=key.strides, per_stride_dirs=per_stride_dirs,
                           on_written=record, **pipeline_options)
    summary = {"written": report.ok, "skipped": len(mine) - len(todo),
               "failed": [str(p.name) for p, _ in report.failed], "seconds": report.seconds}
    summaries: list[Any] = [summary]
    if ctx.distributed:
        summaries = [None] * ctx.world
        dist.all_gather_object(summaries, summary)
    manifest = write_manifest(out, key, summaries, total=len(paths)) if ctx.is_main else None
    return report, manifest

"""Sharded, resumable `fcn predict` (fcn_core.prediction_store): torchrun ranks, records, resume, manifest."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from fcn_core.cli import main
from fcn_core.prediction_store import EXIT_AFTER_ENV, MANIFEST, RECORDS_DIR
from tests.test_pipeline import tiny_checkpoint, write_photo

REPO = Path(__file__).resolve().parents[1]
STEMS = [f"p{i}" for i in range(6)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    images = root / "images"
    images.mkdir()
    for i, stem in enumerate(STEMS):  # two sizes, so ranks get mixed shapes
        write_photo(images / f"{stem}.png", 40 + 8 * (i % 2), 56, i)
    return images, tiny_checkpoint(root, "fcn-multi")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", **extra)
    return env


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but the manifest (its process count and time differ by design)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


def _predict(images: Path, ckpt: Path, out: Path, *extra: str) -> list[str]:
    return ["predict", str(images), "--weights", str(ckpt), "--out", str(out), "--stride", "all",
            "--no-progress", "--workers", "1", "--device", "cpu", *extra]


def test_two_gloo_processes_write_what_one_process_writes(tmp_path, inputs, capsys):
    images, ckpt = inputs
    assert main(_predict(images, ckpt, tmp_path / "one", "--resume")) == 0
    one = _files(tmp_path / "one")
    assert sorted(one) == sorted([f"{s}s/{stem}.png" for s in (32, 16, 8) for stem in STEMS]
                                 + [f"{RECORDS_DIR}/{stem}.json" for stem in STEMS])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_port", str(_free_port()), "-m", "fcn_core",
           *_predict(images, ckpt, tmp_path / "two")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert _files(tmp_path / "two") == one  # byte for byte: labels and per-image records
    manifest = json.loads((tmp_path / "two" / MANIFEST).read_text())
    assert manifest["processes"] == 2 and manifest["images"] == 6 and manifest["written"] == 6
    assert manifest["failed"] == 0 and manifest["skipped_already_done"] == 0
    assert manifest["precision"] == "fp32" and manifest["strides"] == [32, 16, 8]
    assert manifest["model"]["arch"] == "fcn-multi" and len(manifest["model"]["sha256"]) == 64
    # The store opens as predictions: `fcn evaluate --pred STORE` scores every stride folder.
    gt = tmp_path / "gt"
    gt.mkdir()
    for stem in STEMS:  # the 8s prediction as ground truth: 8s scores 1.0, the others less
        Image.open(tmp_path / "two" / "8s" / f"{stem}.png").save(gt / f"{stem}.png")
    capsys.readouterr()
    assert main(["evaluate", "--pred", str(tmp_path / "two"), "--gt", str(gt), "--num-classes", "21",
                 "--json", str(tmp_path / "r.json"), "--no-progress"]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report) == {"32s", "16s", "8s"}
    assert report["8s"]["pixel_acc"] == 1.0 and report["32s"]["pixel_acc"] < 1.0
    assert report["8s"]["images"] == 6


def test_killed_run_resumes_without_redoing_done_images(tmp_path, inputs):
    images, ckpt = inputs
    out = tmp_path / "store"
    cmd = [sys.executable, "-m", "fcn_core", *_predict(images, ckpt, out, "--resume", "--batch-size", "1")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path,
                          env=_env(**{EXIT_AFTER_ENV: "3"}))
    assert proc.returncode == 75, proc.stderr  # stopped abruptly after the third record
    records = sorted((out / RECORDS_DIR).glob("*.json"))
    assert len(records) == 3 and not (out / MANIFEST).exists()
    done = {p.stem for p in records}
    done_files = [out / RECORDS_DIR / f"{stem}.json" for stem in done]
    done_files += [out / f"{s}s" / f"{stem}.png" for stem in done for s in (32, 16, 8)]
    stamps = {p: p.stat().st_mtime_ns for p in done_files}

    assert main(_predict(images, ckpt, out, "--resume")) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["skipped_already_done"] == 3 and manifest["written"] == 3 and manifest["images"] == 6
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # done images untouched
    assert len(list((out / RECORDS_DIR).glob("*.json"))) == 6
    # The result is what an uninterrupted run writes.
    assert main(_predict(images, ckpt, tmp_path / "clean", "--resume")) == 0
    assert _files(out) == _files(tmp_path / "clean")
    # A second re-run has nothing to do.
    assert main(_predict(images, ckpt, out, "--resume")) == 0
    assert json.loads((out / MANIFEST).read_text())["skipped_already_done"] == 6


def test_other_model_content_or_stride_redoes_images(tmp_path, inputs):
    images, ckpt = inputs
    out = tmp_path / "store"
    assert main(_predict(images, ckpt, out, "--resume")) == 0
    before = (out / "8s" / "p0.png").read_bytes()
    # Same file name, other weights: the record's content hash no longer matches.
    other = tmp_path / "w"
    other.mkdir()
    retrained = tiny_checkpoint(other, "fcn-multi")
    from fcn_core.weights import load_model, save_checkpoint

    lm = load_model(retrained)
    for p in lm.model.parameters():
        p.data.mul_(-1.0)
    save_checkpoint(retrained, lm.model, arch=lm.arch, class_names=lm.class_names,
                    preprocessing=lm.preprocessing, options=lm.options)
    assert main(_predict(images, retrained, out, "--resume")) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["skipped_already_done"] == 0 and manifest["written"] == 6
    assert (out / "8s" / "p0.png").read_bytes() != before
    record = json.loads((out / RECORDS_DIR / "p0.json").read_text())
    from fcn_core.prediction_store import file_sha256

    assert record["model_sha256"] == file_sha256(retrained) != file_sha256(ckpt)
    # A source file replaced by another of a different size is redone too.
    copy = tmp_path / "images"
    copy.mkdir()
    for src in images.iterdir():
        (copy / src.name).write_bytes(src.read_bytes())
    assert main(_predict(copy, retrained, out, "--resume")) == 0
    assert json.loads((out / MANIFEST).read_text())["skipped_already_done"] == 6
    write_photo(copy / "p1.png", 48, 64, 99)
    assert main(_predict(copy, retrained, out, "--resume")) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["skipped_already_done"] == 5 and manifest["written"] == 1
    assert Image.open(out / "8s" / "p1.png").size == (64, 48)

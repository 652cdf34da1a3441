"""Tiny datasets in the exact layouts of other tools (names, bit depth, syntax), written by the tests."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.bad_inputs import photo

H, W = 12, 16


def labels(seed: int = 0, n: int = 3, void: bool = True) -> np.ndarray:
    """A small label map over ``n`` classes, with a void row when ``void``."""
    lab = np.random.default_rng(seed).integers(0, n, (H, W), dtype=np.uint8)
    if void:
        lab[0, :] = 255
    return lab


def save_rgb(path: Path, lab: np.ndarray, colours: dict[int, tuple[int, int, int]]) -> Path:
    """``lab`` painted as an RGB PNG, value v in ``colours[v]``."""
    rgb = np.zeros((*lab.shape, 3), np.uint8)
    for v, c in colours.items():
        rgb[lab == v] = c
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb, "RGB").save(path)
    return path


def save_photo(path: Path, seed: int = 0, h: int = H, w: int = W) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(h, w, seed)).save(path, quality=95)
    return path


CVAT_LABELMAP = """# label:color_rgb:parts:actions
background:0,0,0::
road:128,64,128::
car:128,0,0::
"""
CVAT_COLOURS = {0: (0, 0, 0), 1: (128, 64, 128), 2: (128, 0, 0)}


def make_cvat(root: Path, n: int = 2, labelmap: str = CVAT_LABELMAP, with_images: bool = True) -> Path:
    """A CVAT "Segmentation mask 1.1" export: labelmap.txt, RGB SegmentationClass/, SegmentationObject/,
    ImageSets/Segmentation/default.txt and (exported with images) JPEGImages/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "labelmap.txt").write_text(labelmap)
    for i in range(n):
        save_rgb(root / "SegmentationClass" / f"frame_{i:06d}.png", labels(i, void=False), CVAT_COLOURS)
        inst = (labels(i, void=False) > 0).astype(np.uint8)  # instance ids 1.. in VOC colours
        save_rgb(root / "SegmentationObject" / f"frame_{i:06d}.png", inst, {0: (0, 0, 0), 1: (128, 0, 0)})
        if with_images:
            save_photo(root / "JPEGImages" / f"frame_{i:06d}.jpg", i)
    seg = root / "ImageSets" / "Segmentation"
    seg.mkdir(parents=True, exist_ok=True)
    (seg / "default.txt").write_text("".join(f"frame_{i:06d}\n" for i in range(n)))
    return root


DATUMARO_META = {"label_map": {"0": "background", "1": "cat", "2": "dog"},
                 "segmentation_colors": [[0, 0, 0], [255, 0, 0], [0, 0, 255]], "background_label": "0"}
DATUMARO_COLOURS = {0: (0, 0, 0), 1: (255, 0, 0), 2: (0, 0, 255)}


def make_datumaro(root: Path, n: int = 2, meta: dict | None = None) -> Path:
    """Datumaro's common semantic segmentation layout: dataset_meta.json, images/, masks/ (colour PNGs)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_meta.json").write_text(json.dumps(DATUMARO_META if meta is None else meta))
    for i in range(n):
        save_photo(root / "images" / f"img{i}.jpg", i)
        save_rgb(root / "masks" / f"img{i}.png", labels(i, void=False), DATUMARO_COLOURS)
    return root


KAGGLE_CSV = "name,r,g,b\nSky,128,128,128\nBuilding,128,0,0\nRoad,128,64,128\n"
KAGGLE_COLOURS = {0: (128, 128, 128), 1: (128, 0, 0), 2: (128, 64, 128)}


def make_kaggle_camvid(root: Path) -> Path:
    """The Kaggle CamVid layout: class_dict.csv, train/ + train_labels/ (``<stem>_L.png``), val/ and
    val_labels/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "class_dict.csv").write_text(KAGGLE_CSV)
    for i, split in enumerate(("train", "train", "val")):
        stem = f"0001TP_00{i}"
        save_photo(root / split / f"{stem}.png", i)
        save_rgb(root / f"{split}_labels" / f"{stem}_L.png", labels(i, void=False), KAGGLE_COLOURS)
    return root


def png_b64(mask: np.ndarray) -> str:
    buf = io.BytesIO()
    # labelme saves utils.img_arr_to_b64(mask.astype(np.uint8)): a mode-L PNG of 0 and 1.
    Image.fromarray(mask.astype(np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()

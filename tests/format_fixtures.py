"""Tiny datasets in the exact layouts of the real releases (names, nesting, bit depth, sidecar syntax)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

W, H = 8, 6


def photo(path: Path, w: int = W, h: int = H) -> Path:
    """A small RGB photo (PNG or JPEG by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(path.name))
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def mask(path: Path, values: np.ndarray, mode: str = "L", palette: list[int] | None = None) -> Path:
    """A label PNG: mode L (8-bit), P (8-bit with palette), I;16 (16-bit) or RGB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(values)
    if mode == "I;16":
        img = Image.fromarray(arr.astype(np.uint16))
        assert img.mode.startswith("I;16")
    elif mode == "RGB":
        img = Image.fromarray(arr.astype(np.uint8), mode="RGB")
    else:
        img = Image.fromarray(arr.astype(np.uint8), mode="L")
        if mode == "P":
            img.putpalette(palette or [0] * 768)  # L with a palette becomes P, values unchanged
    img.save(path)
    return path


def grid(*values: int) -> np.ndarray:
    """An H x W map made of vertical bands of ``values``."""
    cols = np.array_split(np.arange(W), len(values))
    out = np.zeros((H, W), dtype=np.int64)
    for v, c in zip(values, cols, strict=True):
        out[:, c] = v
    return out


def cityscapes(root: Path) -> Path:
    """train/aachen: labelIds only, and one with labelTrainIds + labelIds; val/frankfurt: instanceIds (16-bit)
    only; test/berlin: an image without ground truth. Plus the color/polygons files the release has."""
    left, gt = root / "leftImg8bit", root / "gtFine"
    photo(left / "train/aachen/aachen_000000_000019_leftImg8bit.png")
    mask(gt / "train/aachen/aachen_000000_000019_gtFine_labelIds.png", grid(7, 26, 0, 4))
    mask(gt / "train/aachen/aachen_000000_000019_gtFine_color.png", np.zeros((H, W, 3)), "RGB")
    (gt / "train/aachen/aachen_000000_000019_gtFine_polygons.json").write_text(
        json.dumps({"imgHeight": H, "imgWidth": W, "objects": []}))
    photo(left / "train/aachen/aachen_000001_000019_leftImg8bit.png")
    mask(gt / "train/aachen/aachen_000001_000019_gtFine_labelTrainIds.png", grid(18, 255))
    mask(gt / "train/aachen/aachen_000001_000019_gtFine_labelIds.png", grid(7, 7))  # not used: train ids win
    photo(left / "val/frankfurt/frankfurt_000000_000294_leftImg8bit.png")
    instances = grid(26001, 24000, 7, 23)  # car #1, a person crowd (id*1000), road, sky
    mask(gt / "val/frankfurt/frankfurt_000000_000294_gtFine_instanceIds.png", instances, "I;16")
    photo(left / "test/berlin/berlin_000000_000019_leftImg8bit.png")
    return root


def kitti(root: Path) -> Path:
    """data_semantics: training/image_2 + training/semantic (label ids), testing/image_2 (same names)."""
    photo(root / "training/image_2/000000_10.png")
    mask(root / "training/semantic/000000_10.png", grid(7, 26, 23))
    mask(root / "training/semantic_rgb/000000_10.png", np.zeros((H, W, 3)), "RGB")
    photo(root / "training/image_2/000001_10.png")
    mask(root / "training/semantic/000001_10.png", grid(11, 3))
    photo(root / "testing/image_2/000000_10.png")
    return root


def ade_scene_parsing(parent: Path) -> Path:
    """ADEChallengeData2016 under ``parent`` (0 = other, k = class k-1)."""
    root = parent / "ADEChallengeData2016"
    photo(root / "images/training/ADE_train_00000001.jpg")
    mask(root / "annotations/training/ADE_train_00000001.png", grid(0, 1, 150))
    photo(root / "images/validation/ADE_val_00000001.jpg")
    mask(root / "annotations/validation/ADE_val_00000001.png", grid(3, 3))
    (root / "objectInfo150.txt").write_text("Idx\tRatio\tTrain\tVal\tName\n1\t0.1576\t11664\t1172\twall\n")
    return root


def ade_seg(ids: np.ndarray) -> np.ndarray:
    """The RGB of an ADE20K ``*_seg.png`` for object class ids (R/10*256 + G; B = instance)."""
    ids = np.asarray(ids)
    rgb = np.zeros(ids.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = (ids // 256) * 10
    rgb[..., 1] = ids % 256
    rgb[..., 2] = 7  # an instance number: must not change the class
    return rgb


def ade_full(root: Path, ids: tuple[int, ...] = (0, 2, 3)) -> Path:
    """ADE20K_2021_17_01 style: images/ADE/training/<scene>/ with _seg, _parts_1, .json, instance folder."""
    street = root / "images/ADE/training/urban/street"
    photo(street / "ADE_train_00016869.jpg")
    mask(street / "ADE_train_00016869_seg.png", ade_seg(grid(*ids)), "RGB")
    mask(street / "ADE_train_00016869_parts_1.png", np.zeros((H, W, 3)), "RGB")
    (street / "ADE_train_00016869.json").write_text(json.dumps({"annotation": {"object": []}}))
    mask(street / "ADE_train_00016869/instance_000_ADE_train_00016869.png", np.zeros((H, W)))
    photo(root / "images/ADE/validation/cultural/abbey/ADE_val_00000001.jpg")
    mask(root / "images/ADE/validation/cultural/abbey/ADE_val_00000001_seg.png", ade_seg(grid(0)), "RGB")
    return root


def mapillary(root: Path) -> Path:
    """v1.2: 3 labels with "unlabeled" last; v2.0: "void--unlabeled" in the middle. 8-bit palette labels."""
    v12 = {"labels": [
        {"color": [165, 42, 42], "instances": True, "readable": "Bird", "name": "animal--bird",
         "evaluate": True},
        {"color": [196, 196, 196], "instances": False, "readable": "Curb",
         "name": "construction--barrier--curb", "evaluate": True},
        {"color": [0, 0, 0], "instances": False, "readable": "Unlabeled", "name": "void--unlabeled",
         "evaluate": False},
    ]}
    v20 = {"labels": [
        {"color": [165, 42, 42], "instances": True, "readable": "Bird", "name": "animal--bird",
         "evaluate": True},
        {"color": [0, 0, 0], "instances": False, "readable": "Unlabeled", "name": "void--unlabeled",
         "evaluate": False},
        {"color": [128, 64, 128], "instances": False, "readable": "Road", "name": "construction--flat--road",
         "evaluate": True},
    ]}
    (root).mkdir(parents=True, exist_ok=True)
    (root / "config_v1.2.json").write_text(json.dumps(v12, indent=4))
    (root / "config_v2.0.json").write_text(json.dumps(v20, indent=4))
    pal = [165, 42, 42, 196, 196, 196, 0, 0, 0] + [0] * (768 - 9)
    photo(root / "training/images/-4lzPHsV9wYOb5OrzTfZ7Q.jpg")
    mask(root / "training/v1.2/labels/-4lzPHsV9wYOb5OrzTfZ7Q.png", grid(0, 1, 2), "P", pal)
    mask(root / "training/v2.0/labels/-4lzPHsV9wYOb5OrzTfZ7Q.png", grid(0, 1, 2), "P", pal)
    photo(root / "validation/images/0aSpw4ucwpdd9ZxZ_2qLOA.jpg")
    mask(root / "validation/v1.2/labels/0aSpw4ucwpdd9ZxZ_2qLOA.png", grid(1), "P", pal)
    mask(root / "validation/v2.0/labels/0aSpw4ucwpdd9ZxZ_2qLOA.png", grid(2), "P", pal)
    photo(root / "testing/images/__0k_9KYddCC9qLz1kSrXQ.jpg")
    return root


def camvid_segnet(root: Path, with_lists: bool = True) -> Path:
    """SegNet's CamVid: train/ trainannot/ val/ valannot/ test/ testannot/ and train.txt lists."""
    for split, names in (("train", ["0001TP_006690", "0006R0_f02910"]), ("val", ["0016E5_07959"]),
                         ("test", ["0001TP_008550"])):
        for i, stem in enumerate(names):
            photo(root / split / f"{stem}.png")
            mask(root / f"{split}annot" / f"{stem}.png", grid(i, 11, 3))
        if with_lists:
            lines = [f"/SegNet/CamVid/{split}/{s}.png /SegNet/CamVid/{split}annot/{s}.png\n" for s in names]
            (root / f"{split}.txt").write_text("".join(reversed(lines)))
    return root


def camvid32(root: Path) -> Path:
    """The original release: 701_StillsRaw_full/ + LabeledApproved_full/*_L.png + label_colors.txt."""
    from fcn_core.data.formats.camvid import CAMVID32

    (root / "label_colors.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "label_colors.txt").write_text("".join(f"{r} {g} {b}\t{n}\n" for n, (r, g, b) in CAMVID32))
    photo(root / "701_StillsRaw_full/0001TP_006690.png")
    rgb = np.zeros((H, W, 3), dtype=np.uint8)
    rgb[:, :3] = (64, 128, 64)  # Animal
    rgb[:, 3:5] = (0, 0, 0)  # Void
    rgb[:, 5:] = (64, 192, 0)  # Wall
    mask(root / "LabeledApproved_full/0001TP_006690_L.png", rgb, "RGB")
    return root

"""Tiny datasets in the exact layouts of the real releases and of other tools (names, nesting, bit depth,
sidecar syntax), written by the tests."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.bad_inputs import photo as photo_array

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


# -- sidecar formats (CVAT, Datumaro, Kaggle), SBD and labelme ---------------------------------------------
SIDECAR_H, SIDECAR_W = 12, 16  # the sidecar fixtures' size

def labels(seed: int = 0, n: int = 3, void: bool = True) -> np.ndarray:
    """A small label map over ``n`` classes, with a void row when ``void``."""
    lab = np.random.default_rng(seed).integers(0, n, (SIDECAR_H, SIDECAR_W), dtype=np.uint8)
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


def save_photo(path: Path, seed: int = 0, h: int = SIDECAR_H, w: int = SIDECAR_W) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo_array(h, w, seed)).save(path, quality=95)
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

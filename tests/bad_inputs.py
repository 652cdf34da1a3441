"""A corpus of bad (and awkward-but-valid) inputs, written into a temporary folder by the tests.

``build_case(name, root)`` writes one case under ``root`` and returns a :class:`BadCase`: calling ``load()``
must raise DataError whose message names ``path`` and contains ``problem``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from fcn_core.data import DataError, open_dataset, read_image, read_label
from fcn_core.data.labelme import rasterize_labelme
from fcn_core.data.palette import VOC_CLASSES, voc_palette
from fcn_core.evaluation import evaluate_folders

H, W = 12, 16


@dataclass
class BadCase:
    name: str
    path: Path  # the file or folder the message must name
    problem: str  # a phrase the message must contain
    load: Callable[[], object]


def photo(h: int = H, w: int = W, seed: int = 0) -> np.ndarray:
    """A small deterministic RGB photo."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def label_map(h: int = H, w: int = W, seed: int = 0, n: int = 21) -> np.ndarray:
    """A small label map with a void border."""
    lab = np.random.default_rng(seed).integers(0, n, (h, w), dtype=np.uint8)
    lab[0, :] = 255
    return lab


def save_png(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(arr) if mode is None else Image.fromarray(arr, mode=mode)
    if img.mode == "P":
        img.putpalette(voc_palette().ravel().tolist())
    img.save(path)
    return path


def make_voc(root: Path, n: int = 3, h: int = H, w: int = W) -> Path:
    """A tiny valid VOC-layout dataset (JPEG photos, palette labels, train/val split, class names)."""
    for i in range(n):
        (root / "JPEGImages").mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(h, w, i)).save(root / "JPEGImages" / f"img{i}.jpg", quality=95)
        save_png(root / "SegmentationClass" / f"img{i}.png", label_map(h, w, i), "P")
    seg = root / "ImageSets" / "Segmentation"
    seg.mkdir(parents=True, exist_ok=True)
    (seg / "train.txt").write_text("".join(f"img{i}\n" for i in range(n - 1)))
    (seg / "val.txt").write_text(f"img{n - 1}\n")
    (root / "class_names.txt").write_text("\n".join(VOC_CLASSES) + "\n")
    return root


def labelme_folder(folder, stems=("b", "c"), broken="a"):
    """labelme files as labelme writes them (photo beside the JSON) and one truncated JSON sorting first."""
    folder.mkdir(parents=True)
    for i, stem in enumerate((broken, *stems)):
        Image.fromarray(photo(seed=i)).save(folder / f"{stem}.jpg", quality=95)
    for stem in stems:
        shapes = [{"label": "cat", "points": [[1, 1], [10, 1], [10, 8]], "shape_type": "polygon",
                   "group_id": None, "flags": {}}]
        (folder / f"{stem}.json").write_text(json.dumps({
            "version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": f"{stem}.jpg", "imageData": None,
            "imageHeight": H, "imageWidth": W}, indent=2))
    good = (folder / f"{stems[0]}.json").read_text()
    (folder / f"{broken}.json").write_text(good[: len(good) // 2])  # cut off mid-write
    return folder / f"{broken}.json"


def _png_bytes(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    (Image.fromarray(arr) if mode is None else Image.fromarray(arr, mode=mode)).save(buf, format="PNG")
    return buf.getvalue()


def _jpeg_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _label_case(root: Path, name: str, data: bytes, problem: str, **kw) -> BadCase:
    p = root / f"{name}.png"
    p.write_bytes(data)
    return BadCase(name, p, problem, lambda: read_label(p, **kw))


def _case_truncated_png(root: Path) -> BadCase:
    data = _png_bytes(label_map(64, 64), "L")
    return _label_case(root, "truncated_png", data[: len(data) // 2], "truncated")


def _case_truncated_jpeg(root: Path) -> BadCase:
    p = root / "truncated.jpg"
    data = _jpeg_bytes(photo(64, 64))
    p.write_bytes(data[: len(data) // 2])
    return BadCase("truncated_jpeg", p, "truncated", lambda: read_image(p))


def _case_zero_byte(root: Path) -> BadCase:
    p = root / "empty.jpg"
    p.write_bytes(b"")
    return BadCase("zero_byte", p, "empty", lambda: read_image(p))


def _case_size_mismatch(root: Path) -> BadCase:
    ds = make_voc(root / "mismatch")
    lbl = root / "mismatch" / "SegmentationClass" / "img1.png"
    save_png(lbl, label_map(H + 1, W), "P")
    return BadCase("size_mismatch", lbl, "but its image", lambda: open_dataset(ds).label("img1"))


def _case_label_16bit(root: Path) -> BadCase:
    p = root / "label16.png"
    Image.fromarray(np.full((H, W), 300, dtype=np.uint16)).save(p)
    return BadCase("label_16bit", p, "16/32-bit", lambda: read_label(p))


def _case_rgb_unknown_colour(root: Path) -> BadCase:
    rgb = voc_palette()[label_map()].copy()
    rgb[3, 4] = (1, 2, 3)
    return _label_case(root, "rgb_unknown", _png_bytes(rgb), "(1,2,3)", num_classes=21)


def _case_value_out_of_range(root: Path) -> BadCase:
    lab = label_map()
    lab[2, 2] = 30
    return _label_case(root, "value_30", _png_bytes(lab, "L"), "[30]", num_classes=21)


def _case_missing_split(root: Path) -> BadCase:
    ds = make_voc(root / "nosplit")
    return BadCase("missing_split", ds / "ImageSets" / "Segmentation" / "test.txt", "split 'test' not found",
                   lambda: open_dataset(ds).split("test"))


def _case_split_lists_unknown(root: Path) -> BadCase:
    ds = make_voc(root / "badsplit")
    split = ds / "ImageSets" / "Segmentation" / "val.txt"
    split.write_text("img2\nghost_image\n")
    return BadCase("split_unknown_stem", split, "ghost_image", lambda: open_dataset(ds))


def _case_empty_folder(root: Path) -> BadCase:
    p = root / "empty_folder"
    p.mkdir()
    return BadCase("empty_folder", p, "no images found", lambda: open_dataset(p))


def _case_duplicate_stems(root: Path) -> BadCase:
    p = root / "dups"
    p.mkdir()
    Image.fromarray(photo()).save(p / "a.jpg")
    Image.fromarray(photo()).save(p / "a.png")
    return BadCase("duplicate_stems", p / "a.png", "duplicate stem", lambda: open_dataset(p))


def _case_non_image(root: Path) -> BadCase:
    p = root / "notes.jpg"
    p.write_text("this is not a photo\n")
    return BadCase("non_image_file", p, "not an image", lambda: read_image(p))


def _case_missing_file(root: Path) -> BadCase:
    p = root / "gone.png"
    return BadCase("missing_file", p, "not found", lambda: read_label(p))


def _case_labelme_unknown_class(root: Path) -> BadCase:
    p = root / "lm.json"
    shapes = [{"label": "unicorn", "points": [[1, 1], [8, 1], [8, 8]], "shape_type": "polygon"}]
    p.write_text(json.dumps({"shapes": shapes, "imageHeight": H, "imageWidth": W, "imagePath": None}))
    return BadCase("labelme_unknown_class", p, "'unicorn'",
                   lambda: rasterize_labelme(p, list(VOC_CLASSES), with_image=False))


def _case_labelme_bad_json(root: Path) -> BadCase:
    p = root / "broken.json"
    p.write_text('{"shapes": [')
    return BadCase("labelme_bad_json", p, "not valid labelme JSON",
                   lambda: rasterize_labelme(p, list(VOC_CLASSES), with_image=False))


def _case_labelme_shape_without_points(root: Path) -> BadCase:
    p = root / "nopoints.json"
    shapes = [{"label": "cat", "points": [], "shape_type": "point"}]
    p.write_text(json.dumps({"shapes": shapes, "imageHeight": H, "imageWidth": W, "imagePath": None}))
    return BadCase("labelme_shape_without_points", p, "point shape has no points",
                   lambda: rasterize_labelme(p, list(VOC_CLASSES), with_image=False))


def _case_bad_descriptor(root: Path) -> BadCase:
    ds = make_voc(root / "baddesc")
    (ds / "dataset.json").write_text('{"label_format": "jpeg-art"}')
    return BadCase("bad_descriptor", ds / "dataset.json", "label_format", lambda: open_dataset(ds))


def _case_eval_missing_pred(root: Path) -> BadCase:
    gt, pred = root / "gt", root / "pred"
    for i in range(3):
        save_png(gt / f"s{i}.png", label_map(seed=i), "P")
    for i in range(2):
        save_png(pred / f"s{i}.png", label_map(seed=i + 7) % 21, "P")
    return BadCase("eval_missing_prediction", gt, "s2", lambda: evaluate_folders(pred, gt, num_classes=21))


def _first_failure(report: dict) -> None:
    """Raise the first image a batch job listed under ``failed`` (it goes on with the others)."""
    first = report["failed"][0]
    raise DataError(first["file"], first["error"])


def _case_eval_size_mismatch(root: Path) -> BadCase:
    gt, pred = root / "gt2", root / "pred2"
    save_png(gt / "s0.png", label_map(), "P")
    save_png(pred / "s0.png", label_map(H, W + 2) % 21, "P")
    return BadCase("eval_size_mismatch", pred / "s0.png", "but ground truth",
                   lambda: _first_failure(evaluate_folders(pred, gt, num_classes=21)))


CASES: dict[str, Callable[[Path], BadCase]] = {
    fn.__name__.removeprefix("_case_"): fn
    for fn in (
        _case_truncated_png, _case_truncated_jpeg, _case_zero_byte, _case_size_mismatch, _case_label_16bit,
        _case_rgb_unknown_colour, _case_value_out_of_range, _case_missing_split, _case_split_lists_unknown,
        _case_empty_folder, _case_duplicate_stems, _case_non_image, _case_missing_file,
        _case_labelme_unknown_class, _case_labelme_bad_json, _case_labelme_shape_without_points,
        _case_bad_descriptor, _case_eval_missing_pred,
        _case_eval_size_mismatch,
    )
}


def build_case(name: str, root: Path) -> BadCase:
    """Write case ``name`` under ``root``."""
    return CASES[name](root)

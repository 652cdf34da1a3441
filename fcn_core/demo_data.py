"""Procedurally drawn street scenes in VOC layout: the demo dataset the bundled model is trained on.

Every image is drawn from its own random generator seeded by ``(seed, index)``, so the same seed gives the
same bytes whatever the count, order or machine (numpy + OpenCV drawing only). Thin structures (poles a few
pixels wide, wires 2–3 px) are what a stride-32 prediction cannot resolve and stride 8 can.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from fcn_core.data.atomic import default_mode
from fcn_core.data.labels import encode_palette_png

DEMO_CLASSES: tuple[str, ...] = ("sky", "road", "building", "tree", "car", "person", "pole", "wire")
#: Palette of the demo classes (index -> RGB); chosen to read well as an overlay.
DEMO_COLORS: tuple[tuple[int, int, int], ...] = (
    (70, 130, 180),  # sky
    (128, 64, 128),  # road
    (180, 120, 60),  # building
    (40, 160, 40),  # tree
    (220, 20, 60),  # car
    (255, 200, 0),  # person
    (200, 200, 200),  # pole
    (0, 230, 230),  # wire
)
SKY, ROAD, BUILDING, TREE, CAR, PERSON, POLE, WIRE = range(len(DEMO_CLASSES))
DEFAULT_SIZE = (320, 240)  # width, height
VAL_EVERY = 5  # every 5th image goes to val -> 80 / 20 split


def demo_palette() -> np.ndarray:
    """The 256-entry uint8 palette of the demo dataset (demo colours first, VOC colours for the rest)."""
    from fcn_core.data.palette import full_palette

    return full_palette(np.array(DEMO_COLORS, dtype=np.uint8))


def _noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Smooth value noise in [-1, 1]: a coarse random grid upsampled bicubically."""
    gh, gw = max(2, h // scale + 2), max(2, w // scale + 2)
    grid = rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), -1.0, 1.0)


def _jitter(rng: np.random.Generator, color: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    c = np.clip(np.array(color) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return int(c[0]), int(c[1]), int(c[2])


def _bbox(mask: np.ndarray) -> tuple[slice, slice] | None:
    ys, xs = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    if len(ys) == 0:
        return None
    return slice(ys[0], ys[-1] + 1), slice(xs[0], xs[-1] + 1)


def _paint(
    rng: np.random.Generator,
    img: np.ndarray,
    lab: np.ndarray,
    mask: np.ndarray,
    color: tuple[int, int, int],
    amp: float,
    scale: int,
    cls: int,
    extra: tuple[np.ndarray, tuple[int, int, int]] | None = None,
) -> None:
    """Fill ``mask`` with a noise texture of ``color``, label it ``cls``; works inside its bounding box only.

    ``extra`` = (sub-mask, colour): part of the object painted flat in another colour (e.g. a tree trunk).
    """
    box = _bbox(mask)
    if box is None:
        return
    m = mask[box]
    tex = _textured(rng, m.shape[0], m.shape[1], color, amp, scale)
    if extra is not None:
        tex[extra[0][box]] = np.array(extra[1], np.float32)
    img[box][m] = tex[m]
    lab[box][m] = cls


def _textured(
    rng: np.random.Generator, h: int, w: int, color: tuple[int, int, int], amp: float, scale: int
) -> np.ndarray:
    """A flat colour modulated by smooth noise plus fine grain (float32 RGB)."""
    base = np.array(color, dtype=np.float32)[None, None, :]
    smooth = _noise(rng, h, w, scale)[..., None] * amp
    grain = rng.normal(0.0, amp * 0.25, (h, w, 1)).astype(np.float32)
    return base + smooth + grain


def _draw_buildings(rng, img, lab, horizon):
    h, w = lab.shape
    x = int(rng.integers(-20, 10))
    while x < w:
        bw = int(rng.integers(w // 10, w // 4))
        top = int(rng.integers(h // 10, max(h // 10 + 1, horizon - h // 8)))
        if rng.random() < 0.8:
            color = _jitter(rng, ((170, 110, 70), (150, 140, 130), (190, 170, 140))[int(rng.integers(3))], 20)
            mask = np.zeros((h, w), bool)
            mask[top : horizon + 2, max(0, x) : min(w, x + bw)] = True
            _paint(rng, img, lab, mask, color, 18.0, 12, BUILDING)
            # Windows: dark rectangles that stay "building" (texture, not a class).
            win = _jitter(rng, (50, 60, 80), 15)
            step_x, step_y = int(rng.integers(8, 14)), int(rng.integers(10, 16))
            for wy in range(top + 4, horizon - 6, step_y):
                for wx in range(max(0, x) + 3, min(w, x + bw) - 5, step_x):
                    cv2.rectangle(img, (wx, wy), (wx + step_x // 2, wy + step_y // 2), win, -1)
        x += bw + int(rng.integers(0, w // 8))


def _draw_tree(rng, img, lab, cx, base):
    h, w = lab.shape
    trunk_w, trunk_h = int(rng.integers(4, 8)), int(rng.integers(h // 12, h // 6))
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (cx - trunk_w // 2, base - trunk_h), (cx + trunk_w // 2, base), 1, -1)
    crown_r = int(rng.integers(h // 12, h // 6))
    for _ in range(int(rng.integers(3, 7))):
        ox, oy = rng.integers(-crown_r, crown_r + 1), rng.integers(-crown_r, crown_r // 2 + 1)
        cv2.circle(
            mask,
            (int(cx + ox), int(base - trunk_h - crown_r // 2 + oy)),
            int(crown_r * rng.uniform(0.6, 1.0)),
            1,
            -1,
        )
    trunk = np.zeros((h, w), np.uint8)
    cv2.rectangle(trunk, (cx - trunk_w // 2, base - trunk_h), (cx + trunk_w // 2, base), 1, -1)
    _paint(
        rng,
        img,
        lab,
        mask.astype(bool),
        _jitter(rng, (40, 120, 35), 20),
        35.0,
        4,
        TREE,
        extra=(trunk.astype(bool), _jitter(rng, (90, 60, 30), 10)),
    )


def _draw_car(rng, img, lab, x, base):
    h, w = lab.shape
    cw = int(rng.integers(w // 8, w // 4))
    ch = int(cw * rng.uniform(0.35, 0.5))
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (x, base - ch), (x + cw, base - ch // 4), 1, -1)
    cv2.rectangle(mask, (x + cw // 5, base - ch - ch // 2), (x + cw * 4 // 5, base - ch), 1, -1)
    wheel_r = max(3, ch // 4)
    for wx in (x + cw // 5, x + cw * 4 // 5):
        cv2.circle(mask, (wx, base - wheel_r), wheel_r, 1, -1)
    body = _jitter(
        rng, ((200, 30, 30), (30, 60, 200), (230, 200, 30), (240, 240, 240))[int(rng.integers(4))], 25
    )
    _paint(rng, img, lab, mask.astype(bool), body, 10.0, 20, CAR)
    glass = _jitter(rng, (120, 170, 200), 15)
    cv2.rectangle(
        img, (x + cw // 5 + 3, base - ch - ch // 2 + 3), (x + cw * 4 // 5 - 3, base - ch - 1), glass, -1
    )
    for wx in (x + cw // 5, x + cw * 4 // 5):
        cv2.circle(img, (wx, base - wheel_r), wheel_r, (20, 20, 20), -1)


def _draw_person(rng, img, lab, x, base):
    h, w = lab.shape
    ph = int(rng.integers(h // 8, h // 4))
    mask = np.zeros((h, w), np.uint8)
    head = max(2, ph // 8)
    body_w = max(3, ph // 5)
    cv2.circle(mask, (x, base - ph + head), head, 1, -1)
    cv2.rectangle(mask, (x - body_w // 2, base - ph + 2 * head), (x + body_w // 2, base - ph // 2), 1, -1)
    leg = max(1, body_w // 3)
    cv2.rectangle(mask, (x - body_w // 2, base - ph // 2), (x - body_w // 2 + leg, base), 1, -1)
    cv2.rectangle(mask, (x + body_w // 2 - leg, base - ph // 2), (x + body_w // 2, base), 1, -1)
    m = mask.astype(bool)
    shirt = _jitter(rng, ((250, 120, 0), (240, 60, 160), (255, 230, 60))[int(rng.integers(3))], 15)
    _paint(rng, img, lab, m, shirt, 12.0, 6, PERSON)
    face, legs = m.copy(), m.copy()
    face[base - ph + 2 * head :] = False
    legs[: base - ph // 2] = False
    img[face] = np.array(_jitter(rng, (230, 180, 140), 15), np.float32)
    img[legs] = np.array(_jitter(rng, (40, 40, 110), 15), np.float32)


def make_demo_sample(
    index: int, seed: int = 0, size: tuple[int, int] = DEFAULT_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Draw scene ``index`` with ``seed``: returns (RGB uint8 (H, W, 3), labels uint8 (H, W))."""
    w, h = size
    rng = np.random.default_rng([int(seed), int(index)])
    img = np.zeros((h, w, 3), np.float32)
    lab = np.zeros((h, w), np.uint8)
    horizon = int(h * rng.uniform(0.45, 0.65))
    # Sky: vertical gradient plus soft clouds.
    top, bottom = (
        np.array(_jitter(rng, (90, 140, 210), 20), np.float32),
        np.array((190, 215, 240), np.float32),
    )
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img[:] = top * (1 - t) + bottom * t
    img += np.clip(_noise(rng, h, w, 40), 0, 1)[..., None] * 60.0
    # Road / ground below the horizon, with lane dashes as texture.
    img[horizon:] = _textured(rng, h - horizon, w, _jitter(rng, (100, 100, 105), 15), 14.0, 8)
    lab[horizon:] = ROAD
    for x in range(int(rng.integers(0, 40)), w, 60):
        y = horizon + (h - horizon) // 2
        cv2.rectangle(img, (x, y), (x + 25, y + 3), (235, 235, 225), -1)
    _draw_buildings(rng, img, lab, horizon)
    for _ in range(int(rng.integers(1, 4))):
        _draw_tree(rng, img, lab, int(rng.integers(0, w)), horizon + int(rng.integers(0, 8)))
    # Poles and the wires strung between them (and off the image edges).
    pole_xs = sorted(int(v) for v in rng.integers(8, w - 8, int(rng.integers(1, 4))))
    tops = []
    for px in pole_xs:
        pw = int(rng.integers(4, 9))
        ptop = int(rng.integers(h // 12, h // 4))
        base = horizon + int(rng.integers(4, max(5, (h - horizon) // 2)))
        mask = np.zeros((h, w), np.uint8)
        cv2.rectangle(mask, (px - pw // 2, ptop), (px - pw // 2 + pw - 1, base), 1, -1)
        _paint(rng, img, lab, mask.astype(bool), _jitter(rng, (60, 60, 65), 10), 6.0, 10, POLE)
        tops.append((px, ptop + 3))
    anchors = (
        [(-10, tops[0][1] + int(rng.integers(-10, 10)))]
        + tops
        + [(w + 10, tops[-1][1] + int(rng.integers(-10, 10)))]
    )
    for (x0, y0), (x1, y1) in zip(anchors[:-1], anchors[1:]):
        for k in range(int(rng.integers(1, 3))):
            sag = int(rng.integers(6, 25))
            xs = np.linspace(x0, x1, 40)
            ys = (
                np.linspace(y0, y1, 40)
                + k * 6
                + sag * (1 - ((xs - (x0 + x1) / 2) / max(1, (x1 - x0) / 2)) ** 2)
            )
            pts = np.stack([xs, ys], 1).round().astype(np.int32)
            thick = int(rng.integers(2, 5))
            mask = np.zeros((h, w), np.uint8)
            cv2.polylines(mask, [pts], False, 1, thick)
            m = mask.astype(bool) & (lab != POLE)
            img[m] = np.array(_jitter(rng, (25, 25, 30), 8), np.float32)
            lab[m] = WIRE
    # Cars and people on the road, far ones first so near ones occlude them.
    things = [
        (int(rng.integers(horizon + 6, h)), kind) for kind in rng.integers(0, 2, int(rng.integers(1, 6)))
    ]
    for base, kind in sorted(things):
        x = int(rng.integers(0, w - 20))
        (_draw_car if kind == 0 else _draw_person)(rng, img, lab, x, base)
    # Clutter that is not a class of its own: small dark speckles on the road and blotches of light.
    for _ in range(int(rng.integers(5, 20))):
        cx, cy = int(rng.integers(0, w)), int(rng.integers(horizon, h))
        if lab[min(cy, h - 1), cx] == ROAD:
            cv2.circle(img, (cx, cy), int(rng.integers(1, 3)), _jitter(rng, (70, 70, 70), 15), -1)
    img *= 1.0 + 0.25 * _noise(rng, h, w, 80)[..., None]  # uneven lighting
    img += rng.normal(0.0, 4.0, img.shape).astype(np.float32)  # sensor noise
    return np.clip(img, 0, 255).astype(np.uint8), lab


GEOMETRIC_CLASSES: tuple[str, ...] = ("sky", "horizontal", "vertical")  # SIFT Flow's geometric classes
DEPTH_DIR, GEO_DIR = "Depth", "GeoLabels"  # sidecar folders next to JPEGImages/ (see make_demo_dataset)


def demo_depth_and_geometry(labels: np.ndarray, index: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Depth (uint16 millimetres, like NYUDv2's depth PNGs) and geometric labels for a demo scene's labels.

    Ground-plane geometry: a road row y below the horizon is ``1500 * (H - horizon) / (y - horizon + 1)`` mm
    away; an upright thing (building, tree, car, person, pole, wire) is as far as the road just below it;
    sky is 30 m. Geometric labels: sky 0, road 1 (horizontal), everything else 2 (vertical).
    """
    h, w = labels.shape
    road = labels == ROAD
    rows = np.nonzero(road.any(1))[0]
    horizon = int(rows[0]) if len(rows) else h
    ys = np.arange(h)[:, None].astype(np.float64)
    near = 1500.0 * max(1, h - horizon)
    ground = np.where(ys >= horizon, near / np.maximum(ys - horizon + 1.0, 1.0), 30000.0)
    ground = np.minimum(np.broadcast_to(ground, (h, w)), 30000.0)
    # For every pixel, the nearest road row at or below it in its column (h: none).
    below = np.where(road, np.arange(h)[:, None], h)
    nearest = np.minimum.accumulate(below[::-1], axis=0)[::-1]
    support = np.where(nearest < h, ground[np.minimum(nearest, h - 1), np.arange(w)[None, :]], near)
    depth = np.where(labels == SKY, 30000.0, np.where(road, ground, support))
    rng = np.random.default_rng([int(seed), int(index), 7])
    depth = depth * (1.0 + rng.normal(0.0, 0.01, depth.shape))  # sensor noise, 1 %
    geo = np.full((h, w), 2, np.uint8)
    geo[labels == SKY] = 0
    geo[road] = 1
    return np.clip(depth, 1, 65535).astype(np.uint16), geo


def make_demo_dataset(
    out: str | os.PathLike[str],
    count: int = 250,
    seed: int = 0,
    size: tuple[int, int] = DEFAULT_SIZE,
    overwrite: bool = False,
    *,
    depth: bool = False,
    geometric: bool = False,
) -> Path:
    """Write the demo dataset (VOC layout) to ``out`` and return it.

    Layout: ``JPEGImages/demo_00000.jpg``, ``SegmentationClass/demo_00000.png`` (palette PNG),
    ``ImageSets/Segmentation/{train,val,trainval}.txt`` (every 5th image is val), ``class_names.txt`` and
    ``dataset.json``. Built in a temporary folder next to ``out`` and renamed into place, so a half-written
    dataset is never seen. An existing ``out`` is an error unless ``overwrite``.

    ``depth``: also ``Depth/demo_00000.png`` (16-bit, millimetres); ``geometric``: also
    ``GeoLabels/demo_00000.png`` (8-bit index: sky 0, horizontal 1, vertical 2); both are named in
    ``dataset.json`` (``"depth"``, ``"geometric"``). Without them the files are byte for byte as before.
    """
    out = Path(out)
    if count < 2:
        raise ValueError(f"demo dataset {out}: count must be at least 2 (one train, one val), got {count}")
    if out.exists() and not overwrite:
        if any(out.iterdir()):
            raise FileExistsError(f"demo dataset {out}: folder exists and is not empty (use overwrite)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, default_mode(folder=True))  # mkdtemp makes 0700; a dataset is for everyone
    try:
        (tmp / "JPEGImages").mkdir()
        (tmp / "SegmentationClass").mkdir()
        (tmp / "ImageSets" / "Segmentation").mkdir(parents=True)
        palette = demo_palette()
        stems = [f"demo_{i:05d}" for i in range(count)]
        for i, stem in enumerate(stems):
            img, lab = make_demo_sample(i, seed, size)
            ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
            if not ok:
                raise OSError(f"demo dataset {out}: could not encode {stem}.jpg")
            (tmp / "JPEGImages" / f"{stem}.jpg").write_bytes(buf.tobytes())
            (tmp / "SegmentationClass" / f"{stem}.png").write_bytes(encode_palette_png(lab, palette))
            if depth or geometric:
                _write_sidecars(tmp, stem, lab, i, seed, depth=depth, geometric=geometric)
        val = [s for i, s in enumerate(stems) if i % VAL_EVERY == VAL_EVERY - 1]
        train = [s for i, s in enumerate(stems) if i % VAL_EVERY != VAL_EVERY - 1]
        sets = tmp / "ImageSets" / "Segmentation"
        for name, items in (("train", train), ("val", val), ("trainval", stems)):
            (sets / f"{name}.txt").write_text("".join(f"{s}\n" for s in items))
        (tmp / "class_names.txt").write_text("".join(f"{c}\n" for c in DEMO_CLASSES))
        descriptor = {
            "name": "fcn-studio demo scenes",
            "class_names": list(DEMO_CLASSES),
            "palette": [list(c) for c in DEMO_COLORS],
            "void_value": 255,
            "label_format": "palette",
            "generator": {"seed": int(seed), "count": int(count), "size": [int(size[0]), int(size[1])]},
        }
        if depth:
            descriptor["depth"] = {"folder": DEPTH_DIR, "unit": "mm"}
        if geometric:
            descriptor["geometric"] = {
                "folder": GEO_DIR, "class_names": list(GEOMETRIC_CLASSES), "void_value": 255,
            }
        (tmp / "dataset.json").write_text(json.dumps(descriptor, indent=2) + "\n")
        old = None
        if overwrite and out.exists():
            # Move the old dataset aside first and delete it only once the new one is in place.
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / out.name)
        try:
            os.replace(tmp, out)  # replaces an empty folder; fails if another process finished first
        except OSError as exc:
            if old is not None:
                os.replace(old / out.name, out)
                shutil.rmtree(old, ignore_errors=True)
            raise FileExistsError(f"demo dataset {out}: folder appeared while writing ({exc})") from exc
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_sidecars(root: Path, stem: str, labels: np.ndarray, index: int, seed: int, *, depth: bool,
                    geometric: bool) -> None:
    d, geo = demo_depth_and_geometry(labels, index, seed)
    for flag, folder, array in ((depth, DEPTH_DIR, d), (geometric, GEO_DIR, geo)):
        if flag:
            (root / folder).mkdir(exist_ok=True)
            ok, buf = cv2.imencode(".png", array)
            if not ok:
                raise OSError(f"demo dataset: could not encode {folder}/{stem}.png")
            (root / folder / f"{stem}.png").write_bytes(buf.tobytes())

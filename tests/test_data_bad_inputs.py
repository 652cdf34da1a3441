"""Every kind of bad input gives a DataError naming the file and the problem; nothing saved is lost."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fcn_core.data import DataError, open_dataset, read_image, read_label, write_palette_png
from fcn_core.data import atomic as atomic_mod
from tests.bad_inputs import CASES, build_case, label_map, make_voc, photo


def test_corpus_has_at_least_15_kinds():
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_names_file_and_problem(name, tmp_path):
    case = build_case(name, tmp_path)
    with pytest.raises(DataError) as info:
        case.load()
    message = str(info.value)
    assert str(case.path) in message, message
    assert case.problem in message, message


def test_permission_denied_is_named(tmp_path, monkeypatch):
    # Tests run as root, where chmod 000 does not stop reads: make open() refuse this one file instead.
    p = tmp_path / "locked.jpg"
    Image.fromarray(photo()).save(p)
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(p):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    with pytest.raises(DataError, match="permission denied") as info:
        read_image(p)
    assert str(p) in str(info.value)


def test_gray_rgba_cmyk_palette_images_load_as_rgb(tmp_path):
    rgb = photo(8, 10)
    gray = rgb[:, :, 0]
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    out = read_image(tmp_path / "gray.png")
    assert out.shape == (8, 10, 3) and out.dtype == np.uint8
    assert (out == gray[:, :, None]).all()

    rgba = np.dstack([rgb, np.full((8, 10), 7, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert (read_image(tmp_path / "rgba.png") == rgb).all()  # alpha dropped, colour kept

    cmyk = Image.fromarray(rgb).convert("CMYK")
    cmyk.save(tmp_path / "cmyk.jpg", quality=100)
    expected = np.asarray(Image.open(tmp_path / "cmyk.jpg").convert("RGB"))
    got = read_image(tmp_path / "cmyk.jpg")
    assert got.shape == (8, 10, 3) and (got == expected).all()
    assert np.abs(got.astype(int) - rgb.astype(int)).mean() < 12  # the colours survive the CMYK trip

    gray16 = (gray.astype(np.uint16) * 257)
    Image.fromarray(gray16).save(tmp_path / "gray16.png")
    assert (read_image(tmp_path / "gray16.png")[:, :, 1] == gray).all()


def test_exif_rotated_jpeg_loads_upright(tmp_path):
    upright = np.zeros((20, 40, 3), np.uint8)
    upright[:, :20] = (255, 0, 0)  # left half red
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # stored sideways: 40 tall
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    stored.save(tmp_path / "rot.jpg", exif=exif, quality=100)
    img = read_image(tmp_path / "rot.jpg")
    assert img.shape == (20, 40, 3)
    assert img[10, 5, 0] > 200 and img[10, 35, 0] < 60


def test_path_with_spaces_and_unicode(tmp_path):
    root = make_voc(tmp_path / "my data – Ünïcødé 数据")
    ds = open_dataset(root)
    assert ds.label("img0").shape == (12, 16)
    assert ds.image("img0").shape == (12, 16, 3)
    out = root / "corr ection ü" / "img0.png"
    write_palette_png(out, label_map(seed=5))
    assert (read_label(out) == label_map(seed=5)).all()


def test_non_image_files_in_a_folder_are_ignored_or_named(tmp_path):
    root = make_voc(tmp_path / "ds")
    (root / "JPEGImages" / "Thumbs.db").write_bytes(b"\0\1")
    (root / "JPEGImages" / "README.txt").write_text("notes")
    ds = open_dataset(root)
    assert ds.stems == ["img0", "img1", "img2"]
    (root / "JPEGImages" / "img1.jpg").write_text("not a jpeg")
    problems = open_dataset(root).validate()
    assert len(problems) == 1 and "img1.jpg" in str(problems[0]) and "not an image" in str(problems[0])


def test_failed_atomic_write_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "label.png"
    old = label_map(seed=1)
    write_palette_png(p, old)
    before = p.read_bytes()
    with pytest.raises(ValueError):
        write_palette_png(p, np.zeros((3, 4, 5), np.uint8))  # bad array: refused before touching the file
    assert p.read_bytes() == before

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_mod.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_palette_png(p, label_map(seed=2))
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["label.png"]  # no temporary file left behind


def test_atomic_write_gives_normal_permissions(tmp_path):
    # mkstemp makes 0600 files; a written label/export/checkpoint must get what open() would give it,
    # and a rewrite keeps the old file's mode.
    import os
    import stat

    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.png"
    write_palette_png(fresh, label_map(seed=1))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    fresh.chmod(0o640)
    write_palette_png(fresh, label_map(seed=2))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640


def test_open_is_lazy(tmp_path, monkeypatch):
    # Opening must not decode pixels (thousands of images in the GUI): break the decoders and open anyway.
    root = make_voc(tmp_path / "ds", n=5)
    import fcn_core.data.datasets as ds_mod

    def no_decode(*a, **k):
        raise AssertionError("decoded at open")

    monkeypatch.setattr(ds_mod, "read_image", no_decode)
    monkeypatch.setattr(ds_mod, "read_label", no_decode)
    monkeypatch.setattr(Image.Image, "load", no_decode)
    ds = open_dataset(root)
    assert len(ds) == 5 and ds.split("val")[0].stem == "img4"


def test_corrupt_image_in_dataset_named_on_access(tmp_path):
    root = make_voc(tmp_path / "ds")
    bad = root / "JPEGImages" / "img2.jpg"
    bad.write_bytes(bad.read_bytes()[:100])
    ds = open_dataset(root)  # still opens
    with pytest.raises(DataError) as info:
        ds.image("img2")
    assert str(bad) in str(info.value)
    assert ds.image("img0").shape == (12, 16, 3)
    with pytest.raises(DataError, match="no image with stem 'nope'"):
        ds.image("nope")


def test_dataset_path_missing_or_a_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        open_dataset(tmp_path / "absent")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        open_dataset(f)


def test_unreadable_folder_is_named(tmp_path, monkeypatch):
    root = make_voc(tmp_path / "ds")
    real_iterdir = Path.iterdir

    def guarded(self):
        if self.name == "JPEGImages":
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", guarded)
    with pytest.raises(DataError, match="permission denied") as info:
        open_dataset(root)
    assert "JPEGImages" in str(info.value)

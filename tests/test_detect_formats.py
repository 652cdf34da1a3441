"""fcn_core.data.formats.detect_formats: every layout a folder matches (the app asks when not one)."""

from __future__ import annotations

from fcn_core.data.formats import detect_format, detect_formats
from fcn_core.demo_data import make_demo_dataset


def test_one_candidate_for_a_plain_layout(tmp_path):
    ds = make_demo_dataset(tmp_path / "voc", count=2, size=(40, 32))
    assert [f.name for f in detect_formats(ds)] == ["voc"] == [detect_format(ds).name]


def test_several_candidates_and_none(tmp_path):
    both = tmp_path / "camvid"
    for d in ("train", "trainannot", "train_labels"):
        (both / d).mkdir(parents=True)
    assert [f.name for f in detect_formats(both)] == ["camvid", "camvid32"]
    (tmp_path / "plain").mkdir()
    assert detect_formats(tmp_path / "plain") == [] and detect_format(tmp_path / "plain").name == "images"

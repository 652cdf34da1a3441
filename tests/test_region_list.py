"""Qt-free parts of issue 13's app side: the region list (sorting, class-pair filter, next/previous), the
reviewed sidecar, and the per-image undo histories within a memory budget."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.document import LabelDocument
from app.editing.history_store import HistoryStore, document_nbytes, undo_steps
from app.region_list import RegionList, load_reviewed, region_key, save_reviewed, sidecar_path
from fcn_core.data.errors import DataError
from fcn_core.regions import LABEL_SUSPECT, MODEL_WRONG, ErrorRegion


def _region(area, t, p, conf, verdict=MODEL_WRONG, x=0):
    return ErrorRegion(stride=8, box=(x, 0, x + 10, 10), area=area, true_class=t, predicted_class=p,
                       confidence=conf, margin=None, agreement=None, edge_ratio=None, object_fraction=None,
                       verdict=verdict, mask=np.ones((10, 10), bool))


@pytest.fixture
def regions():
    rl = RegionList()
    rl.set_image("a", [_region(500, 0, 15, 0.9, LABEL_SUSPECT, 0), _region(80, 15, 0, 0.4, x=20)])
    rl.set_image("b", [_region(300, 0, 15, 0.7, x=40), _region(120, 7, 8, None, x=60)])
    return rl


def test_default_order_is_suspects_first_then_largest(regions):
    assert [e.region.area for e in regions.entries()] == [500, 300, 120, 80]


@pytest.mark.parametrize(("key", "areas"), [
    ("area", [500, 300, 120, 80]),
    ("confidence", [500, 300, 80, 120]),  # no confidence sorts last
    ("pair", [80, 120, 300, 500]),  # the same key again reverses (pair sorts ascending first)
])
def test_sorting(regions, key, areas):
    regions.set_sort(key)
    if key == "pair":
        assert [e.pair for e in regions.entries()] == [(0, 15), (0, 15), (7, 8), (15, 0)]
        regions.set_sort(key)
    assert [e.region.area for e in regions.entries()] == areas


def test_sort_rejects_unknown_keys(regions):
    with pytest.raises(ValueError, match="unknown sort key"):
        regions.set_sort("colour")


def test_pair_filter_and_pairs(regions):
    assert regions.pairs()[0] == (0, 15)  # most regions first
    regions.set_pair((0, 15))
    assert [e.stem for e in regions.entries()] == ["a", "b"]
    regions.set_pair(None)
    assert len(regions.entries()) == 4


def test_step_wraps_and_resumes_where_an_accepted_region_was(regions):
    items = regions.entries()
    assert regions.step(None, 1) is items[0] and regions.step(None, -1) is items[-1]
    assert regions.step(items[-1].key, 1) is items[0]
    assert regions.step(items[1].key, -1) is items[0]
    gone = items[1]
    regions.set_image(gone.stem, [e.region for e in regions.regions_of(gone.stem) if e is not gone])
    # the region at index 1 was accepted (it left the list): next is the one now at index 1
    assert regions.step(gone.key, 1, fallback=1).key == items[2].key
    assert regions.step(gone.key, -1, fallback=1).key == items[0].key


def test_hide_reviewed(regions):
    first = regions.entries()[0]
    regions.set_reviewed(first.key)
    regions.hide_reviewed = True
    regions.set_pair(None)
    assert first.key not in [e.key for e in regions.entries()]


def test_region_key_names_image_stride_box_and_pair():
    assert region_key("x", _region(10, 3, 4, 0.5, x=5)) == "x|8|5,0,15,10|3>4"


def test_reviewed_sidecar_round_trip_and_bad_file(tmp_path):
    path = sidecar_path(tmp_path / "corrections")
    assert load_reviewed(path) == set()
    save_reviewed(path, {"b|8|0,0,1,1|0>1", "a|8|0,0,1,1|0>1"})
    assert json.loads(path.read_text())["reviewed"] == ["a|8|0,0,1,1|0>1", "b|8|0,0,1,1|0>1"]
    assert load_reviewed(path) == {"a|8|0,0,1,1|0>1", "b|8|0,0,1,1|0>1"}
    path.write_text('{"reviewed": [1, 2]}')
    with pytest.raises(DataError, match="regions-reviewed.json"):
        load_reviewed(path)


def _edited_doc(n_steps, size=64):
    doc = LabelDocument(np.zeros((size, size), np.uint8))
    for i in range(n_steps):
        doc.paint((i, i), (i + 5, i), 3, 1 + i % 5)
    return doc


def test_history_store_restores_only_unchanged_labels():
    store = HistoryStore(1 << 30)
    doc = _edited_doc(3)
    store.keep("a", doc)
    assert store.steps() == {"a": 3}
    back = store.take("a", doc.labels.copy())
    assert back is doc and undo_steps(back) == 3 and back.undo() is not None
    store.keep("a", doc)
    changed = doc.labels.copy()
    changed[0, 0] = 9  # the file changed since: its history no longer applies
    assert store.take("a", changed) is None and "a" not in store


def test_history_store_drops_the_oldest_over_budget():
    docs = {k: _edited_doc(4) for k in "abc"}
    one = document_nbytes(docs["a"])
    store = HistoryStore(2 * one + one // 2)  # room for two
    for k, d in docs.items():
        store.keep(k, d)
    assert list(store.steps()) == ["b", "c"]  # "a", left first, was dropped
    store.set_budget(0)
    assert len(store) == 0
    store.keep("x", LabelDocument(np.zeros((4, 4), np.uint8)))  # nothing to undo: not kept
    assert len(store) == 0

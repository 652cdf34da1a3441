"""LabelDocument without a window: every operation, the edited record, undo/redo, history memory."""

from __future__ import annotations

import numpy as np
import pytest

from app.document import VOID, LabelDocument


def _doc(h: int = 40, w: int = 50, fill: int = 0) -> LabelDocument:
    return LabelDocument(np.full((h, w), fill, dtype=np.uint8))


def test_rejects_bad_arrays():
    with pytest.raises(ValueError, match="2-D uint8"):
        LabelDocument(np.zeros((4, 4), dtype=np.int32))
    with pytest.raises(ValueError, match="does not match"):
        LabelDocument(np.zeros((4, 4), np.uint8), original=np.zeros((5, 4), np.uint8))


def test_paint_round_brush_and_segment():
    doc = _doc()
    rect = doc.paint((10, 10), (10, 10), 5, 3)
    assert rect == (8, 13, 8, 13)
    disc = doc.labels[8:13, 8:13] == 3
    # radius 2.5 disc: the corners are outside, the plus-shaped centre inside
    assert not disc[0, 0] and not disc[4, 4] and disc[2].all() and disc[:, 2].all()
    assert (doc.labels == 3).sum() == disc.sum()
    doc.paint((20, 30), (40, 30), 3, 7)  # horizontal segment, width 3
    assert (doc.labels[29:32, 20:41] == 7).all()
    assert (doc.labels[28, 20:41] == 0).all() and (doc.labels[32, 20:41] == 0).all()


def test_paint_clipped_at_border_and_outside():
    doc = _doc(10, 10)
    assert doc.paint((-1, -1), (-1, -1), 4, 2) is not None
    assert doc.labels[0, 0] == 2
    assert doc.paint((-50, -50), (-40, -50), 4, 2) is None
    assert doc.can_undo


def test_paint_from_array_copies_under_brush():
    doc = _doc(20, 20)
    src = np.arange(400, dtype=np.uint8).reshape(20, 20)
    doc.paint((5, 5), (5, 5), 3, src)
    ys, xs = np.nonzero(doc.edited)
    assert len(ys) == 9 and (doc.labels[ys, xs] == src[ys, xs]).all()


def test_fill_is_4_connected_same_label():
    labels = np.zeros((9, 9), np.uint8)
    labels[4, :] = 1  # a wall splits top and bottom
    labels[0, 0] = 1
    labels[5, 5] = 2
    doc = LabelDocument(labels)
    rect = doc.fill(8, 0, 6)
    assert rect == (0, 4, 0, 9)
    assert (doc.labels[:4] == np.where(labels[:4] == 1, 1, 6)).all()
    assert (doc.labels[5:] == labels[5:]).all()
    # the wall row is its own region; (0, 0) has the same label but is not connected to it
    doc.fill(0, 4, 9)
    assert doc.labels[0, 0] == 1 and (doc.labels[4] == 9).all()
    assert doc.fill(3, 3, int(doc.labels[3, 3])) is None  # same value: no step
    assert doc.fill(99, 3, 1) is None


def test_fill_diagonal_does_not_leak():
    labels = np.zeros((3, 3), np.uint8)
    labels[0, 0] = labels[1, 1] = labels[2, 2] = 1
    doc = LabelDocument(labels)
    doc.fill(1, 1, 5)
    assert doc.labels[1, 1] == 5 and doc.labels[0, 0] == 1 and doc.labels[2, 2] == 1


def test_polygon_fill_and_degenerate():
    doc = _doc(30, 30)
    doc.polygon([(5, 5), (20, 5), (20, 20), (5, 20)], 4)
    assert (doc.labels[5:21, 5:21] == 4).all()
    assert (doc.labels == 4).sum() == 16 * 16
    assert doc.polygon([(1, 1), (2, 2)], 4) is None
    doc.polygon([(25, 25), (40, 25), (40, 40)], 8)  # clipped to the image
    assert doc.labels[25, 29] == 8 and doc.labels[29, 25] == 0


def test_replace_class_and_set_region():
    labels = np.zeros((10, 10), np.uint8)
    labels[2:4, 2:8] = 3
    doc = LabelDocument(labels)
    assert doc.replace_class(3, 5) == (2, 4, 2, 8)
    assert (doc.labels == 5).sum() == 12 and not (doc.labels == 3).any()
    mask = np.zeros((10, 10), bool)
    mask[7:9, 1:3] = True
    pred = np.full((10, 10), 11, np.uint8)
    assert doc.set_region(mask, pred) == (7, 9, 1, 3)
    assert (doc.labels[mask] == 11).all()
    with pytest.raises(ValueError):
        doc.set_region(np.zeros((3, 3), bool), 1)


def test_edited_record_follows_changes_and_undo():
    doc = _doc(20, 20)
    doc.paint((5, 5), (15, 5), 1, 2)
    assert doc.edited.sum() == 11
    doc.paint((5, 5), (15, 5), 1, 0)  # painting back the original value is not an edit
    assert doc.edited.sum() == 0
    doc.undo()
    assert doc.edited.sum() == 11
    doc.undo()
    assert doc.edited.sum() == 0 and (doc.labels == 0).all()


def test_stroke_is_one_step_and_redo_cleared():
    doc = _doc()
    before = doc.labels.copy()
    doc.begin_stroke()
    for x in range(5, 40, 3):
        doc.paint((x - 3, 20), (x, 20), 4, 1)
    doc.end_stroke()
    after = doc.labels.copy()
    doc.fill(0, 0, 2)
    assert doc.undo() is not None
    assert (doc.labels == after).all()
    doc.undo()
    assert (doc.labels == before).all() and not doc.can_undo
    doc.redo()
    assert (doc.labels == after).all() and doc.can_redo
    doc.paint((1, 1), (1, 1), 1, 9)
    assert not doc.can_redo


def test_undo_redo_random_sequence_matches_snapshots():
    rng = np.random.default_rng(0)
    doc = LabelDocument(rng.integers(0, 4, (60, 70), dtype=np.uint8))
    snaps = [doc.labels.copy()]
    for i in range(120):
        kind = i % 4
        if kind == 0:
            doc.begin_stroke()
            p = rng.uniform(0, 70, 2)
            for _ in range(5):
                q = p + rng.uniform(-8, 8, 2)
                doc.paint(tuple(p), tuple(q), float(rng.integers(1, 9)), int(rng.integers(0, 6)))
                p = q
            doc.end_stroke()
        elif kind == 1:
            doc.fill(int(rng.integers(0, 70)), int(rng.integers(0, 60)), int(rng.integers(0, 6)))
        elif kind == 2:
            doc.polygon([tuple(rng.uniform(0, 70, 2)) for _ in range(5)], int(rng.integers(0, 6)))
        else:
            doc.replace_class(int(rng.integers(0, 6)), int(rng.integers(0, 6)))
        if not (doc.labels == snaps[-1]).all():
            snaps.append(doc.labels.copy())
    assert len(snaps) > 100  # at least 100 undo steps
    for snap in reversed(snaps[:-1]):
        doc.undo()
        assert (doc.labels == snap).all()
    assert not doc.can_undo and doc.undo() is None
    for snap in snaps[1:]:
        doc.redo()
        assert (doc.labels == snap).all()


def test_history_cap_drops_oldest():
    doc = LabelDocument(np.zeros((10, 10), np.uint8), max_history=3)
    for v in range(1, 6):
        doc.paint((5, 5), (5, 5), 1, v)
    for _ in range(3):
        doc.undo()
    assert doc.labels[5, 5] == 2 and not doc.can_undo


def test_modified_state():
    doc = _doc()
    assert not doc.is_modified
    doc.paint((3, 3), (3, 3), 2, 1)
    assert doc.is_modified
    doc.mark_saved()
    assert not doc.is_modified
    doc.undo()
    assert doc.is_modified
    doc.redo()
    assert not doc.is_modified
    doc.mark_unsaved()
    assert doc.is_modified


def test_listeners_get_dirty_rect():
    doc = _doc()
    rects = []
    doc.add_listener(rects.append)
    doc.paint((10, 10), (12, 10), 3, 5)
    doc.undo()
    doc.redo()
    assert rects == [(9, 12, 9, 14)] * 3
    doc.remove_listener(rects.append)
    doc.fill(0, 0, 3)
    assert len(rects) == 3


def test_history_memory_proportional_to_change():
    doc = LabelDocument(np.zeros((2048, 2048), np.uint8))
    rng = np.random.default_rng(1)
    for _ in range(100):
        doc.begin_stroke()
        p = rng.uniform(0, 2048, 2)
        for _ in range(20):
            q = np.clip(p + rng.uniform(-15, 15, 2), 0, 2047)
            doc.paint(tuple(p), tuple(q), 20, int(rng.integers(1, 20)))
            p = q
        doc.end_stroke()
    assert doc.history_nbytes() < 20e6
    doc.fill(0, 0, VOID)  # a whole-image fill costs a packed mask plus two bytes, not 2 x 4 MB
    assert doc.history_nbytes() < 20e6 + 600_000


def test_replace_all_restores_as_one_modified_step():
    doc = _doc(8, 8)
    target = np.arange(64, dtype=np.uint8).reshape(8, 8)
    doc.replace_all(target)
    assert (doc.labels == target).all() and doc.is_modified
    doc.undo()
    assert (doc.labels == 0).all()


def test_history_cap_drop_keeps_modified_after_undoing_everything():
    """The cap dropped the first step: undoing all the rest leaves pixels unlike the opened labels, so the
    document must still count as modified (it used to say "saved" and the edit was never written)."""
    doc = LabelDocument(np.zeros((10, 10), np.uint8), max_history=3)
    for v in range(1, 6):
        doc.paint((5, 5), (5, 5), 1, v)
    while doc.can_undo:
        doc.undo()
    assert doc.labels[5, 5] == 2  # the dropped steps' pixels stay
    assert doc.is_modified
    doc.mark_saved()
    assert not doc.is_modified
    doc.redo()
    assert doc.is_modified


def test_modified_is_pixels_not_history_position():
    doc = _doc()
    doc.paint((3, 3), (3, 3), 1, 4)
    doc.mark_saved()
    doc.paint((3, 3), (3, 3), 1, 5)
    assert doc.is_modified
    doc.paint((3, 3), (3, 3), 1, 4)  # painted back: same pixels as saved, two steps later
    assert not doc.is_modified
    doc.begin_stroke()
    doc.paint((6, 6), (6, 6), 1, 7)  # mid-stroke changes count too
    assert doc.is_modified
    doc.end_stroke()


def test_mark_saved_earlier_state_of_background_save():
    doc = _doc()
    doc.paint((3, 3), (3, 3), 1, 4)
    written = doc.state_id  # a background save wrote this state ...
    doc.paint((5, 5), (5, 5), 1, 6)  # ... while the user kept painting
    doc.mark_saved(written)
    assert doc.is_modified
    doc.undo()
    assert not doc.is_modified
    doc.undo()
    doc.mark_saved(written)  # the written state is now on the redo side
    assert doc.is_modified
    doc.redo()
    assert not doc.is_modified
    snapshot = doc.labels.copy()
    doc.paint((1, 1), (1, 1), 1, 9)
    doc.mark_saved(doc.state_id, labels=snapshot)
    assert doc.is_modified

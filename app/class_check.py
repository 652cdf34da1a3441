"""Do the model's classes match the dataset's? Names are compared, not only counts (no Qt import here)."""

from __future__ import annotations

import numpy as np

from fcn_core.evaluation import same_class_names


def classes_match(dataset_names: list[str], model_names: list[str]) -> bool:
    """True when both list the same classes in the same order (case, spaces and punctuation ignored)."""
    return same_class_names(model_names, dataset_names)


def _short(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    return f"{len(names)}: {shown}{', …' if len(names) > limit else ''}"


def mismatch_message(dataset_names: list[str], model_names: list[str]) -> str:
    """The banner text for a model whose classes differ from the dataset's."""
    text = (f"Model classes ({_short(model_names)}) differ from the dataset's ({_short(dataset_names)}): "
            "scores are not meaningful and are not computed. Predictions are drawn with the model's colours "
            "(see the Classes list), ground truth with the dataset's.")
    if len(model_names) == len(dataset_names):
        text += " If class i means the same to both, score by index."
    return text


def by_index_message(dataset_names: list[str], model_names: list[str]) -> str:
    """The banner text once the user chose to score a same-count model by class index."""
    return (f"Scoring by class index although the names differ: model ({_short(model_names)}), "
            f"dataset ({_short(dataset_names)}). Predictions use the dataset's names and colours.")


def pair_key(dataset, model_set) -> tuple[str, str] | None:
    """Identifies a (dataset, model) pair: a "score by index" choice holds for this pair only."""
    if dataset is None or model_set is None:
        return None
    return str(getattr(dataset, "root", id(dataset))), str(model_set.model_id)


def apply_classes(window) -> None:
    """Choose the class names and colours the window shows, and warn when model and dataset disagree.

    Ground truth (and editing) use the dataset's classes when it has labels, else the model's. When the
    model's class names differ from the dataset's, predictions are drawn with the model's names and
    palette (``window.pred_class_names``, ``grid.set_pred_palette``), no scores are computed
    (``window.classes_differ``) and a persistent banner says why. With as many classes on both sides the
    banner offers "Score by class index"; once chosen (``window.score_by_index`` holds this pair's
    ``pair_key``) the pair is treated as matching, as ``fcn evaluate --ignore-class-names`` does.
    """
    ds, ms = window.dataset, window.model_set
    labelled = ds is not None and bool(ds.class_names) and (ms is None or getattr(ds, "has_labels", True))
    if labelled:
        names, palette = list(ds.class_names), ds.palette
    elif ms is not None:
        names, palette = list(ms.class_names), ms.palette
    else:
        return
    names_differ = labelled and ms is not None and not classes_match(names, list(ms.class_names))
    same_count = ms is not None and len(ms.class_names) == len(names)
    by_index = names_differ and same_count and window.score_by_index == pair_key(ds, ms)
    differ = names_differ and not by_index
    window.classes_differ = differ
    window.pred_class_names = list(ms.class_names) if differ else names
    window.class_names = names
    window.palette = np.asarray(palette, np.uint8)
    window.grid.set_palette(window.palette, names)
    window.grid.set_pred_palette(ms.palette if differ else None)
    window.legend.set_classes(names, window.palette)
    window.legend.set_model_classes(list(ms.class_names) if differ else None, ms.palette if differ else None)
    if differ:
        message = mismatch_message(names, list(ms.class_names))
        action = ("Score by class index", window.score_by_class_index) if same_count else None
        window.banner.show_message(message, action)
        window.status_bar.showMessage(message, 8000)
    elif by_index:
        window.banner.show_message(by_index_message(names, list(ms.class_names)))
    else:
        window.banner.clear()


def score_by_class_index(window) -> None:
    """The banner's "Score by class index": the model's class i is taken to be the dataset's class i (same
    count, other names), so scores, the error map and evaluation come back for this dataset+model pair."""
    window.score_by_index = pair_key(window.dataset, window.model_set)
    apply_classes(window)
    if window.classes_differ:
        return  # not a same-count pair: nothing to score by index
    window.rescore_current()
    window._show_stride()
    window.predictions_changed.emit()
    if window._last_prediction_s is not None:  # decide about evaluating on open, now that scores count
        window.auto_evaluation.reset()
        window.auto_evaluation.on_prediction(window._last_prediction_s)

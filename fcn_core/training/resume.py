"""Checks made before a run writes anything: the output folder can be one, and ``resume`` has a run to
continue that was made with the same options (else the model or the optimizer state would not fit)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from fcn_core.data.errors import DataError
from fcn_core.training import state as st
from fcn_core.training.config import STAGES, TrainConfig

#: Options a resumed run must share with the saved one: they shape the model (arch, staged, width,
#: batch_norm), the optimizer and its saved state (recipe, lr, weight_decay, momentum), the input
#: normalisation the weights learned (mean) and the batch order the saved position counts in (batch_size).
FIXED_OPTIONS = ("arch", "staged", "recipe", "width", "batch_norm", "batch_size", "lr", "weight_decay",
                 "momentum", "mean")


def check_output_folder(out: Path) -> None:
    """The output folder, or the nearest existing folder above it, must be a folder (not a file)."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                what = "the output folder" if folder == out else f"in the way of the output folder {out}"
                raise DataError(folder, f"is a file, not a folder ({what}); choose another output folder")
            return


def stage_folders(cfg: TrainConfig) -> list[Path]:
    """Where each stage of ``cfg`` writes its checkpoints: one subfolder per stage when staged."""
    return [cfg.out / arch for arch in STAGES] if cfg.staged else [cfg.out]


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _show(value: Any) -> str:
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def check_resume(cfg: TrainConfig, num_classes: int) -> None:
    """Raise (DataError / ValueError naming ``cfg.out``) unless ``cfg`` can continue the run saved there.

    Reads only: nothing is written, so a refused ``resume`` leaves the earlier run exactly as it was.
    ``num_classes`` is the training data's class count, which must match the saved model's.
    """
    from fcn_core.weights import read_checkpoint_metadata

    saved = [f for f in stage_folders(cfg) if (f / st.STATE).is_file()]
    if not saved:
        other = dataclasses.replace(cfg, staged=not cfg.staged)
        hint = ""
        if any((f / st.STATE).is_file() for f in stage_folders(other)):
            hint = (" (it holds a staged run: add --staged)" if other.staged
                    else " (it holds a single-stage run: drop --staged)")
        raise DataError(cfg.out, f"nothing to resume: no {st.STATE} from an earlier run{hint}; "
                                 "start without --resume to train from the beginning")
    for folder in saved:
        last = folder / st.LAST
        if not last.is_file():
            raise DataError(last, f"cannot resume: the checkpoint beside {st.STATE} is missing")
        meta = read_checkpoint_metadata(last)
        before = (meta.get("metadata") or {}).get("config") or {}
        now = cfg.to_dict()
        diffs = [f"{_option(k)} was {_show(before[k])}, now {_show(now[k])}"
                 for k in FIXED_OPTIONS if k in before and before[k] != now[k]]
        if diffs:
            raise ValueError(f"{cfg.out}: cannot resume with other options than the run had: "
                             f"{'; '.join(diffs)}. Resume with the run's options, or start a new run "
                             "in another output folder")
        classes = int(meta.get("num_classes", num_classes))
        if classes != num_classes:
            raise ValueError(f"{cfg.out}: cannot resume: the run's model has {classes} classes but the "
                             f"training data {cfg.data} has {num_classes}")

"""fcn_core must import and work with PySide6 and pyqtgraph absent (they are blocked in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6", "superqt", "qtpy")

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked Qt module imported: {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    import fcn_core

    names = ["fcn_core"]
    for info in pkgutil.walk_packages(fcn_core.__path__, "fcn_core."):
        if not info.name.endswith("__main__"):  # running it would start the CLI
            names.append(info.name)
    for name in names:
        importlib.import_module(name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked

    # Not only importable: the core works (build, predict) with Qt blocked.
    import numpy as np
    from fcn_core.models import build_model
    from fcn_core.predictor import Predictor
    from fcn_core.weights import IMAGENET_PREPROCESSING, LoadedModel
    from fcn_core.data.palette import voc_palette

    model = build_model("fcn-multi", 3, width=0.0625)
    loaded = LoadedModel(model, "fcn-multi", 3, ["a", "b", "c"], voc_palette(), 255, IMAGENET_PREPROCESSING)
    out = Predictor(loaded, device="cpu").predict(np.zeros((9, 11, 3), np.uint8))
    assert out[8].labels.shape == (9, 11)
    print("imported", len(names), "modules")
    """
)


def test_fcn_core_imports_and_runs_without_qt():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "imported" in proc.stdout

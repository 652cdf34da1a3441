"""Bundled resources: the demo model (committed) and the demo dataset (generated on first use into a cache).

The cache folder is ``$FCN_STUDIO_CACHE`` when set, else ``$XDG_CACHE_HOME/fcn-studio`` or
``~/.cache/fcn-studio``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fcn_core.demo_data import make_demo_dataset

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DEMO_MODEL = RESOURCES / "demo" / "model.safetensors"
# The demo model was trained on exactly this dataset; bump the version when the generator's output changes.
DEMO_DATA_VERSION = 1
DEMO_COUNT = 250
DEMO_SEED = 0


def cache_dir() -> Path:
    """Folder for generated files (not in the repository)."""
    env = os.environ.get("FCN_STUDIO_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "fcn-studio"


def demo_dataset_dir() -> Path:
    """Where the demo dataset lives once generated (`demo_paths` creates it)."""
    return cache_dir() / f"demo-data-v{DEMO_DATA_VERSION}-seed{DEMO_SEED}-n{DEMO_COUNT}"


def _complete(folder: Path) -> bool:
    # make_demo_dataset renames a finished folder into place, so dataset.json present = complete.
    split = folder / "ImageSets" / "Segmentation" / "val.txt"
    return (folder / "dataset.json").is_file() and split.is_file()


def demo_dataset_ready() -> bool:
    """True when the demo dataset is already generated (``demo_paths`` then returns at once)."""
    return _complete(demo_dataset_dir())


def ensure_demo_dataset() -> Path:
    """Generate the demo dataset into the cache unless it is already there; return its folder.

    Safe when two processes start at once: each builds in its own temporary folder and the first rename wins.
    """
    folder = demo_dataset_dir()
    if _complete(folder):
        return folder
    if folder.exists():  # a leftover that is not a finished dataset (e.g. emptied by hand)
        # Rename it away before deleting: another process may be finishing the dataset right now, and a
        # finished one must never be deleted from under it.
        stale = folder.with_name(f".{folder.name}.stale-{os.getpid()}")
        try:
            os.replace(folder, stale)
        except OSError:
            stale = None
        if stale is not None:
            if _complete(stale):  # lost a race with a process that just finished: put it back
                try:
                    os.replace(stale, folder)
                except OSError:
                    pass
            shutil.rmtree(stale, ignore_errors=True)
        if _complete(folder):
            return folder
    try:
        make_demo_dataset(folder, count=DEMO_COUNT, seed=DEMO_SEED)
    except OSError:  # FileExistsError included
        if not _complete(folder):  # not a lost race: a real failure
            raise
    return folder


def demo_paths() -> tuple[Path, Path]:
    """``(dataset_dir, model_path)`` of the bundled demo; generates the dataset on first use.

    Raises FileNotFoundError when the demo model is missing from the installation.
    """
    if not DEMO_MODEL.is_file():
        raise FileNotFoundError(
            f"{DEMO_MODEL}: the bundled demo model is missing (scripts/make_demo_model.sh makes it)"
        )
    return ensure_demo_dataset(), DEMO_MODEL

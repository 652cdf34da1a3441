"""Shared fixtures. Qt runs offscreen; real data comes from ../shared/data next to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data_path(*parts: str) -> Path:
    """Path under ../shared/data; skip when absent on a laptop, but fail under CI (CI=true)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data missing under CI: {path}")
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture
def shared_data():
    """Callable fixture: ``shared_data("voc2012-sample")`` -> Path."""
    return shared_data_path

"""Persistent settings (QSettings): recent datasets and models, last device/precision, auto-evaluation."""

from __future__ import annotations

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def _settings() -> QSettings:
    if _ini_override:
        return QSettings(_ini_override, QSettings.Format.IniFormat)
    return QSettings("FCN Studio", "fcn-studio")


def recent(kind: str) -> list[list[str]]:
    """Recent entries for ``kind`` ("datasets", "models" or "predictions"); each entry is a list of paths."""
    value = _settings().value(f"recent/{kind}", [])
    if not isinstance(value, list):
        return []
    out = []
    for entry in value:
        if isinstance(entry, str):
            entry = [p for p in entry.split("\n") if p]
        if entry:
            out.append([str(p) for p in entry])
    return out


def add_recent(kind: str, paths: list[str]) -> list[list[str]]:
    """Put ``paths`` first in the recent list (no duplicates, at most MAX_RECENT) and return the list."""
    paths = [str(p) for p in paths]
    entries = [e for e in recent(kind) if e != paths]
    entries.insert(0, paths)
    entries = entries[:MAX_RECENT]
    # stored as newline-joined strings: QSettings round-trips nested lists unreliably across backends
    _settings().setValue(f"recent/{kind}", ["\n".join(e) for e in entries])
    return entries


def clear_recent() -> None:
    """Forget recent datasets and models."""
    s = _settings()
    s.remove("recent/datasets")
    s.remove("recent/models")
    s.remove("recent/predictions")


def auto_evaluate() -> bool:
    """Evaluate the whole dataset in the background after opening it with a model (default on)."""
    value = _settings().value("evaluation/auto", True)
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")


def set_auto_evaluate(on: bool) -> None:
    """Remember the Tools → "Evaluate automatically on open" choice."""
    _settings().setValue("evaluation/auto", bool(on))


def sam_checkpoint() -> str | None:
    """The Segment Anything checkpoint file for the click-to-segment tool (None: not configured)."""
    value = _settings().value("assist/sam_checkpoint", "")
    return str(value) if value else None


def set_sam_checkpoint(path: str | None) -> None:
    _settings().setValue("assist/sam_checkpoint", str(path or ""))


UNDO_BUDGET_MB = 256


def undo_budget_mb() -> int:
    """Memory for the undo histories of images other than the one on screen (MB, default 256)."""
    try:
        return max(int(_settings().value("editing/undo_budget_mb", UNDO_BUDGET_MB)), 0)
    except (TypeError, ValueError):
        return UNDO_BUDGET_MB


def set_undo_budget_mb(mb: int) -> None:
    _settings().setValue("editing/undo_budget_mb", int(mb))


_ini_override: str | None = None


def use_ini_file(path: str | None) -> None:
    """Keep settings in one INI file (tests, portable installs) instead of the user's profile."""
    global _ini_override
    _ini_override = path

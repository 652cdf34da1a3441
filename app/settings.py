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


_ini_override: str | None = None


def use_ini_file(path: str | None) -> None:
    """Keep settings in one INI file (tests, portable installs) instead of the user's profile."""
    global _ini_override
    _ini_override = path

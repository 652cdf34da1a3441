"""Every window action in one typed place: id, text, shortcut(s), menu and tip."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ActionSpec:
    """Declaration of one QAction; ``menu`` is the key of ``MainWindow.menus`` it goes into."""

    key: str
    text: str
    menu: str
    shortcuts: tuple[str, ...] = ()
    tip: str = ""
    checkable: bool = False
    separator_before: bool = False


ACTION_SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("open_dataset", "Open &dataset…", "file", ("Ctrl+O",), "Open a dataset folder"),
    ActionSpec("open_models", "Open &model(s)…", "file", ("Ctrl+M",),
               "Open one multi-stride checkpoint, or separate 32s/16s/8s checkpoints as a set"),
    ActionSpec("open_predictions", "Open &predictions…", "file", ("Ctrl+Shift+M",),
               "Open a folder of stored predictions instead of a model: label images of any model matched by "
               "name, or the 32s/16s/8s folders of `fcn predict --stride all`"),
    ActionSpec("save_screenshot", "Save &screenshot…", "file", (), "Save the window as a PNG"),
    ActionSpec("quit", "&Quit", "file", ("Ctrl+Q",), separator_before=True),  # stays last (see menu_end)
    ActionSpec("stride_32", "FCN-&32s", "view", ("Ctrl+1",), "Show the 32-stride prediction", True),
    ActionSpec("stride_16", "FCN-&16s", "view", ("Ctrl+2",), "Show the 16-stride prediction", True),
    ActionSpec("stride_8", "FCN-&8s", "view", ("Ctrl+3",), "Show the 8-stride prediction", True),
    ActionSpec("next_image", "&Next image", "view", ("D", "PgDown"), "Next image in the browser order"),
    ActionSpec("prev_image", "&Previous image", "view", ("A", "PgUp"), "Previous image in the browser order"),
    ActionSpec("show_error", "&Error map", "view", ("Shift+E",), "Where prediction ≠ ground truth", True),
    ActionSpec("show_confidence", "&Confidence map", "view", ("C",), "Show max softmax or margin", True),
    ActionSpec("reset_view", "&Fit image", "view", ("Shift+F",), "Zoom to the whole image"),
    ActionSpec("fast_preview", "Fast &preview (int8)", "view", ("Ctrl+Shift+P",),
               "Show an int8 ONNX Runtime prediction first (calibrated on this dataset, CPU only), replaced "
               "by the exact one when it arrives; scores always use the exact one", True),
    ActionSpec("evaluate", "&Evaluate dataset", "tools", ("Ctrl+E",),
               "Score every image at every stride in the background"),
    ActionSpec("cancel_evaluation", "&Cancel evaluation", "tools", (), "Stop the running evaluation"),
    ActionSpec("evaluate_auto", "Evaluate &automatically on open", "tools", (),
               "Score every image in the background after a dataset and model are open, when the first "
               "prediction's time says it takes at most about 90 s (the image on screen keeps priority)",
               True),
    ActionSpec("about", "&About FCN Studio", "help"),
)


class Actions:
    """The window's QActions by key (``actions["open_dataset"]`` or ``actions.open_dataset``)."""

    def __init__(self, parent: QWidget, specs: tuple[ActionSpec, ...] = ACTION_SPECS):
        self._actions: dict[str, QAction] = {}
        self.specs = {s.key: s for s in specs}
        for spec in specs:
            action = QAction(spec.text, parent)
            if spec.shortcuts:
                action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            if spec.tip:
                action.setStatusTip(spec.tip)
                action.setToolTip(spec.tip)
            action.setCheckable(spec.checkable)
            self._actions[spec.key] = action

    def __getitem__(self, key: str) -> QAction:
        return self._actions[key]

    def __getattr__(self, key: str) -> QAction:
        try:
            return self.__dict__["_actions"][key]
        except KeyError:
            raise AttributeError(key) from None

    def items(self):
        """(key, QAction) pairs in declaration order."""
        return self._actions.items()

    def add_to_menus(self, menus: dict) -> None:
        """Append each action to its menu (menus keyed like ``ActionSpec.menu``)."""
        for key, action in self._actions.items():
            menu = menus.get(self.specs[key].menu)
            if menu is not None:
                if self.specs[key].separator_before:
                    menu.addSeparator()
                menu.addAction(action)

    def menu_end(self, menu_key: str) -> QAction | None:
        """The action that must stay last in a menu (File → Quit): others insert their items before it."""
        return self._actions["quit"] if menu_key == "file" and "quit" in self._actions else None

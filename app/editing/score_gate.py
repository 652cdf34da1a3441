"""While the model's classes differ from the dataset's (``window.classes_differ``), scores are withheld: the
commands that need them (Evaluate dataset, Accept prediction brush / region) are disabled with a tooltip
saying why, instead of looking enabled and doing nothing. They come back when the classes match or the user
chooses "Score by class index" in the banner."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.tools import Mode

ACCEPT_MODES = (Mode.ACCEPT_BRUSH, Mode.ACCEPT_REGION)


def withheld_reason(window) -> str | None:
    """Why score-based commands are unavailable now (None when they are available)."""
    if not getattr(window, "classes_differ", False):
        return None
    text = ("Not available: the model's classes differ from the dataset's, so its predictions are not "
            "scored or accepted.")
    ms = window.model_set
    if ms is not None and len(ms.class_names) == len(window.class_names):
        text += " If class i means the same to both, click \"Score by class index\" in the banner."
    return text


class ScoreGate(QObject):
    """Keeps the evaluate action, the evaluation panel's button and the accept tools in step with
    ``window.classes_differ``."""

    def __init__(self, controller):
        super().__init__(controller)
        self.c = controller
        w = self.window = controller.window
        self.actions = [w.actions.evaluate] + [controller.tool_actions[m] for m in ACCEPT_MODES]
        self.tips: dict[int, str] = {}  # each command's own tooltip, saved while the reason replaces it
        self.reason: str | None = None
        self._button_tip = ""
        # classes_differ changes when a dataset or model opens, or on "Score by class index" (which then
        # emits predictions_changed); the panel re-enables its button after a run, a split change re-tips it
        for signal in (w.dataset_opened, w.models_opened, w.predictions_changed,
                       w.evaluation.evaluation_finished, w.browser.split_changed):
            signal.connect(lambda *_a: self.update())
        self.update()

    def update(self) -> None:
        """Enable or disable (with the reason as tooltip) every command that needs scores."""
        before, self.reason = self.reason, withheld_reason(self.window)
        reason = self.reason
        for action in self.actions:
            action.setEnabled(reason is None)
            if reason is not None:
                if before is None:  # entering: keep the command's own tip (e.g. the panel's split tip)
                    self.tips[id(action)] = action.toolTip()
                action.setToolTip(reason)
            elif before is not None:  # leaving: the command's own tip comes back
                action.setToolTip(self.tips.pop(id(action), ""))
        button = self.window.evaluation.run_button
        if reason is not None:
            if button.toolTip() not in (reason, before):
                self._button_tip = button.toolTip()  # the panel's own tip (it names the split)
            button.setEnabled(False)
            button.setToolTip(reason)
        else:
            if before is not None and button.toolTip() == before:
                button.setToolTip(self._button_tip)
            if not self.window.evaluation.running:
                button.setEnabled(True)
        if reason is not None and self.c.mode in ACCEPT_MODES:
            self.c.set_mode(Mode.PAN)

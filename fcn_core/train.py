"""Public training API (the GUI and the CLI call this): ``train(config, progress, should_stop) -> best path``.

The implementation lives in `fcn_core.training` (config, recipe, samples, loop, evaluation, DDP, state files).
"""

from fcn_core.training import PAPER_LR, RECIPES, STAGES, TrainConfig, TrainResult, train, train_model

__all__ = ["PAPER_LR", "RECIPES", "STAGES", "TrainConfig", "TrainResult", "train", "train_model"]

"""Training FCNs: recipes (paper / scratch), staged 32s -> 16s -> 8s, resume, DDP under torchrun."""

from fcn_core.training.config import PAPER_LR, RECIPES, STAGES, TrainConfig
from fcn_core.training.loop import TrainResult, train, train_model

__all__ = ["PAPER_LR", "RECIPES", "STAGES", "TrainConfig", "TrainResult", "train", "train_model"]

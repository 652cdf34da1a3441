"""FCN Studio core: models, weights, prediction, data, metrics, training. Never imports Qt."""

__version__ = "0.1.0"

#: Label value meaning "void / ignore" in every label map held in memory (datasets remap theirs to it).
VOID = 255

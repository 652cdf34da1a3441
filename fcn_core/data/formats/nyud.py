"""NYUDv2 in the layout of fcn.berkeleyvision.org's ``data/nyud`` (read as its ``nyud_layers.py`` does).

::

    nyud/
      train.txt  val.txt  test.txt        # one index per line, e.g. 5001
      data/images/img_5001.png            # RGB photo
      data/depth/img_5001.png             # depth (16-bit PNG, read as float; the net sees log(depth) - 7.844)
      data/hha/img_5001.png               # HHA encoding of depth (Gupta et al. ECCV 2014), 3 x uint8
      segmentation/img_5001.mat           # field 'segmentation': 0 = void, 1..40 = the 40 classes

In memory the label is 0..39 with void 255 (the reference subtracts 1 from uint8, so 0 wraps to 255).
"""

from __future__ import annotations

NYUD_CLASSES: tuple[str, ...] = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror", "floor mat", "clothes",
    "ceiling", "books", "refridgerator", "television", "paper", "towel", "shower curtain", "box",
    "whiteboard", "person", "night stand", "toilet", "sink", "lamp", "bathtub", "bag", "otherstructure",
    "otherfurniture", "otherprop",
)
#: The reference data layer's means (nyud_layers.py): colour in B, G, R order; HHA in file order; log depth.
NYUD_MEAN_BGR = (116.190, 97.203, 92.318)
NYUD_MEAN_HHA = (132.431, 94.076, 118.477)
NYUD_MEAN_LOG_DEPTH = 7.844
NYUD_SPLITS = ("train", "val", "test")

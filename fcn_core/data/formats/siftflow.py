"""SIFT Flow in the layout of fcn.berkeleyvision.org's ``data/sift-flow`` (as its ``siftflow_layers.py``).

::

    sift-flow/
      trainval.txt  test.txt                                               # one image name per line
      Images/spatial_envelope_256x256_static_8outdoorcategories/NAME.jpg
      SemanticLabels/spatial_envelope_256x256_static_8outdoorcategories/NAME.mat   # field 'S': 0 void, 1..33
      GeoLabels/spatial_envelope_256x256_static_8outdoorcategories/NAME.mat        # field 'S': -1 void, 1..3

In memory: semantic 0..32 and geometric 0..2 (sky, horizontal, vertical), void 255 in both.
"""

from __future__ import annotations

SIFTFLOW_CLASSES: tuple[str, ...] = (
    "awning", "balcony", "bird", "boat", "bridge", "building", "bus", "car", "cow", "crosswalk", "desert",
    "door", "fence", "field", "grass", "moon", "mountain", "person", "plant", "pole", "river", "road", "rock",
    "sand", "sea", "sidewalk", "sign", "sky", "staircase", "streetlight", "sun", "tree", "window",
)
GEOMETRIC_CLASSES: tuple[str, ...] = ("sky", "horizontal", "vertical")
#: The reference data layer's mean, B, G, R (siftflow_layers.py).
SIFTFLOW_MEAN_BGR = (114.578, 115.294, 108.353)
SUBDIR = "spatial_envelope_256x256_static_8outdoorcategories"

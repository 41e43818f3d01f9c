"""yoloslim: network slimming for Ultralytics YOLO detectors, from sparse training to the report."""

import os

# Ultralytics reads YOLO_OFFLINE once, when it is first imported: set it before any module imports it,
# so nothing is fetched at run time (weights, fonts, version checks).
os.environ.setdefault("YOLO_OFFLINE", "1")

__version__ = "0.1.0"

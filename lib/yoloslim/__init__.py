"""yoloslim: network slimming for Ultralytics YOLO detectors, from sparse training to the report."""

__version__ = "0.1.0"

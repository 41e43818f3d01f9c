"""Measuring a model, for every stage that needs it: accuracy from matched detections (with bootstrap intervals),
ONNX export and sessions, latency per engine, interleaved timing, and the per-operator profile."""

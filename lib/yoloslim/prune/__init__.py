"""The prune stage: gamma thresholds, coupled groups, alignment, latency search, alternatives, ONNX check."""

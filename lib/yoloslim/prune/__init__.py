"""The prune stage of network slimming (Liu et al., ICCV 2017; see `yoloslim.prune.stage`): gamma thresholds,
coupled groups, alignment, latency search, alternatives, ONNX check."""

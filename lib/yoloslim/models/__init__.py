"""Detection models: building, size and cost, BatchNorm gammas, C2f/attention handling, checkpoints."""

"""The data stage: the synthetic set, checking a data set, the split, its figures and ground truth."""

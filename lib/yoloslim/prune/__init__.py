"""The prune stage of network slimming (Liu et al., ICCV 2017), module by module:

stage        the stage's entry point, `run_prune` (notebooks/04_prune, Snakemake): one prune job's folder
target       a target's pruned models: by threshold or fraction, a latency search, or Torch-Pruning at equal cost
slimming     the algorithm on one model: `prune_model`, `PruneResult`, `FoldPair`
groups       coupled groups, |gamma| importance, aligned counts
heads        attention blocks narrowed to the whole heads they need
fold         the pruned channels' beta folded into the next layers' biases
budget       a target's latency search: candidates timed against the base model, search.csv, its summary
search       the search itself: bisection over candidates, the timing engines
alternative  Torch-Pruning's structures at equal cost as results, with their cost match
tp           Torch-Pruning's pruners and the GFLOPs matching
validate     the stage's checks: the ONNX export, val mAP with and without the beta fold
onnx_check   the ONNX export's alignment and parity checks
files        the checkpoint read, a pruned model's files written; `prune_weights`, the CLI's job
tables       layers.csv and ratios.csv
figures      the sparsity, |gamma| and search figures
"""

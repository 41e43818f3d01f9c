# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Sparse training: L1 on BatchNorm gammas
#
# Network slimming (Liu et al., *Learning Efficient Convolutional Networks through Network Slimming*, ICCV 2017):
# starting from the base model (or scratch, `sparse.start`), an L1 penalty `sl * |gamma|` on every penalized
# BatchNorm scale drives the gammas of channels the detector does not need to ~0, so an absolute |gamma| threshold
# can prune them. `sparse.l1` places the term: `after_clip` (default, added after unscale and gradient clipping),
# `before_clip` (diluted by Ultralytics' clipping), or `proximal` (soft-threshold after each step). The last
# `sparse.recover_epochs` epochs train without L1. Each epoch logs the optimizer steps, the L1 budget Σ lr·sl, and
# the fraction of gammas under each absolute threshold. Full training output: `train.log`.

# %% tags=["parameters"]
config = "../params/demo.yaml"

# %%
from IPython.display import Image, display
from yoloslim.config import load_config
from yoloslim.paths import TrainFiles
from yoloslim.train.figures import write_sparse_figures
from yoloslim.train.runner import read_metrics
from yoloslim.train.sparse import run_sparse, sparse_summary

cfg = load_config(config)

# %% [markdown]
# ## Sparse training and its final metrics

# %%
stage = run_sparse(cfg)
print(f"sparse: {TrainFiles(stage).weights} (full log: {TrainFiles(stage).log})")
read_metrics(stage)

# %% [markdown]
# ## Sparsity loss, gamma distribution over epochs, and val mAP
#
# The val mAP next to the base model's.

# %%
for path in write_sparse_figures(cfg):
    display(Image(str(path)))

# %% [markdown]
# ## Val accuracy: sparse against base
#
# With the last epoch's sparsity.

# %%
sparse_summary(cfg)

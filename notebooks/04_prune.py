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
# # 04 · Pruning
#
# Network slimming (Liu et al., *Learning Efficient Convolutional Networks through Network Slimming*, ICCV 2017):
# channels of the sparse model whose |gamma| is under the target's threshold are pruned with their tied group (for
# a `<target>-random` control, as many channels per group chosen at random); kept counts are aligned to a multiple
# of `prune.round_to`. The pruned beta is folded into the next layers' biases. Tables and figures come from
# `runs/<config>/prune/<target>/`; a target whose key and inputs are unchanged is not pruned again.

# %% tags=["parameters"]
config = "../params/demo.yaml"
target = "small"

# %%
import json

import pandas as pd
from IPython.display import Image, Markdown, display
from yoloslim.config import load_config
from yoloslim.paths import PruneFiles
from yoloslim.prune.stage import run_prune
from yoloslim.text import say

cfg = load_config(config)

# %% [markdown]
# ## Pruning and its metrics

# %%
files = PruneFiles(run_prune(cfg, target))
metrics = json.loads(files.metrics.read_text())
if metrics["sparsity_warning"]:
    display(Markdown(f"**Warning:** {say('en', metrics['sparsity_warning'])}"))
pd.Series({k: v for k, v in metrics.items() if not isinstance(v, (dict, list))}).to_frame(target)

# %% [markdown]
# ## Pruning ratios and val mAP right after pruning, with and without the beta fold

# %%
display(pd.read_csv(files.ratios))
pd.DataFrame({"with fold": metrics["val_fold"], "without fold": metrics["val_nofold"]})

# %% [markdown]
# ## Groups a rule kept whole

# %%
pd.DataFrame(metrics["unpruned_groups"], columns=["layers", "reason"])

# %% [markdown]
# ## Sparsity per layer and the |gamma| distribution

# %%
for name in ("sparsity", "gamma_hist"):
    display(Image(filename=str(files.figure(name))))

# %% [markdown]
# ## Per layer

# %%
pd.read_csv(files.layers)

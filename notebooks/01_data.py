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
# # 01 · Data: checks and split
#
# The data stage checks the data set (the configured `data.root`, or the embedded synthetic code set), splits
# every source train:val:test by the configured ratios (train and val rounded half up, test gets the rest, seeded
# shuffle) and writes the lists, `data.yaml` and the tables under `runs/<config>/data/`. A split whose key and data
# set are unchanged is not written again: its tables and figures are read back.

# %% tags=["parameters"]
config = "../params/demo.yaml"

# %%
import pandas as pd
from IPython.display import Image, Markdown, display
from yoloslim.config import load_config
from yoloslim.data.figures import format_tree, split_table
from yoloslim.data.split import run_split

cfg = load_config(config)
result = run_split(cfg)

# %% [markdown]
# ## The data set: categories, sources and image counts

# %%
print(f"{result.root}\n{format_tree(result.counts)}")

# %% [markdown]
# ## The split per source

# %%
ratio = ":".join(f"{r:g}" for r in cfg.data.split)
display(Markdown(f"train:val:test = {ratio} per source, seed {cfg.data.split_seed}; lists in `{result.files.dir}`"))
split_table(result.counts)

# %%
Image(filename=str(result.files.figure("split")))

# %% [markdown]
# ## Sample training images with their boxes

# %%
Image(filename=str(result.files.figure("samples")))

# %% [markdown]
# ## Problems found by the checks

# %%
display(pd.Series(result.checks, name="value").to_frame())
problems = pd.read_csv(result.files.problems)
problems if len(problems) else Markdown("No problems found: every image and label passed the checks.")

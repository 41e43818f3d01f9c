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
# # 02 · Training: base model and uniform-width baselines
#
# Trains `model` (`base`, or a variant named in the config's `train.variants`) with Ultralytics. The full training
# output goes to `train.log` in the stage folder and to the terminal running this notebook; only a summary is kept
# here. A finished training with unchanged parameters is not run again; an interrupted one resumes.

# %% tags=["parameters"]
config = "../params/demo.yaml"
model = "base"

# %%
from IPython.display import Image, display
from yoloslim.config import load_config
from yoloslim.paths import TrainFiles
from yoloslim.train.base import run_train, summary_table
from yoloslim.train.figures import write_train_figures
from yoloslim.train.runner import read_metrics

cfg = load_config(config)

# %% [markdown]
# ## Training and its final metrics

# %%
stage = run_train(cfg, model)
print(f"{model}: {TrainFiles(stage).weights} (full log: {TrainFiles(stage).log})")
read_metrics(stage)

# %% [markdown]
# ## Learning curves
#
# The trained models side by side: the table below.

# %%
for path in write_train_figures(cfg, model):
    display(Image(str(path)))

# %% [markdown]
# ## Trained models

# %%
summary_table(cfg)

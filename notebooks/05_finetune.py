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
# # 05 · Fine-tuning a pruned model
#
# Retrains the pruned model `finetuned` as it is: `<target>` fine-tunes the pruned weights, `<target>-scratch`
# re-initializes them. The architecture after training is checked to equal the pruned one. Full training output:
# `train.log`.

# %% tags=["parameters"]
config = "../params/demo.yaml"
finetuned = "small"

# %%
from IPython.display import Image, display
from yoloslim.config import load_config
from yoloslim.paths import TrainFiles
from yoloslim.train.figures import write_finetune_figures
from yoloslim.train.finetune import finetune_summary, run_finetune
from yoloslim.train.runner import read_metrics

cfg = load_config(config)

# %% [markdown]
# ## Fine-tuning and its final metrics

# %%
stage = run_finetune(cfg, finetuned)
metrics = read_metrics(stage)
print(f"{finetuned}: {TrainFiles(stage).weights} (full log: {TrainFiles(stage).log})")
print(f"{len(metrics['channels'])} convolutions, the same channels as the pruned model")
{k: v for k, v in metrics.items() if k != "channels"}

# %% [markdown]
# ## Learning curves
#
# Against the uniform-width baselines: the table below.

# %%
for path in write_finetune_figures(cfg, finetuned):
    display(Image(str(path)))

# %% [markdown]
# ## Fine-tuned model against the uniform-width baselines

# %%
finetune_summary(cfg, finetuned)

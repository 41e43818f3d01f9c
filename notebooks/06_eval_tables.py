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
# # 06 · Evaluation: the study's tables
#
# Gathers every model's evaluation (`06_eval`) into the study's tables under `runs/<config>/eval/` and the
# comparison figure; models whose weights exist but lack up-to-date metrics are evaluated first. The interleaved
# latency measures every model in one process.

# %% tags=["parameters"]
config = "../params/demo.yaml"

# %%
from IPython.display import Image, Markdown, display
from yoloslim.config import load_config
from yoloslim.eval.stage import evaluate_study

cfg = load_config(config)

# %% [markdown]
# ## The study's tables

# %%
tables, figure = evaluate_study(cfg)
for title, table in tables.items():
    display(Markdown(f"### {title}"), table)

# %% [markdown]
# ## Accuracy, size and latency of every model

# %%
Image(filename=str(figure))

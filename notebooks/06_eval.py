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
# # 06 · Evaluation of one model
#
# Model `model` measured as every model of the study is: accuracy per class (val and test, at `eval.conf`), the
# delta against the base model, checkpoint and ONNX size, params, GFLOPs, the precision each engine runs it in, its
# INT8 accuracy, and the decode rate of the detected codes where the data set has code classes (`eval.decode`).
# Nothing here is timed, so an evaluation runs beside the fine-tunes: the study's tables, `06_eval_tables`, time
# every model interleaved on each engine with nothing else running, and judge the latency budget. On a finished
# study, the model's latency, budget mark and ONNX operator profile are shown from those tables.

# %% tags=["parameters"]
config = "../params/demo.yaml"
model = "base"

# %%
from IPython.display import Markdown, display
from yoloslim.config import load_config
from yoloslim.eval.stage import evaluate_model

cfg = load_config(config)

# %% [markdown]
# ## Its tables

# %%
for title, table in evaluate_model(cfg, model).items():
    display(Markdown(f"### {title}"), table)

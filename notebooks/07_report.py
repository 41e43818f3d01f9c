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
# # 07 · Report
#
# The study's report, read only from the stages' results files (docs/outputs.md), in the original report's
# structure. The markdown cells below the parameters are the report's words; the sentences with numbers are the
# code cells' outputs (`yoloslim.report`). `python -m yoloslim.report.build` turns the executed notebook into the
# HTML and PDF report: the markdown from the parameters on and the outputs, without code, in `report.lang` (the
# Chinese markdown is in `yoloslim/report/07_report.zh.yaml`).

# %% tags=["parameters"]
config = "../params/demo.yaml"

# %%
from yoloslim.config import load_config
from yoloslim.data.figures import format_tree, split_table
from yoloslim.report.data import (
    MAP_COLUMN,
    accuracy_tables,
    budget_facts,
    budget_label,
    budget_of,
    ceiling_notes,
    convergence_curves,
    convergence_table,
    data_facts,
    decode_table,
    environment_table,
    gamma_fractions,
    interleaved_table,
    load_report_data,
    model_table,
    operator_table,
    prune_facts,
    ratio_table,
    search_facts,
    sparse_facts,
    stop_sentence,
    test_only_facts,
    tradeoff_points,
    unmeasured_engines,
)
from yoloslim.report.summary import write_summary
from yoloslim.report.text import text
from yoloslim.report.view import (
    plot_convergence,
    plot_tradeoff,
    setup_fonts,
    show_figure,
    show_image,
    show_markdown,
    show_settings,
    show_table,
)
from yoloslim.stages import resolved_config

cfg = load_config(config)
lang = cfg.report.lang
setup_fonts(lang)
data = load_report_data(cfg)

# %%
show_markdown(f"# {text(lang, 'title', name=cfg.name)}\n\n{text(lang, 'intro', run=data.paths.run)}")

# %% [markdown]
# ## 1 Preparation
#
# ### 1.1 Environment

# %%
show_table(environment_table(data))
show_markdown(text(lang, "config_used", name=cfg.name, digest=cfg.digest()))
show_settings(resolved_config(cfg))

# %% [markdown]
# ### 1.2 Data set
#
# Data set tree (images per category and source):

# %%
show_markdown(f"```text\n{format_tree(data.counts)}\n```")
show_markdown(text(lang, "data_summary", **data_facts(data)))
test_only = test_only_facts(data)
if test_only:
    show_markdown(text(lang, "data_test_only", **test_only))
show_markdown(text(lang, "split", ratio=":".join(f"{r:g}" for r in cfg.data.split)))
show_table(split_table(data.counts), index=False)
show_image(data.paths.data.figure("split"), lang)

# %% [markdown]
# Sample images:

# %%
show_image(data.paths.data.figure("samples"), lang)

# %% [markdown]
# ## 2 Pruning

# %%
show_markdown(text(lang, "s2_intro", model=cfg.model.cfg, imgsz=cfg.train.imgsz, conf=cfg.eval.conf))

# %% [markdown]
# ### 2.1 Sparse training

# %%
show_markdown(text(lang, "sparse_text", **sparse_facts(data)))
show_markdown(text(lang, "budget_text", **budget_facts(data)) + " " + stop_sentence(data, lang))

# %% [markdown]
# Fraction of gammas under each absolute threshold, per epoch of sparse training:

# %%
show_table(gamma_fractions(data))
for name in ("sl_loss", "gamma_epochs", "map"):
    show_image(data.paths.sparse.figure(name), lang)

# %% [markdown]
# ### 2.2 Pruning
#
# #### 2.2.1 Sparsity distribution

# %%
for target in data.prune:
    facts = prune_facts(data, target)
    show_markdown(text(lang, "prune_text", **facts))
    if facts["unpruned"]:
        show_markdown(text(lang, "unpruned", groups=facts["unpruned"]))
    show_image(data.paths.prune(target).figure("sparsity"), lang)
    search = search_facts(data, target)
    if search:
        show_markdown(text(lang, "search_text", **search))
        show_image(data.paths.prune(target).figure("search"), lang)

# %% [markdown]
# #### 2.2.2 Pruning ratio
#
# Pruned fraction of channels and parameters per part. Uniform-width baselines are compared with the base model's
# channels and parameters.

# %%
show_table(ratio_table(data), percent=True)

# %% [markdown]
# ### 2.3 Fine-tuning: validation set

# %%
for caption, table in accuracy_tables(data, "val", lang):
    show_markdown(caption)
    show_table(table)

# %% [markdown]
# Fine-tuning convergence (validation mmAP per epoch, Ultralytics' val over all detections, conf 0.001):

# %%
show_figure(plot_convergence(convergence_curves(data), MAP_COLUMN, lang))
headers = {key: text(lang, key) for key in ("epochs_to_90", "final")}
show_table(convergence_table(data).rename(columns=headers))

# %% [markdown]
# ### 2.4 Results
#
# #### 2.4.1 Test set

# %%
if "test" in set(data.accuracy["split"]):
    for caption, table in accuracy_tables(data, "test", lang):
        show_markdown(caption)
        show_table(table)
show_image(data.paths.eval_tables.figure("compare"), lang)

# %% [markdown]
# #### 2.4.2 Size, parameters, speed and FLOPs

# %%
engine, budget = budget_of(data)
show_markdown(text(lang, "budget_note", budget=budget_label(data, lang), engine=engine))
show_table(model_table(data, lang), digits=2)
show_markdown(text(lang, "interleaved_note", runs=cfg.eval.latency.runs))
show_table(interleaved_table(data))

# %% [markdown]
# Where ONNX Runtime's CPU time goes (ms per inference, from its profiler): the convolutions shrink with the
# channels; concatenations, splits, resizes, the Detect head's reshapes and the time between operators shrink
# less, which is why latency falls less than FLOPs.

# %%
show_table(operator_table(data), digits=3)
if unmeasured_engines(data):
    show_markdown(text(lang, "not_measured", what=", ".join(f"`{e}`" for e in unmeasured_engines(data))))

# %% [markdown]
# Decode rate per class on the test set: decoded codes / ground-truth codes (`/ gt`), and / codes that decode
# when cropped at their own ground-truth box (`/ decodable`, the data's ceiling):

# %%
show_table(decode_table(data), percent=True)
for note in ceiling_notes(data, lang):
    show_markdown(note)

# %% [markdown]
# Accuracy against latency and FLOPs; the line joins the Pareto front.

# %%
points = tradeoff_points(data)
show_figure(plot_tradeoff(points, "latency_ms", budget, lang, engine=engine))
show_figure(plot_tradeoff(points, "gflops", None, lang))

# %% [markdown]
# ## 3 Summary

# %%
show_markdown(write_summary(data, lang))

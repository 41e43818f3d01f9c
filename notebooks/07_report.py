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
# structure. Below the parameters, every word the report shows is a code cell's output in `report.lang`: headings,
# explanations, the sentences with numbers, the tables and figures, each text by its id in `yoloslim.text`.
# `python -m yoloslim.report.build` turns the executed notebook into the HTML and PDF report: the outputs from the
# parameters on, without code.

# %% tags=["parameters"]
config = "../params/demo.yaml"

# %%
from yoloslim.config import load_config
from yoloslim.data.figures import format_tree, split_table
from yoloslim.report.answer import answer_markdown, answer_table
from yoloslim.report.data import (
    INTERVAL_COLUMNS,
    MAP_COLUMN,
    base_sentence,
    budget_facts,
    budget_label,
    budget_of,
    ceiling_notes,
    convergence_curves,
    convergence_table,
    data_facts,
    decode_intro,
    decode_table,
    engine_points,
    engine_table,
    environment_table,
    gamma_fractions,
    has_decode,
    int8_tables,
    interleaved_caption,
    interleaved_table,
    load_report_data,
    measured_engines,
    model_table,
    operator_table,
    prune_facts,
    ratio_table,
    report_split,
    search_facts,
    sparse_facts,
    split_sentences,
    stop_sentence,
    test_only_facts,
    tradeoff_points,
    unmeasured_engines,
)
from yoloslim.report.recipes import recipe_table
from yoloslim.report.summary import summary_markdown
from yoloslim.report.view import (
    plot_convergence,
    plot_engine_fronts,
    plot_tradeoff,
    setup_fonts,
    show_accuracy,
    show_figure,
    show_image,
    show_markdown,
    show_page_end,
    show_settings,
    show_table,
)
from yoloslim.stages import resolved_config
from yoloslim.text import text

cfg = load_config(config)
lang = cfg.report.lang
setup_fonts(lang)
data = load_report_data(cfg)

# %%
show_markdown(f"# {text(lang, 'title', name=cfg.name)}\n\n{text(lang, 'intro', run=data.paths.run)}")
show_markdown(answer_markdown(data, lang))  # the answer first, on the title's page
show_table(answer_table(data, lang))
engine, budget = budget_of(data)
show_figure(plot_tradeoff(tradeoff_points(data), "latency_ms", budget, lang, engine=engine, size=(5.6, 2.4)))
show_page_end()

# %%
show_markdown(text(lang, "s1_preparation"))
show_table(environment_table(data, lang))
show_markdown(text(lang, "config_used", name=cfg.name, digest=cfg.digest()))
show_settings(resolved_config(cfg))

# %%
show_markdown(text(lang, "s1_2_data"))
show_markdown(f"```text\n{format_tree(data.counts)}\n```")
show_markdown(text(lang, "data_summary", **data_facts(data, lang)))
test_only = test_only_facts(data)
if test_only:
    show_markdown(text(lang, "data_test_only", **test_only))
show_markdown(split_sentences(data, lang))
show_table(split_table(data.counts), index=False)
show_image(data.paths.data.figure("split"), lang)

# %%
show_markdown(text(lang, "samples_intro"))
show_image(data.paths.data.figure("samples"), lang)

# %%
show_markdown(text(lang, "s2_pruning"))
show_markdown(text(lang, "s2_intro", model=cfg.base_label, imgsz=cfg.train.imgsz, conf=cfg.eval.conf))
base_from = base_sentence(data, lang)
if base_from:
    show_markdown(base_from)

# %%
show_markdown(text(lang, "s2_1_sparse"))
show_markdown(text(lang, "sparse_text", **sparse_facts(data)))
show_markdown(text(lang, "budget_text", **budget_facts(data)) + " " + stop_sentence(data, lang))

# %%
show_markdown(text(lang, "gamma_fractions_intro"))
show_table(gamma_fractions(data, lang))
for name in ("sl_loss", "gamma_epochs", "map"):
    show_image(data.paths.sparse.figure(name), lang)

# %%
show_markdown(text(lang, "s2_2_pruning"))
for target in data.prune:
    facts = prune_facts(data, target, lang)
    show_markdown(text(lang, "prune_text", **facts))
    if facts["unpruned"]:
        show_markdown(text(lang, "unpruned", groups=facts["unpruned"]))
    show_image(data.paths.prune(target).figure("sparsity"), lang)
    search = search_facts(data, target, lang)
    if search:
        show_markdown(text(lang, "search_text", **search))
        show_image(data.paths.prune(target).figure("search"), lang)

# %%
show_markdown(text(lang, "s2_2_2_ratio"))
show_table(ratio_table(data), percent=True)

# %%
show_markdown(text(lang, "s2_3_finetune"))
show_accuracy(data, "val", lang)

# %%
show_markdown(text(lang, "convergence_intro"))
show_figure(plot_convergence(convergence_curves(data), MAP_COLUMN, lang))
headers = {key: text(lang, key) for key in ("kind", "epochs", "epochs_to_90", "final")}
show_table(convergence_table(data).rename(columns=headers))

# %%
if cfg.finetune.compare:  # the fine-tune recipes at equal cost (yoloslim.report.recipes)
    split = report_split(data)
    show_markdown(text(lang, "recipes_intro", split=split, teacher=cfg.finetune.teacher,
                       weight=cfg.finetune.distill_weight, batch=cfg.train.batch))  # fmt: skip
    show_table(recipe_table(data, split, lang), digits=3)

# %%
show_markdown(text(lang, "s2_4_results"))
if "test" in set(data.accuracy["split"]):
    show_accuracy(data, "test", lang)
show_image(data.paths.eval_tables.figure("compare"), lang)

# %%
show_markdown(text(lang, "s2_4_2_size"))
engine, budget = budget_of(data)
show_markdown(text(lang, "budget_note", budget=budget_label(data, lang), engine=engine))
show_table(model_table(data, lang), digits=2)
show_markdown(interleaved_caption(data, lang))
show_table(interleaved_table(data, lang), max_columns=INTERVAL_COLUMNS)  # cells hold intervals

# %%
show_markdown(text(lang, "operators_intro"))
show_table(operator_table(data, lang), digits=3)
if unmeasured_engines(data):
    show_markdown(text(lang, "not_measured", what=", ".join(f"`{e}`" for e in unmeasured_engines(data))))

# %%
if has_decode(data):  # the code classes' decode rate (eval.decode); a study without code classes has none
    show_markdown(decode_intro(data, lang))
    show_table(decode_table(data), percent=True)
    for note in ceiling_notes(data, lang):
        show_markdown(note)

# %%
show_markdown(text(lang, "tradeoff_intro"))
points = tradeoff_points(data)
show_figure(plot_tradeoff(points, "latency_ms", budget, lang, engine=engine))
show_figure(plot_tradeoff(points, "gflops", None, lang))

# %%
show_markdown(text(lang, "s2_4_3_engines"))
show_markdown(text(lang, "engines_intro", calib=cfg.quant.calib_images))
show_table(engine_table(data, lang))
fronts = {engine: engine_points(data, engine) for engine in measured_engines(data)}
if len(fronts) > 1:
    show_markdown(text(lang, "engine_fronts_intro", split=report_split(data)))
    show_figure(plot_engine_fronts(fronts, lang))
int8 = int8_tables(data, lang)
if not int8:
    show_markdown(text(lang, "int8_none"))
for caption, table in int8:
    show_markdown(caption)
    show_table(table, digits=3)

# %%
show_markdown(text(lang, "s3_summary"))
show_markdown(summary_markdown(data, lang))

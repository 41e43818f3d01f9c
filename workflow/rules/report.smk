# 07: the report notebook reads the stages' results files; nbconvert makes one offline HTML file,
# headless Chromium prints it to PDF where it is installed.


def report_inputs(wildcards=None):
    """Every results file the report reads (docs/outputs.md)."""
    return [
        *rules.data.output,
        *[str(P.train(m) / name) for m in ["base", *VARIANTS] for name in (WEIGHTS, RESULTS, METRICS)],
        *rules.sparse.output,
        *[str(P.prune(t) / name) for t in TARGETS for name in ("layers.csv", "ratios.csv", METRICS)],
        *[str(P.prune(t) / "figures" / "sparsity.png") for t in TARGETS],
        *[str(P.finetune(t, i) / name) for t, i in FINETUNED.values() for name in (RESULTS, METRICS)],
        *rules.eval_tables.output,
    ]


rule report:
    input:
        results=report_inputs,
        key=STAGE["report"],
        notebook=NOTEBOOKS / "07_report.ipynb",
        words=[] if CFG.report.lang == "en" else NOTEBOOKS / f"07_report.{CFG.report.lang}.yaml",
    output:
        html=REPORT_HTML,
    log:
        out("notebooks", "07_report.ipynb"),
    threads: 1
    shell:
        notebook("07_report")
        + f" && {BIN}/python -m yoloslim.report.build {{log}} {{output.html}} --lang {CFG.report.lang}"
        + ("" if CFG.report.pdf else " --no-pdf")

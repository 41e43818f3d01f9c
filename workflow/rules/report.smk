# 07: the report notebook reads the stages' results files; nbconvert makes one offline HTML file,
# headless Chromium prints it to PDF where it is installed.


def report_inputs(wildcards=None):
    """Every results file the report reads (docs/outputs.md)."""
    return [
        *rules.data.output,
        *[str(p) for m in ["base", *VARIANTS] for p in (P.train(m).weights, P.train(m).results, P.train(m).metrics)],
        *rules.sparse.output,
        *[str(p) for t in TARGETS for p in (P.prune(t).layers, P.prune(t).ratios, P.prune(t).metrics)],
        *[str(P.prune(t).figure("sparsity")) for t in TARGETS],
        *[str(p) for m in FINETUNED for p in (P.finetune(m).results, P.finetune(m).metrics)],
        *rules.eval_tables.output,
    ]


rule report:
    input:
        results=report_inputs,
        key=STAGE["report"],
        notebook=NOTEBOOKS / "07_report.ipynb",
        words=package_file(f"text/{CFG.report.lang}.py"),  # the report's words (yoloslim.text)
    output:
        html=REPORT_HTML,
    log:
        str(P.notebook("07_report")),
    threads: 1
    shell:
        notebook("07_report")
        + f" && {BIN}/python -m yoloslim.report.build {{log}} {{output.html}} --lang {CFG.report.lang}"
        + ("" if CFG.report.pdf else " --no-pdf")

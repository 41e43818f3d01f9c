# yoloslim: one study per params file, every stage a papermill-executed notebook.
#   .venv/bin/snakemake --cores 2 --config params=params/smoke.yaml --printshellcmds
# The rules live in workflow/rules/; docs/outputs.md lists every stage's outputs.

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/prune.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        REPORT_HTML,

# 06: each model measured alone (06_eval: all cores, so latency is not disturbed; eval.latency.threads when set),
# then the study's tables (06_eval_tables).


rule eval_model:
    input:
        data=rules.data.output.yaml,
        weights=lambda w: str(MODELS[w.item].weights),
        key=lambda w: STAGE[f"eval_{w.item}"],
        notebook=NOTEBOOKS / "06_eval.ipynb",
    output:
        metrics=out("eval", "{item}", METRICS),
    log:
        out("notebooks", "06_eval_{item}.ipynb"),
    wildcard_constraints:
        item="|".join(MODELS),
    threads: EVAL_THREADS
    resources:
        gpu=min(TRAIN_GPUS, 1),
    shell:
        notebook("06_eval", "{wildcards.item}", gpus=min(TRAIN_GPUS, 1))


rule eval_tables:
    input:
        metrics=expand(out("eval", "{item}", METRICS), item=MODELS),
        key=STAGE["eval_tables"],
        notebook=NOTEBOOKS / "06_eval_tables.ipynb",
    output:
        tables=expand(
            out("eval", "{name}"),
            name=[
                "accuracy.csv",
                "accuracy.json",
                "models.csv",
                "decode.csv",
                "onnx_operators.csv",
                "latency_interleaved.csv",
                "environment.json",
            ],
        ),
        figures=out("eval", "figures", "compare.png"),
    log:
        out("notebooks", "06_eval_tables.ipynb"),
    threads: EVAL_THREADS  # the interleaved latency of every model, measured alone
    shell:
        notebook("06_eval_tables")

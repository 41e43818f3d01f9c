# 06: each model measured alone (06_eval: all cores, so latency is not disturbed; eval.latency.threads when set),
# then the study's tables (06_eval_tables).


rule eval_model:
    input:
        data=rules.data.output.yaml,
        weights=lambda w: str(MODELS[w.model].weights),
        runs=lambda w: [str(P.finetune(run).weights) for run in seed_runs(CFG, w.model)[1:]],  # finetune.seeds
        key=lambda w: STAGE[f"eval_{w.model}"],
        notebook=NOTEBOOKS / "06_eval.ipynb",
    output:
        metrics=str(P.eval("{model}").metrics),
    log:
        str(P.notebook("06_eval_{model}")),
    wildcard_constraints:
        model="|".join(MODELS),
    threads: TRAIN_THREADS  # accuracy, exports, INT8 and decode rate: nothing timed (the tables time every model)
    resources:
        gpu=min(TRAIN_GPUS, 1),
    shell:
        notebook("06_eval", model="{wildcards.model}", gpus=min(TRAIN_GPUS, 1))


rule eval_tables:
    input:
        metrics=[str(P.eval(model).metrics) for model in MODELS],
        key=STAGE["eval_tables"],
        notebook=NOTEBOOKS / "06_eval_tables.ipynb",
    output:
        tables=[
            str(path)
            for path in (T.accuracy, T.accuracy_json, T.models, T.decode, T.operators, T.interleaved, T.environment,
                         T.seeds)
        ],
        figures=str(T.figure("compare")),
    log:
        str(P.notebook("06_eval_tables")),
    threads: TIMING_THREADS  # the interleaved latency and operator profile of every model, measured alone
    shell:
        notebook("06_eval_tables")

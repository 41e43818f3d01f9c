# 04: one pruned model per threshold (or fraction); 05: each pruned model fine-tuned (or re-initialized).


rule prune:
    input:
        data=rules.data.output.yaml,
        sparse=rules.sparse.output.weights,
        key=lambda w: STAGE[f"prune_{w.item}"],
        notebook=NOTEBOOKS / "04_prune.ipynb",
    output:
        weights=out("prune", "{item}", WEIGHTS),
        tables=expand(out("prune", "{{item}}", "{name}.csv"), name=["layers", "ratios"]),
        metrics=out("prune", "{item}", METRICS),
        figures=expand(out("prune", "{{item}}", "figures", "{name}.png"), name=["sparsity", "gamma_hist"]),
    log:
        out("notebooks", "04_prune_{item}.ipynb"),
    wildcard_constraints:
        item="|".join(t for t in TARGETS if t not in LATENCY) or "^$",
    threads: 1
    priority: 1  # before the evaluations: the chain base -> sparse -> prune -> fine-tune is the long path
    shell:
        notebook("04_prune", "{wildcards.item}")


rule prune_latency:  # a latency-budget target: the search times candidates against the base model, alone
    input:
        data=rules.data.output.yaml,
        sparse=rules.sparse.output.weights,
        base=out("train", "base", WEIGHTS),
        key=lambda w: STAGE[f"prune_{w.item}"],
        notebook=NOTEBOOKS / "04_prune.ipynb",
    output:
        weights=out("prune", "{item}", WEIGHTS),
        tables=expand(out("prune", "{{item}}", "{name}.csv"), name=["layers", "ratios", "search"]),
        metrics=out("prune", "{item}", METRICS),
        figures=expand(out("prune", "{{item}}", "figures", "{name}.png"), name=["sparsity", "gamma_hist", "search"]),
    log:
        out("notebooks", "04_prune_{item}.ipynb"),
    wildcard_constraints:
        item="|".join(LATENCY) or "^$",
    threads: EVAL_THREADS  # timed like an evaluation: with nothing else running
    priority: 1
    shell:
        notebook("04_prune", "{wildcards.item}")


rule finetune:
    input:
        data=rules.data.output.yaml,
        pruned=lambda w: out("prune", FINETUNED[w.item][0], WEIGHTS),
        key=lambda w: STAGE[f"finetune_{w.item}"],
        notebook=NOTEBOOKS / "05_finetune.ipynb",
    output:
        weights=out("finetune", "{item}", WEIGHTS),
        results=out("finetune", "{item}", RESULTS),
        metrics=out("finetune", "{item}", METRICS),
    log:
        out("notebooks", "05_finetune_{item}.ipynb"),
    wildcard_constraints:
        item="|".join(FINETUNED),
    threads: TRAIN_THREADS
    priority: 1  # before the evaluations: the chain base -> sparse -> prune -> fine-tune is the long path
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("05_finetune", "{wildcards.item}", gpus=TRAIN_GPUS)

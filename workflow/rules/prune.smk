# 04: one pruned model per threshold (or fraction); 05: each pruned model fine-tuned (or re-initialized).


rule prune:
    input:
        data=rules.data.output.yaml,
        sparse=rules.sparse.output.weights,
        key=lambda w: STAGE[f"prune_{w.target}"],
        notebook=NOTEBOOKS / "04_prune.ipynb",
    output:
        weights=str(P.prune("{target}").weights),
        tables=[str(PRUNED.layers), str(PRUNED.ratios)],
        metrics=str(P.prune("{target}").metrics),
        figures=[str(PRUNED.figure(name)) for name in ("sparsity", "gamma_hist")],
    log:
        str(P.notebook("04_prune_{target}")),
    wildcard_constraints:
        target="|".join(t for t in TARGETS if t not in LATENCY) or "^$",
    threads: 1
    priority: lambda w: PRUNE_PRIORITY.get(w.target, 1)  # before the evaluations, the longest fine-tune's first
    shell:
        notebook("04_prune", target="{wildcards.target}")


rule prune_latency:  # a latency-budget target: the search times candidates against the base model, alone
    input:
        data=rules.data.output.yaml,
        sparse=rules.sparse.output.weights,
        base=str(P.train("base").weights),
        key=lambda w: STAGE[f"prune_{w.target}"],
        notebook=NOTEBOOKS / "04_prune.ipynb",
    output:
        weights=str(P.prune("{target}").weights),
        tables=[str(PRUNED.layers), str(PRUNED.ratios), str(PRUNED.search)],
        metrics=str(P.prune("{target}").metrics),
        figures=[str(PRUNED.figure(name)) for name in ("sparsity", "gamma_hist", "search")],
    log:
        str(P.notebook("04_prune_{target}")),
    wildcard_constraints:
        target="|".join(LATENCY) or "^$",
    threads: TIMING_THREADS  # timed like the study's tables: with nothing else running
    priority: lambda w: PRUNE_PRIORITY.get(w.target, 1)
    shell:
        notebook("04_prune", target="{wildcards.target}")


rule finetune:
    input:
        data=rules.data.output.yaml,
        pruned=lambda w: str(P.prune(FINETUNED[w.finetuned][0]).weights),
        teacher=lambda w: [str(t) for t in [teacher_weights(CFG, FINETUNED[w.finetuned][1])] if t],
        key=lambda w: STAGE[f"finetune_{w.finetuned}"],
        notebook=NOTEBOOKS / "05_finetune.ipynb",
    output:
        weights=str(P.finetune("{finetuned}").weights),
        results=str(P.finetune("{finetuned}").results),
        metrics=str(P.finetune("{finetuned}").metrics),
    log:
        str(P.notebook("05_finetune_{finetuned}")),
    wildcard_constraints:
        finetuned="|".join(FINETUNED),
    threads: TRAIN_THREADS
    priority: lambda w: FINETUNE_PRIORITY[w.finetuned]  # before the evaluations, the longest first (job_priorities)
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("05_finetune", finetuned="{wildcards.finetuned}", gpus=TRAIN_GPUS)

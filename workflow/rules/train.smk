# 02: the base model and the uniform-width baselines; 03: sparse training (L1 on BN gammas).


rule train:
    input:
        data=rules.data.output.yaml,
        key=STAGE["train_base"],
        notebook=NOTEBOOKS / "02_train.ipynb",
    output:
        weights=str(P.train("base").weights),
        results=str(P.train("base").results),
        metrics=str(P.train("base").metrics),
    log:
        str(P.notebook("02_train_base")),
    threads: BASE_THREADS
    priority: 2  # first: the chain base -> sparse -> prune -> fine-tune is the long path
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("02_train", model="base", gpus=TRAIN_GPUS)


rule train_variant:
    input:
        data=rules.data.output.yaml,
        key=lambda w: STAGE[f"train_{w.model}"],
        notebook=NOTEBOOKS / "02_train.ipynb",
    output:
        weights=str(P.train("{model}").weights),
        results=str(P.train("{model}").results),
        metrics=str(P.train("{model}").metrics),
    log:
        str(P.notebook("02_train_{model}")),
    wildcard_constraints:
        model="|".join(VARIANTS) or "^$",
    threads: TRAIN_THREADS
    priority: 1  # before the evaluations, after the base model: they train beside sparse training
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("02_train", model="{wildcards.model}", gpus=TRAIN_GPUS)


rule sparse:
    input:
        data=rules.data.output.yaml,
        base=[str(P.train("base").weights)] if CFG.sparse.start == "base" else [],
        key=STAGE["sparse"],
        notebook=NOTEBOOKS / "03_sparse.ipynb",
    output:
        weights=str(P.sparse.weights),
        results=str(P.sparse.results),
        metrics=str(P.sparse.metrics),
        logs=[str(P.sparse.gamma_log), str(P.sparse.gamma_hist)],
        gammas=str(P.sparse.gammas),
        figures=[str(P.sparse.figure(name)) for name in ("sl_loss", "gamma_epochs", "map")],
    log:
        str(P.notebook("03_sparse")),
    threads: TRAIN_THREADS
    priority: 1  # before the evaluations: the chain base -> sparse -> prune -> fine-tune is the long path
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("03_sparse", gpus=TRAIN_GPUS)

# 02: the base model and the uniform-width baselines; 03: sparse training (L1 on BN gammas).


rule train:
    input:
        data=rules.data.output.yaml,
        key=STAGE["train_base"],
        notebook=NOTEBOOKS / "02_train.ipynb",
    output:
        weights=out("train", "base", WEIGHTS),
        results=out("train", "base", RESULTS),
        metrics=out("train", "base", METRICS),
    log:
        out("notebooks", "02_train_base.ipynb"),
    threads: BASE_THREADS
    priority: 2  # first: the chain base -> sparse -> prune -> fine-tune is the long path
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("02_train", "base", gpus=TRAIN_GPUS)


rule train_variant:
    input:
        data=rules.data.output.yaml,
        key=lambda w: STAGE[f"train_{w.item}"],
        notebook=NOTEBOOKS / "02_train.ipynb",
    output:
        weights=out("train", "{item}", WEIGHTS),
        results=out("train", "{item}", RESULTS),
        metrics=out("train", "{item}", METRICS),
    log:
        out("notebooks", "02_train_{item}.ipynb"),
    wildcard_constraints:
        item="|".join(VARIANTS) or "^$",
    threads: TRAIN_THREADS
    priority: 1  # before the evaluations, after the base model: they train beside sparse training
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("02_train", "{wildcards.item}", gpus=TRAIN_GPUS)


rule sparse:
    input:
        data=rules.data.output.yaml,
        base=[out("train", "base", WEIGHTS)] if CFG.sparse.start == "base" else [],
        key=STAGE["sparse"],
        notebook=NOTEBOOKS / "03_sparse.ipynb",
    output:
        weights=out("sparse", WEIGHTS),
        results=out("sparse", RESULTS),
        metrics=out("sparse", METRICS),
        logs=expand(out("sparse", "{name}.csv"), name=["gamma_log", "gamma_hist"]),
        gammas=out("sparse", "gammas.npz"),
        figures=expand(out("sparse", "figures", "{name}.png"), name=["sl_loss", "gamma_epochs", "map"]),
    log:
        out("notebooks", "03_sparse.ipynb"),
    threads: TRAIN_THREADS
    priority: 1  # before the evaluations: the chain base -> sparse -> prune -> fine-tune is the long path
    resources:
        gpu=TRAIN_GPUS,
    shell:
        notebook("03_sparse", gpus=TRAIN_GPUS)

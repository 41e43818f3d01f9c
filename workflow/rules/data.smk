# 01: render (or read) the data set, check it, split every source train:val:test.


rule data:
    input:
        key=STAGE["data"],
        notebook=NOTEBOOKS / "01_data.ipynb",
    output:
        yaml=out("data", "data.yaml"),
        lists=expand(out("data", "{split}.txt"), split=["train", "val", "test"]),
        tables=expand(out("data", "{name}"), name=["counts.csv", "problems.csv", "summary.json"]),
        figures=expand(out("data", "figures", "{name}.png"), name=["split", "samples"]),
    log:
        out("notebooks", "01_data.ipynb"),
    threads: workflow.cores  # the synthetic set renders on every core (nothing else can run before it)
    shell:
        notebook("01_data")

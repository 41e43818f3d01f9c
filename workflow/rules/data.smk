# 01: render (or read) the data set, check it, split every source train:val:test.


rule data:
    input:
        key=STAGE["data"],
        notebook=NOTEBOOKS / "01_data.ipynb",
    output:
        yaml=str(P.data.yaml),
        lists=[str(P.data.split_list(split)) for split in ("train", "val", "test")],
        tables=[str(P.data.counts), str(P.data.problems), str(P.data.summary)],
        figures=[str(P.data.figure(name)) for name in ("split", "samples")],
    log:
        str(P.notebook("01_data")),
    threads: workflow.cores  # the synthetic set renders on every core (nothing else can run before it)
    shell:
        notebook("01_data")

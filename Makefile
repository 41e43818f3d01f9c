# yoloslim: every command sets up what it needs, idempotently. `make help` lists them.
CONFIG ?= params/demo.yaml
BENCH ?= params/bench.yaml
CORES ?= 2
PY := .venv/bin/python
STAMP := .venv/.setup-done
SETUP_GB := 8
export MPLBACKEND := Agg

.PHONY: help setup system-deps report test bench reliability lint clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv with the pinned dependencies (seconds when already done)

$(STAMP): pyproject.toml
	@# a new .venv takes 6.9 GB (PyTorch's CUDA build): too little space stops here, not in the middle of pip
	@test -x $(PY) || df -Pk . | awk -v need=$(SETUP_GB) 'NR == 2 && $$4 < need * 1048576 { \
		printf "make setup: .venv needs about %d GB and %s has %.1f GB free: free some space and run the command again\n", \
		need, "$(CURDIR)", $$4 / 1048576; exit 1 }'
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	@# bytecode compiled on every core afterwards: pip compiles one file at a time (about 90 s of CPU here)
	$(PY) -m pip install --quiet --no-compile -e '.[dev]'
	@# the packages' own test folders are never imported: 44 s instead of 62 s here (docs/calibration.md)
	$(PY) -m compileall -qq -j 0 -x '/tests?/' .venv/lib || true  # a file that does not compile (a template) is read as source
	touch $@

system-deps:  ## best effort: Debian's chromium (PDF) and Noto CJK fonts (Chinese reports)
	@bash lib/yoloslim/templates/install_system_deps.sh

report: setup system-deps  ## run the study of CONFIG (default: the synthetic demo) and build its report; GPUS=N shares N GPUs
	@# Snakemake with a stale lock cleared first; a run that a full disk stopped ends with one message saying so
	@$(PY) -m yoloslim.jobs.run $(abspath $(CONFIG)) --cores $(CORES) $(if $(GPUS),--gpus $(GPUS))

test: setup system-deps  ## run the test suite, including the smoke study end to end, on CORES workers
	@# one thread per worker: two workers of two OpenMP threads each on 2 cores stall at every barrier
	@# (docs/calibration.md, "make test's time"); Snakemake sets each job's own OMP_NUM_THREADS in the end-to-end test
	@# the package's bytecode first: where PYTHONDONTWRITEBYTECODE is set, every process would compile it again
	@$(PY) -m compileall -q lib
	OMP_NUM_THREADS=1 .venv/bin/pytest -q -n $(CORES) --dist worksteal

bench: setup system-deps  ## the side-by-side study (BENCH: yoloslim against Torch-Pruning, width, input size), then latency/FLOPs
	@$(MAKE) --no-print-directory report CONFIG=$(BENCH)
	$(PY) -m yoloslim.cli bench --config $(BENCH)

reliability: setup system-deps  ## SIGKILL, then fill the disk under, the smoke study in each stage; rerun `make report` each time
	$(PY) -m yoloslim.jobs.reliability

lint: setup  ## ruff
	.venv/bin/ruff check lib tests workflow notebooks

clean:  ## remove generated runs and reports (keeps .venv)
	rm -rf runs reports .snakemake

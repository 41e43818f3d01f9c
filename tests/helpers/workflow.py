"""Running Snakemake from the tests: the venv's executable, a dry run, and its job counts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from yoloslim.config import ROOT

SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def dry_run(params: Path, *extra: str) -> str:
    """`snakemake -n` of a study (outputs under $YOLOSLIM_OUT); its output, asserting success."""
    done = subprocess.run(
        [SNAKEMAKE, "-n", "--snakefile", ROOT / "Snakefile", "--cores", "2", "--config", f"params={params}", *extra],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a Snakemake run: rule -> job count."""
    table = output[output.index("Job stats:") :].split("\n\n")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M) if m[1] != "total"}

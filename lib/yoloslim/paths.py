"""Every output path of a study, built in one place.

    runs/<config>/
        config.yaml                   the resolved configuration
        params/<stage>.yaml           each stage's own section (the Snakemake cache key)
        synth/                        the synthetic data set, when data.root is not set
        data/                         split lists, data.yaml, counts.csv, problems.csv
        train/<model>/                base model and uniform-width variants
        sparse/                       the sparse-trained model and its gamma logs
        prune/<target>/               one pruned model per threshold or fraction
        finetune/<target>[-scratch]/  the pruned models retrained
        eval/<model>/                 one model's measurements; eval/*.csv the study's tables
        notebooks/                    executed stage notebooks
    reports/<config>/report.html, report.pdf

Inside a stage folder the artifact names are fixed: `weights.pt`, `metrics.json`, `results.csv`,
`layers.csv`, `figures/<what>.png`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yoloslim.config import Config

WEIGHTS = "weights.pt"  # the stage's model, loadable with plain ultralytics.YOLO(path)
METRICS = "metrics.json"  # the stage's numbers
RESULTS = "results.csv"  # per-epoch training log (Ultralytics' columns, plus ours)


@dataclass(frozen=True)
class StudyPaths:
    """Paths of one study's outputs; `StudyPaths.of(cfg)` is the only way stages find files."""

    run: Path
    report: Path

    @classmethod
    def of(cls, cfg: Config) -> StudyPaths:
        """The paths for a loaded configuration."""
        return cls(run=cfg.run_dir, report=cfg.report_dir)

    @property
    def synth(self) -> Path:
        """Root of the synthetic data set (category/source tree)."""
        return self.run / "synth"

    @property
    def synth_test(self) -> Path:
        """Root of the synthetic test-only images (data.synth.test_images), the same tree as `synth`."""
        return self.run / "synth_test"

    @property
    def data(self) -> Path:
        """Split stage output: train.txt, val.txt, test.txt, data.yaml, counts.csv, problems.csv."""
        return self.run / "data"

    @property
    def data_yaml(self) -> Path:
        """The Ultralytics data.yaml that every training and validation uses."""
        return self.data / "data.yaml"

    def train(self, model: str = "base") -> Path:
        """Folder of the base model (`base`) or of a uniform-width variant (its name)."""
        return self.run / "train" / model

    @property
    def sparse(self) -> Path:
        """Folder of the sparse-trained model."""
        return self.run / "sparse"

    def prune(self, target: str) -> Path:
        """Folder of one pruned model (`large`, `middle`, `small`, ...)."""
        return self.run / "prune" / target

    def finetune(self, target: str, init: str = "inherit") -> Path:
        """Folder of a fine-tuned pruned model; `-scratch` is appended for re-initialized ones."""
        return self.run / "finetune" / (target if init == "inherit" else f"{target}-{init}")

    def eval(self, model: str | None = None) -> Path:
        """The study's evaluation tables, or one model's measurements."""
        return self.run / "eval" if model is None else self.run / "eval" / model

    def notebook(self, stem: str) -> Path:
        """Where an executed stage notebook is kept."""
        return self.run / "notebooks" / f"{stem}.ipynb"

    def stage_params(self, stage: str) -> Path:
        """A stage's own resolved section of the config, rewritten only when it changes."""
        return self.run / "params" / f"{stage}.yaml"

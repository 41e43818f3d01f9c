"""Constants and readers that several floors of the package use, where every floor reaches them.

The core (the stage keys, so every Snakemake parse) and the report read these without importing a stage: no
cv2, zxing-cpp or torch. numpy and pandas are loaded only when a reader runs.

    from yoloslim.shared import ACCURACY_METRICS, SYNTH_VERSION, fractions_under
    fractions_under(paths.sparse.gammas, {"small": 0.15})   # frac_under_small per logged epoch
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

SYNTH_VERSION = 2  # the synthetic renderer's (yoloslim.data.synth, .scene) part of the data stage's key: bump it
# when rendering changes, and the split stage renders the embedded set again
ACCURACY_METRICS = ("mAP50", "mAP50-95", "precision", "recall", "f1", "mAP50_conf", "mAP50-95_conf")  # per class
# and `all` in every model's accuracy (computed by yoloslim.measure.metrics); the eval stage's key names them
BETWEEN = "between operators"  # the per-operator profile's time that no operator's kernel accounts for (measure)
TEST_ONLY = "test_only"  # the mirror folder and counts.csv column of the synthetic test-only images (data stage)


def fractions_under(gammas_file: Path, thresholds: dict[str, float]) -> pd.DataFrame:
    """The fraction of penalized gammas under each threshold (name -> |gamma|), one row per epoch logged in
    `gammas.npz` (written by the sparse stage, `yoloslim.train.sparse`)."""
    import numpy as np
    import pandas as pd

    with np.load(gammas_file) as saved:
        epochs = {int(k.removeprefix("epoch_")): saved[k] for k in saved.files}
    rows = {e: {f"frac_under_{n}": float((g < v).mean()) if g.size else 0.0 for n, v in thresholds.items()}
            for e, g in sorted(epochs.items())}  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("epoch")

"""Writing the stages' figures: one helper, so every PNG is saved and released the same way.

A figure drawn from files (a training stage's results.csv, the sparse stage's gamma logs) keeps what it was drawn
from, a digest of those files and of what else it shows (`figure_key`), in its PNG metadata; `drawn_from` reads it
back, so a stage run again redraws a figure only when its sources changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from yoloslim.atomic import atomic_path
from yoloslim.stages import file_digest

KEY = "yoloslim-key"  # the PNG text chunk holding what a figure was drawn from


def save_figure(fig: Figure, path: str | Path, dpi: int = 110, key: str | None = None) -> Path:
    """Write `fig` as PNG (creating its folder) and release it, so a notebook shows only what it displays.

    Args:
        fig (Figure): The figure (closed in pyplot when pyplot made it).
        path (str | Path): The PNG file, written atomically.
        dpi (int): The resolution.
        key (str | None): What it was drawn from (`figure_key`), kept in the PNG's metadata for `drawn_from`; None:
            no key.

    Returns:
        (Path): `path`.
    """
    path = Path(path)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, metadata={KEY: key} if key else None)
    if fig.canvas.manager is not None:  # made through pyplot: drop it from pyplot's open figures
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def figure_key(sources: list[Path], **shown: Any) -> str:
    """What a figure is drawn from: the digests of its `sources` files and what else it `shown` (labels, a title)."""
    text = json.dumps({"sources": [file_digest(p) for p in sources], **shown}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def drawn_from(path: Path) -> str | None:
    """The key a PNG written by `save_figure` was drawn from; None for a missing file or one without a key."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.info.get(KEY)
    except (OSError, ValueError):
        return None

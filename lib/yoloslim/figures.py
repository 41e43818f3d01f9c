"""Writing the stages' figures: one helper, so every PNG is saved and released the same way."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from yoloslim.atomic import atomic_path


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write `fig` as PNG (creating its folder) and release it, so a notebook shows only what it displays."""
    path = Path(path)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    if fig.canvas.manager is not None:  # made through pyplot: drop it from pyplot's open figures
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path

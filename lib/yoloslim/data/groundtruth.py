"""Ground truth of each code's payload and symbology, for decode-rate measurement.

The synthetic data set stores it next to the labels: `<...>/images/<name>.jpg` has
`<...>/meta/<name>.json` (see `yoloslim.data.synth`). A user's data set usually has no such files; then
there is no payload ground truth and decode rates are not measured.
"""

from __future__ import annotations

import json
from pathlib import Path


def _meta_path(image: Path) -> Path | None:
    """The image's last `images` folder replaced by `meta`, `.json` suffix; None outside an `images` folder.

    A symlinked image (the split stage's mirror) is resolved to the original first.
    """
    parts = list(Path(image).resolve().parts)
    if "images" not in parts:
        return None
    at = len(parts) - 1 - parts[::-1].index("images")
    parts[at] = "meta"
    return Path(*parts).with_suffix(".json")


def load_ground_truth(image: Path) -> list[dict] | None:
    """The codes of an image: dicts with class, symbology, payload, box [x1, y1, x2, y2] and polygon (pixels).

    Returns None when the data set has no payload ground truth for this image.
    """
    path = _meta_path(image)
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text())["codes"]
    except (json.JSONDecodeError, KeyError) as err:
        raise ValueError(f"{path}: not a ground-truth file with a 'codes' list: {err}") from err

"""Scenes for the synthetic data set: backgrounds, code placement under a homography, and nuisances.

A `Style` gives a source its character (surface, marking, angles, perspective, scale, glare). Codes are
drawn through a homography from the code's own plane, so each code's box is the bounding box of its
four warped corners: tight under rotation and perspective. No code is drawn under a readable module size
(`MIN_MODULE_PX`, `MIN_BAR_MODULE_PX`) at the detector's input size, so a small detector input keeps the
pixel density of real images. A scene may be rendered larger than the detector sees it (`detect_imgsz` <
`imgsz`), as a scanner detects on a downscaled frame and decodes the full-resolution crop: the scene is
the same in relative terms, and its codes have `imgsz / detect_imgsz` times more pixels a module. Blur
is sized for the larger of the two, capped at `BLUR_REFERENCE_PX`, so a code readable by size stays
readable. All randomness comes from the `rng` passed in, so a seed fixes every label.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from yoloslim.data.codes import Code

MIN_MODULE_PX = 1.0  # smallest size of a 2-D code's module, in pixels of the rendered image
MIN_BAR_MODULE_PX = 0.65  # the same for 1-D codes (their bars are 1-4 modules wide; narrow ones may blur together)
MIN_SIZE_CAP = 0.6  # a code too long for the image at its minimum module size is drawn this large (image sides)
BLUR_REFERENCE_PX = 256  # blur and motion lengths scale with the image side up to this size, then stay fixed

_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX)
_GLYPHS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:/ "))


@dataclass(frozen=True)
class Style:
    """How a source's images look."""

    surface: str = "paper"  # background: paper, metal, pcb, plastic, cardboard, dark
    marking: str = "print"  # print (dark on a light label), light (light on dark), dots (dot-peened), etch
    rotation: float = 12.0  # largest |angle| in degrees; 180 means any angle
    perspective: float = 0.06  # largest corner shift, as a fraction of the code's width and height (< 0.25)
    scale: tuple[float, float] = (0.12, 0.6)  # code's long side as a fraction of the image side (log-uniform;
    # never smaller than MIN_MODULE_PX a module, MIN_BAR_MODULE_PX for 1-D codes)
    codes: tuple[int, int] = (1, 1)  # codes per image (inclusive range)
    glare: float = 0.3  # probability of a glare spot
    motion: float = 0.15  # probability of motion blur (else defocus)
    clutter: float = 0.4  # probability of clutter (lines, shapes, text) on the background


@dataclass(frozen=True)
class Placed:
    """A code as drawn: its corners in pixels (code's top-left, top-right, bottom-right, bottom-left)."""

    code: Code
    polygon: np.ndarray  # (4, 2) float, continuous pixel coordinates (the image spans [0, imgsz])

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Tight axis-aligned box x1, y1, x2, y2 in pixels."""
        (x1, y1), (x2, y2) = self.polygon.min(0), self.polygon.max(0)
        return float(x1), float(y1), float(x2), float(y2)


def render_scene(
    rng: np.random.Generator, codes: list[Code], style: Style, imgsz: int, detect_imgsz: int | None = None
) -> tuple[np.ndarray, list]:
    """An image (uint8 BGR, imgsz square) holding `codes` drawn in `style`, and their `Placed` records.

    A code after the first that finds no room at its smallest size is left out (and has no record).

    Args:
        rng (np.random.Generator): The source of all randomness.
        codes (list[Code]): The codes to draw.
        style (Style): How the source's images look.
        imgsz (int): The image side in pixels.
        detect_imgsz (int | None): The side the detector sees the image at (None: `imgsz`); no code is smaller than
            readable there.

    Returns:
        (tuple[np.ndarray, list]): The image and the `Placed` record of each code drawn.
    """
    upscale = imgsz / (detect_imgsz or imgsz)
    image = draw_background(rng, style.surface, imgsz)
    if rng.random() < style.clutter:
        _add_clutter(rng, image, imgsz)
    placed, taken = [], []
    for code in codes:
        where = _place(rng, code, style, imgsz, taken, len(codes), upscale)
        if where is None:  # no room left at this code's smallest size: the image holds fewer codes
            continue
        quad, pad_quad = where
        _draw_code(rng, image, code, style, quad, pad_quad)
        placed.append(Placed(code, quad))
        taken.append(_bbox(pad_quad))
    return apply_nuisances(rng, image, style), placed


def render_negative(rng: np.random.Generator, imgsz: int) -> np.ndarray:
    """A hard negative with no code: text, grids, stripes or textures that resemble codes."""
    image = draw_background(rng, str(rng.choice(["paper", "metal", "pcb", "plastic", "cardboard", "dark"])), imgsz)
    for kind in rng.choice(["text", "grid", "stripes", "blocks", "texture"], size=int(rng.integers(1, 3))):
        _NEGATIVES[kind](rng, image, imgsz)
    return apply_nuisances(rng, image, Style(glare=0.3, motion=0.2))


def draw_background(rng: np.random.Generator, surface: str, imgsz: int) -> np.ndarray:
    """A float32 BGR surface in [0, 255].

    Args:
        rng (np.random.Generator): The source of the color's jitter, the grain and the PCB traces.
        surface (str): The background: paper, metal, pcb, plastic, cardboard or dark.
        imgsz (int): The image side in pixels.

    Returns:
        (np.ndarray): The (imgsz, imgsz, 3) image.
    """
    base = {
        "paper": (225, 228, 232),
        "metal": (150, 152, 155),
        "pcb": (40, 110, 35),
        "plastic": (70, 60, 50),
        "cardboard": (95, 145, 180),
        "dark": (35, 35, 38),
    }[surface]
    color = np.clip(np.array(base, np.float32) + rng.normal(0, 18, 3), 0, 255)
    image = np.empty((imgsz, imgsz, 3), np.float32)
    image[:] = color
    grain = rng.standard_normal((imgsz, imgsz), dtype=np.float32)
    if surface == "metal":  # brushed: noise smeared along one direction
        grain = cv2.blur(grain, (max(3, imgsz // 8), 1)) * 4
        image += grain[..., None] * 6
    elif surface == "pcb":
        _add_traces(rng, image, imgsz)
    elif surface in ("cardboard", "paper"):
        image += cv2.GaussianBlur(grain, (0, 0), 1.5)[..., None] * (10 if surface == "cardboard" else 4)
    return image


def apply_nuisances(rng: np.random.Generator, image: np.ndarray, style: Style) -> np.ndarray:
    """Uneven light, glare, low contrast, blur (defocus or motion) and noise.

    Args:
        rng (np.random.Generator): The source of all randomness.
        image (np.ndarray): The float32 BGR image, square (changed in place by the lighting and glare).
        style (Style): Its `glare` and `motion` probabilities.

    Returns:
        (np.ndarray): The image as uint8.
    """
    size = image.shape[0]
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size
    xx, yy = axis[None, :], axis[:, None]  # broadcast: no full coordinate grids
    gx, gy = rng.uniform(-0.5, 0.5, 2)
    image *= (1 + gx * (xx - 0.5) + gy * (yy - 0.5))[..., None]
    if rng.random() < style.glare:
        cx, cy = rng.uniform(0, 1, 2)
        radius = rng.uniform(0.08, 0.35)
        spot = np.exp(-((xx - cx) ** 2) / (2 * radius**2)) * np.exp(-((yy - cy) ** 2) / (2 * radius**2))
        image += (rng.uniform(40, 150) * spot)[..., None]
    if rng.random() < 0.35:  # low contrast
        mean = image.mean()
        image = mean + (image - mean) * rng.uniform(0.35, 1.0)
    blur = min(size, BLUR_REFERENCE_PX)  # the side blur lengths scale with
    if rng.random() < style.motion:
        image = cv2.filter2D(image, -1, _motion_kernel(rng, blur))
    else:
        sigma = rng.uniform(0, 1.2) * blur / 256
        if sigma > 0.3:
            image = cv2.GaussianBlur(image, (0, 0), sigma)
    image += rng.standard_normal(image.shape, dtype=np.float32) * rng.uniform(0, 10)
    return np.clip(image, 0, 255).astype(np.uint8)


def _place(
    rng, code: Code, style: Style, imgsz: int, taken: list, count: int, upscale: float = 1.0
) -> tuple[np.ndarray, np.ndarray] | None:
    """Corners of the code's module area and of its label (quiet zone), clear of `taken` boxes; None: no room.

    `upscale`: image pixels per pixel of the detector's input (the minimum module sizes hold there)."""
    rows, cols = code.modules.shape
    aspect = rng.uniform(0.25, 0.55) if code.linear else rows / cols
    low, high = style.scale
    if code.linear:
        low = max(low, 0.25)
    if count > 1:
        high = min(high, 1.6 / (count + 1))
        low = min(low, high * 0.7)
    # a code drawn under its minimum module size is a gray patch nobody could read or classify: at a small
    # render size the code's smallest relative size grows, so the set keeps the real data's pixel density
    smallest = min((MIN_BAR_MODULE_PX if code.linear else MIN_MODULE_PX) * cols * upscale, MIN_SIZE_CAP * imgsz)
    low, high = max(low, smallest / imgsz), max(high, smallest / imgsz)
    angle = rng.uniform(-180, 180) if style.rotation >= 180 else rng.uniform(-style.rotation, style.rotation)
    jitter = rng.uniform(-style.perspective, style.perspective, (4, 2))
    # quiet zone as a fraction of the code's width: 6-10 modules beside bars, 1-3 modules around 2-D codes
    margin_x = rng.uniform(6, 10) / cols if code.linear else rng.uniform(1, 3) / cols
    margin_y = rng.uniform(0.05, 0.15) if code.linear else margin_x
    unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    padded = unit * [1 + 2 * margin_x, 1 + 2 * margin_y / aspect] - [margin_x, margin_y / aspect]
    for attempt in range(40):
        # after 20 tries the floor gives way too: a code too long for the image (with its quiet zone, rotated) is
        # drawn as large as fits rather than not at all
        floor = smallest * 0.95 ** max(0, attempt - 20)
        size = max(np.exp(rng.uniform(np.log(low), np.log(high))) * imgsz * (0.97**attempt), floor)
        quad = _quad(size, size * aspect, angle, jitter * [size, size * aspect])
        homography = cv2.getPerspectiveTransform(unit, quad.astype(np.float32))
        pad = cv2.perspectiveTransform(padded[None].astype(np.float64), homography)[0]
        (x1, y1), (x2, y2) = pad.min(0), pad.max(0)
        if x2 - x1 >= imgsz - 2 or y2 - y1 >= imgsz - 2:
            continue
        shift = np.array([rng.uniform(1 - x1, imgsz - 1 - x2), rng.uniform(1 - y1, imgsz - 1 - y2)])
        if not any(_overlaps(_bbox(pad + shift), box) for box in taken):
            return quad + shift, pad + shift
    if not taken:
        raise RuntimeError(f"no room for a {code.symbology} code in a {imgsz}px image")
    return None


def _quad(width: float, height: float, angle: float, jitter: np.ndarray) -> np.ndarray:
    """A centered width x height rectangle, corners shifted by `jitter`, rotated by `angle` degrees."""
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [width / 2, height / 2] + jitter
    theta = np.deg2rad(angle)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return corners @ rot.T


def _bbox(quad: np.ndarray) -> tuple[float, float, float, float]:
    """Axis-aligned bounds of a quadrilateral."""
    (x1, y1), (x2, y2) = quad.min(0), quad.max(0)
    return x1, y1, x2, y2


def _overlaps(a: tuple, b: tuple) -> bool:
    """True when two boxes intersect."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _draw_code(rng, image: np.ndarray, code: Code, style: Style, quad: np.ndarray, pad_quad: np.ndarray) -> None:
    """Composite the code (and its label area) into `image` in place, warped onto `quad`."""
    ink = _ink_matrix(code, quad, style.marking == "dots")
    height, width = ink.shape
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    homography = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    x0, y0 = np.floor(pad_quad.min(0)).astype(int)
    x1, y1 = np.ceil(pad_quad.max(0)).astype(int)
    # continuous -> pixel-index coordinates on both sides, and into the region of interest
    to_roi = np.array([[1, 0, -x0 - 0.5], [0, 1, -y0 - 0.5], [0, 0, 1]])
    from_index = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    matrix = to_roi @ homography @ from_index
    size = (x1 - x0, y1 - y0)
    alpha = cv2.warpPerspective(ink, matrix, size, flags=cv2.INTER_LINEAR)[..., None]
    pad_src = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    label_h = cv2.getPerspectiveTransform(pad_src, pad_quad.astype(np.float32))
    label = cv2.warpPerspective(
        np.ones((8, 8), np.float32), to_roi @ label_h @ np.diag([1 / 8, 1 / 8, 1]) @ from_index, size
    )[..., None]
    roi = image[y0:y1, x0:x1]
    surface, mark = _colors(rng, style.marking, roi)
    roi[:] = roi * (1 - label * surface[1]) + surface[0] * label * surface[1]
    roi[:] = roi * (1 - alpha) + mark * alpha


def _ink_matrix(code: Code, quad: np.ndarray, dots: bool) -> np.ndarray:
    """The dark-module matrix upsampled to about the drawn size (float32 coverage)."""
    rows, cols = code.modules.shape
    side = np.linalg.norm(quad[1] - quad[0])
    k = int(np.clip(np.ceil(side / cols), 1, 16))
    if code.linear:
        bar_rows = max(1, round(cols * np.linalg.norm(quad[3] - quad[0]) / max(side, 1e-6)))
        return cv2.resize(code.modules.astype(np.float32), (cols * k, bar_rows * k), interpolation=cv2.INTER_NEAREST)
    if dots and k >= 3:
        yy, xx = np.mgrid[0:k, 0:k] - (k - 1) / 2
        disk = ((xx**2 + yy**2) <= (k * 0.42) ** 2).astype(np.float32)
        return np.kron(code.modules.astype(np.float32), disk)
    return cv2.resize(code.modules.astype(np.float32), (cols * k, rows * k), interpolation=cv2.INTER_NEAREST)


def _colors(rng, marking: str, roi: np.ndarray) -> tuple[tuple[np.ndarray, float], np.ndarray]:
    """((label color, label opacity), mark color) for a marking style over this surface."""
    mean = roi.reshape(-1, 3).mean(0) if roi.size else np.full(3, 128.0)
    if marking == "print":
        return (np.full(3, rng.uniform(200, 250)), 1.0), np.full(3, rng.uniform(0, 70))
    if marking == "light":
        return (np.full(3, rng.uniform(15, 50)), 1.0), np.full(3, rng.uniform(170, 240))
    if marking == "dots":  # dot-peened metal: no label, marks slightly darker than the surface
        return (mean, 0.0), mean * rng.uniform(0.45, 0.75)
    return (mean, 0.0), np.clip(mean + rng.uniform(60, 120), 0, 255)  # etch: lighter marks on the board


def _motion_kernel(rng, size: int) -> np.ndarray:
    """A normalized line kernel: motion blur of a few pixels in a random direction."""
    length = int(max(3, rng.uniform(3, 9) * size / 256)) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2] = 1
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return kernel / kernel.sum()


def _random_color(rng) -> tuple[float, float, float]:
    """A random BGR color."""
    return tuple(float(v) for v in rng.uniform(0, 255, 3))


def _add_traces(rng, image: np.ndarray, imgsz: int) -> None:
    """PCB copper traces and pads."""
    for _ in range(int(rng.integers(4, 12))):
        p = rng.integers(0, imgsz, 2)
        q = (
            p + (rng.integers(-imgsz // 2, imgsz // 2), 0)
            if rng.random() < 0.5
            else p + (0, rng.integers(-imgsz, imgsz))
        )
        cv2.line(image, tuple(map(int, p)), tuple(map(int, q)), (60, 160, 190), max(1, imgsz // 80))
        cv2.circle(image, tuple(map(int, p)), max(2, imgsz // 50), (140, 190, 210), -1)


def _add_clutter(rng, image: np.ndarray, imgsz: int) -> None:
    """Lines, rectangles, circles and a little text in random colors."""
    for _ in range(int(rng.integers(2, 8))):
        p, q = rng.integers(0, imgsz, (2, 2))
        kind = rng.integers(3)
        thick = int(rng.integers(1, max(2, imgsz // 40)))
        if kind == 0:
            cv2.line(image, tuple(map(int, p)), tuple(map(int, q)), _random_color(rng), thick)
        elif kind == 1:
            cv2.rectangle(
                image, tuple(map(int, p)), tuple(map(int, q)), _random_color(rng), int(rng.choice([-1, thick]))
            )
        else:
            cv2.circle(image, tuple(map(int, p)), int(rng.integers(2, max(3, imgsz // 6))), _random_color(rng), thick)
    _draw_text(rng, image, imgsz, lines=int(rng.integers(1, 3)))


def _draw_text(rng, image: np.ndarray, imgsz: int, lines: int) -> None:
    """Lines of random characters in Hershey fonts (built into OpenCV, nothing downloaded)."""
    mask = np.zeros((imgsz, imgsz), np.uint8)  # OpenCV draws text on 8-bit images only
    for _ in range(lines):
        text = "".join(rng.choice(_GLYPHS, int(rng.integers(4, 16))))
        org = (int(rng.integers(0, imgsz // 2)), int(rng.integers(imgsz // 10, imgsz)))
        scale = rng.uniform(0.2, 0.7) * imgsz / 256
        cv2.putText(mask, text, org, _FONTS[int(rng.integers(len(_FONTS)))], scale, 255, 1, cv2.LINE_AA)
    alpha = mask[..., None].astype(np.float32) / 255
    image[:] = image * (1 - alpha) + np.array(_random_color(rng), np.float32) * alpha


def _negative_text(rng, image: np.ndarray, imgsz: int) -> None:
    """Several lines of text, like a label without its code."""
    _draw_text(rng, image, imgsz, lines=int(rng.integers(3, 9)))


def _negative_grid(rng, image: np.ndarray, imgsz: int) -> None:
    """A regular grid of lines (tables, meshes, component arrays)."""
    step = int(rng.integers(max(3, imgsz // 40), max(4, imgsz // 8)))
    color, thick = _random_color(rng), int(rng.integers(1, 3))
    for v in range(int(rng.integers(0, step)), imgsz, step):
        cv2.line(image, (v, 0), (v, imgsz), color, thick)
        cv2.line(image, (0, v), (imgsz, v), color, thick)


def _negative_stripes(rng, image: np.ndarray, imgsz: int) -> None:
    """Parallel stripes of varying width (vents, fins, cables), rotated: barcode-like but not a code."""
    width = int(rng.integers(imgsz // 4, imgsz))
    row = np.repeat(rng.random(max(4, width // 3)) < 0.5, 3)[:width].astype(np.float32)
    patch = np.repeat(row[None], int(rng.integers(imgsz // 6, imgsz // 2)), 0)
    rot = cv2.getRotationMatrix2D((imgsz / 2, imgsz / 2), rng.uniform(0, 180), 1)
    layer = np.zeros((imgsz, imgsz), np.float32)
    y, x = rng.integers(0, imgsz - patch.shape[0]), rng.integers(0, imgsz - patch.shape[1] + 1)
    layer[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    layer = cv2.warpAffine(layer, rot, (imgsz, imgsz))[..., None]
    image[:] = image * (1 - layer * 0.8) + np.array(_random_color(rng), np.float32) * layer * 0.8


def _negative_blocks(rng, image: np.ndarray, imgsz: int) -> None:
    """A patch of random dark squares with no finder pattern (print texture, dot displays)."""
    cells = int(rng.integers(6, 20))
    side = int(rng.integers(imgsz // 6, imgsz // 2))
    patch = cv2.resize((rng.random((cells, cells)) < 0.35).astype(np.float32), (side, side), interpolation=0)
    y, x = rng.integers(0, imgsz - side, 2)
    region = image[y : y + side, x : x + side]
    region[:] = region * (1 - patch[..., None] * 0.7)


def _negative_texture(rng, image: np.ndarray, imgsz: int) -> None:
    """Coarse random texture (fabric, foam, speckle)."""
    noise = cv2.resize(rng.normal(0, 1, (imgsz // 4, imgsz // 4)).astype(np.float32), (imgsz, imgsz))
    image += noise[..., None] * rng.uniform(10, 40)


_NEGATIVES = {
    "text": _negative_text,
    "grid": _negative_grid,
    "stripes": _negative_stripes,
    "blocks": _negative_blocks,
    "texture": _negative_texture,
}

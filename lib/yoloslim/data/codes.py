"""Code symbols for the synthetic data set: random payloads rendered by zxing-cpp as module matrices.

Every symbol is checked before use: its clean rendering (black on white, a quiet zone, a few pixels a
module) must decode with zxing-cpp to the same payload and symbology, so every labeled code is a real,
readable code before the scene's nuisances are applied.

    rng = np.random.default_rng(0)
    code = make_code(rng, "qr")
    code.modules.shape  # (21, 21), True = dark module
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp

CLASSES = ("dm", "qr", "bar")  # class id = index: dm=0, qr=1, bar=2
DRAWN_LINEAR = ("Code128", "EAN13", "UPCA", "ITF", "Code93")  # the 1-D symbologies drawn for class `bar`
SYMBOLOGIES = {"dm": ("DataMatrix",), "qr": ("QRCode",), "bar": DRAWN_LINEAR}

_UPPER_DIGITS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
_DIGITS = np.array(list("0123456789"))
_TEXT = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./:"))


@dataclass(frozen=True)
class Code:
    """One readable code symbol: class name, zxing-cpp format name, decoded text, dark-module matrix."""

    cls: str  # dm, qr or bar
    symbology: str  # zxing-cpp BarcodeFormat name: DataMatrix, QRCode, Code128, EAN13, ...
    payload: str  # the text zxing-cpp decodes (check digits included)
    modules: np.ndarray  # bool (rows, cols), True = dark; 1-D codes have a single row

    @property
    def linear(self) -> bool:
        """True for 1-D barcodes (one row of bars)."""
        return self.modules.shape[0] == 1


def make_code(rng: np.random.Generator, cls: str) -> Code:
    """A random code of class `cls` whose clean rendering zxing-cpp decodes; raises RuntimeError if not."""
    symbology = SYMBOLOGIES[cls][int(rng.integers(len(SYMBOLOGIES[cls])))]
    barcode = zxingcpp.create_barcode(_payload(rng, symbology), getattr(zxingcpp.BarcodeFormat, symbology))
    pixels = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=1, add_quiet_zones=False))
    modules = pixels < 128
    code = Code(cls, symbology, barcode.text, modules[:1] if cls == "bar" else modules)
    decoded = decode_clean(code)
    if decoded != (code.symbology, code.payload):
        raise RuntimeError(f"clean {symbology} rendering of {code.payload!r} decoded as {decoded}")
    return code


def clean_image(code: Code, scale: int = 3) -> np.ndarray:
    """The code drawn black on white with a quiet zone, `scale` pixels a module (uint8, grayscale)."""
    modules = np.repeat(code.modules, max(12, code.modules.shape[1] // 4), axis=0) if code.linear else code.modules
    quiet = 10 if code.linear else 4
    image = np.where(np.pad(modules, quiet), 0, 255).astype(np.uint8)
    return np.kron(image, np.ones((scale, scale), np.uint8))


def decode_clean(code: Code) -> tuple[str, str] | None:
    """(symbology, payload) that zxing-cpp reads from the clean rendering, or None when nothing decodes."""
    fmt = getattr(zxingcpp.BarcodeFormat, code.symbology)
    found = zxingcpp.read_barcodes(clean_image(code), formats=fmt, try_downscale=False, try_invert=False)
    return (found[0].format.name, found[0].text) if found else None


def _payload(rng: np.random.Generator, symbology: str) -> str:
    """Random content valid for the symbology (check digits are added by zxing-cpp)."""
    if symbology == "DataMatrix":
        return _pick(rng, _UPPER_DIGITS, 6, 22)
    if symbology == "QRCode":
        text = _pick(rng, _TEXT, 8, 40)
        return f"https://qr.example/{text}" if rng.random() < 0.3 else text
    if symbology == "EAN13":
        return "".join(rng.choice(_DIGITS, 12))
    if symbology == "UPCA":
        return "".join(rng.choice(_DIGITS, 11))
    if symbology == "ITF":
        return "".join(rng.choice(_DIGITS, 2 * int(rng.integers(2, 6))))
    if symbology == "Code93":
        return _pick(rng, _UPPER_DIGITS, 4, 8)
    return _pick(rng, _TEXT, 4, 8)  # Code128


def _pick(rng: np.random.Generator, alphabet: np.ndarray, low: int, high: int) -> str:
    """A random string of `low` to `high` characters of `alphabet`."""
    return "".join(rng.choice(alphabet, int(rng.integers(low, high + 1))))

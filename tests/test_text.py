"""The study's words (`yoloslim.text`): every language has every text id with the same placeholders, the Chinese
holds no English sentence, and a message a stage records is put in words in either language.

The Chinese report built from results files is checked in test_report.py (`test_report_zh`).
"""

from __future__ import annotations

import json
import re
import string
from typing import get_args

import pytest
from conftest import english_runs
from yoloslim.config import Lang
from yoloslim.text import TEXT, message, say


def _placeholders(phrase: str) -> list[str]:
    """The names of a phrase's `{placeholders}`, sorted."""
    return sorted({name for _, name, _, _ in string.Formatter().parse(phrase) if name})


class _AnyValue(dict):
    """Fills every placeholder with one number, which every format spec of the phrasebook takes."""

    def __missing__(self, key: str) -> float:
        return 0.5


def test_every_language_has_every_id_with_its_placeholders() -> None:
    english = TEXT["en"]
    assert set(TEXT) == set(get_args(Lang)) and len(english) > 90  # every `report.lang` has its words
    for lang, words in TEXT.items():
        assert set(words) == set(english), lang
        assert [key for key in english if _placeholders(words[key]) != _placeholders(english[key])] == [], lang


def test_chinese_holds_no_english_sentence() -> None:
    filled = {key: phrase.format_map(_AnyValue()) for key, phrase in TEXT["zh"].items()}
    pages = {key: "<p>" + re.sub(r"`([^`]*)`", r"<code>\1</code>", phrase) + "</p>" for key, phrase in filled.items()}
    assert {key: runs for key, page in pages.items() if (runs := english_runs(page))} == {}
    # a line break between two Chinese characters would show as a space
    assert [key for key, phrase in TEXT["zh"].items() if re.search(r"[^\x00-\x7f]\n[^\x00-\x7f]", phrase)] == []


@pytest.mark.parametrize(
    ("html", "runs"),
    [
        ("<p>本机未测量：<code>torch_cuda</code>。</p>", []),
        ("<p><strong>nas_0.01(large)</strong> 的 mAP 为 0.75，时延 30.00 ms（ONNX Runtime CPU）。</p>", []),
        ("<table><tr><th>backbone</th><th>head</th><th>overall</th></tr></table>", []),  # table cells, no sentence
        ("<p>本机未测量：the budget engine was not measured。</p>", ["the budget engine was not measured"]),
        ("<li><strong>small</strong> is not sparse at 0.15</li>", ["small is not sparse at"]),  # markup joins words
        ("<p>Not measured on this machine: <code>torch_cuda</code>.</p>", ["Not measured on this machine"]),
    ],
)
def test_english_runs_finds_sentences_not_names(html: str, runs: list[str]) -> None:
    assert english_runs(html) == runs


def test_a_recorded_message_in_either_language() -> None:
    recorded = message("search_not_met", engine="onnx_cpu", threshold=0.0123, gflops=1.5, latency=12.34, ratio=0.8)
    assert json.loads(json.dumps(recorded)) == recorded  # metrics.json keeps it as it is
    assert say("en", recorded) == (
        "no structure meets the latency budget on onnx_cpu: the fastest found (threshold 0.0123, 1.5 GFLOPs) takes "
        "12.3 ms, 0.80x the base model; it is kept"
    )
    chinese = say("zh", recorded)
    assert "`onnx_cpu`" in chinese and "0.0123" in chinese and "12.3 ms" in chinese and "0.80 倍" in chinese
    assert say("zh", "recorded as words by an older yoloslim") == "recorded as words by an older yoloslim"

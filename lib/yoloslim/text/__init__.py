"""The study's words in each language, keyed by stable text ids: one phrasebook for the report and the messages
the stages record.

The report (`report.lang`) shows every heading, explanation, sentence and label by id, the notebook's included
(notebooks/07_report.py). A stage that records a problem in a results file (the prune stage's `sparsity_warning`,
its search's and its cost match's `message`, in metrics.json) records it as an id and its values, so the report
puts it in its own language. Each language is one module here (`en`, `zh`) with the same ids and placeholders.

    text("zh", "not_measured", what="`torch_cuda`")  # '本机未测量：`torch_cuda`。'
    warning = message("search_not_met", engine="onnx_cpu", ...)  # {"id": ..., "values": {...}} for metrics.json
    say("en", warning)                                # the message in English
"""

from __future__ import annotations

from typing import Any

from yoloslim.text.en import EN
from yoloslim.text.zh import ZH

TEXT: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def text(lang: str, key: str, **values: object) -> str:
    """The phrase `key` in `lang` ("en" or "zh"), with `{placeholders}` filled from `values`."""
    return TEXT[lang][key].format(**values)


def message(key: str, **values: float | int | str) -> dict[str, Any]:
    """A message to record in a results file: its text id and values (JSON-ready), put in words later by `say`."""
    return {"id": key, "values": values}


def say(lang: str, recorded: dict[str, Any] | str) -> str:
    """A recorded message (`message`) in `lang`; one recorded as words (by yoloslim before text ids) as it is."""
    if isinstance(recorded, str):
        return recorded
    return text(lang, recorded["id"], **recorded["values"])

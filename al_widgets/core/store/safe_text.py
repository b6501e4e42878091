"""Text from the data and from people, made safe for terminals and spreadsheets.

Sample ids, labels and annotator names reach ``al-widgets status`` (a terminal) and ``export``
(a CSV that people open in a spreadsheet).  A terminal runs escape sequences (``\\x1b[2J`` clears
it); bidirectional controls (U+202E) make text read backwards; a spreadsheet runs a cell starting
with ``=`` as a formula.  Each is written here as visible, inert text.
"""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape_char(m: re.Match) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def printable(text: Any) -> str:
    """``text`` with control and bidirectional characters written as ``\\x1b`` / ``\\u202e`` escapes.

    Tabs and newlines stay (a table may hold them); everything a terminal or a bidi algorithm
    would act on becomes visible.
    """
    return _UNSAFE.sub(_escape_char, str(text))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading ``'`` (numbers stay)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number(value):
        return f"'{value}"
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a formula (OWASP's CSV-injection rule) and carry no
    control or bidirectional characters."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = pd.Series([formula_safe(printable(v)) if isinstance(v, str) else v for v in out[col]],
                                 index=out.index, dtype=object)
    return out

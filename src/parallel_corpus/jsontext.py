"""JSON from text nobody here wrote.

Python's parser recurses once per level of nesting, so a line of a few
hundred kilobytes of "[[[[..." raises RecursionError, which no caller
expects. Here it is a JSONDecodeError like any other malformed input, and
the callers' one-line errors ("FILE:ROW: not JSON ...") cover it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def loads(text: str) -> Any:
    """`json.loads`, with nesting too deep for Python reported as a
    JSONDecodeError at the start of the text."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", text, 0) from None

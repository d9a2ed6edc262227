"""Entity spans against the text they were made on.

Label Studio gives a span as offsets plus the text it covered. The offsets are
only trusted when they pick exactly that text out of the document: old exports
counted UTF-16 units, and a selection may catch a space, so a span is realigned
where that explains the difference and refused otherwise. Import and the build
use the same checks, so the build applies only spans that still fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class SpanCheck:
    """Where a span really is in the text, or why it cannot be placed."""

    verification: Optional[str]  # verified | realigned_utf16 | realigned_whitespace | None
    start: int = 0
    end: int = 0
    text: str = ""
    reason: Optional[str] = None


def utf16_to_codepoint(text: str, offset: int) -> Optional[int]:
    """The code-point offset of a UTF-16 unit offset, or None inside a surrogate pair or past the end.

    Label Studio before the fix of issues #1347/#1008/#4988 counted JavaScript string
    units, so every astral character (emoji, some CJK) before a span shifted it by one.
    """
    units = 0
    for i, ch in enumerate(text):
        if units == offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


def verify_span(text: str, start: Any, end: Any, span_text: Any) -> SpanCheck:
    """Check `text[start:end] == span_text` (code points), realigning where an old export shifted it."""
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        return SpanCheck(None, reason="span offsets are not integers")
    if not isinstance(span_text, str):
        return SpanCheck(None, reason="span has no text to check its offsets against")
    if not 0 <= start <= end:
        return SpanCheck(None, reason=f"span offsets {start}-{end} are not an interval")
    if text[start:end] == span_text and end <= len(text):
        stripped = span_text.strip()
        if stripped and stripped != span_text:
            # A selection that caught a space: keep the entity, not the space.
            lead = len(span_text) - len(span_text.lstrip())
            return SpanCheck("realigned_whitespace", start + lead, start + lead + len(stripped), stripped)
        return SpanCheck("verified", start, end, span_text)
    candidates = [("realigned_utf16", utf16_to_codepoint(text, start), utf16_to_codepoint(text, end))]
    for how, s, e in candidates:
        if s is not None and e is not None and s != start and text[s:e] == span_text:
            return SpanCheck(how, s, e, span_text)
    stripped = span_text.strip()
    if stripped:
        for s, e in [(start, end), (candidates[0][1], candidates[0][2])]:
            if s is None or e is None:
                continue
            window = text[s:e]
            if window.strip() == stripped:
                lead = len(window) - len(window.lstrip())
                return SpanCheck("realigned_whitespace", s + lead, s + lead + len(stripped), stripped)
            # The span text carries whitespace that the offsets left out.
            if window == stripped or (stripped in span_text and text[s:s + len(stripped)] == stripped):
                return SpanCheck("realigned_whitespace", s, s + len(stripped), stripped)
    found = text[start:end] if end <= len(text) else text[start:]
    return SpanCheck(None, reason=f"text[{start}:{end}] is {found[:40]!r}, not the span text {span_text[:40]!r}")


def document_mismatch(record: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    """Why the documents a record names are not the texts it was made on, or None."""
    pairs = [(record["document_id"], record["text_sha256"])]
    if record["kind"] == "pairs":
        pairs.append((record["document_id_2"], record["text_sha256_2"]))
    for doc_id, sha in pairs:
        doc = documents.get(doc_id or "")
        if doc is None:
            return f"document {doc_id!r} is not in the build"
        if sha != doc.get("text_sha256"):
            return f"document {doc_id} changed since it was annotated (text_sha256 {str(sha)[:12]} != {str(doc.get('text_sha256'))[:12]})"
    return None


def span_mismatch(record: Mapping[str, Any], text: str) -> Optional[tuple[int, str]]:
    """(index, why) of the first entity span of a stored record that is not
    exactly `text[start:end]` (`verify_span`, with no realigning: a stored
    span was placed at import), or None when every span is."""
    for i, span in enumerate(record["entities"]):
        check = verify_span(text, span.get("start"), span.get("end"), span.get("text"))
        if check.verification != "verified" or (check.start, check.end) != (span["start"], span["end"]):
            reason = check.reason or f"text[{span['start']}:{span['end']}] is not exactly the span text {str(span['text'])[:40]!r}"
            return i, f"span {span.get('start')}-{span.get('end')} {span.get('text')!r} does not match document {record['document_id']}: {reason}"
    return None


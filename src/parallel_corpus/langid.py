"""Language tagging: cleaned blocks in, a language per block and per document out.

langdetect is seeded (it is random otherwise) and only asked about blocks
long enough for it to be reliable. The document is the context: a block that
langdetect calls Indonesian inside a Swahili article inherits Swahili, while a
block in another script, or confidently in a language that really appears in
such articles (English quotes in Swahili news), keeps its own and is flagged.
Detection is langdetect's own, run by `ngram_detector` as whole-string and
vector operations; each block's n-grams are extracted once and serve both the
block and its document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .config import load_yaml
from .ngram_detector import Detector
from .script import compatible, count_letters, dominant_script


# langdetect reads at most this many characters of a text.
_DOCUMENT_CHARS = 10_000


@dataclass(frozen=True)
class Language:
    code: str  # langdetect's code, e.g. "sw", "zh-cn"
    iso639_1: str
    iso639_3: str
    script: str
    flores: str
    name: str
    plausible_inside: tuple[str, ...] = ()


@dataclass
class LanguageTable:
    """`corpus/languages.yaml`: names of languages and the tagger's thresholds."""

    languages: dict[str, Language]
    min_block_letters: int = 40
    code_switch_probability: float = 0.99
    script_share: float = 0.6

    @classmethod
    def load(cls, path: Path) -> "LanguageTable":
        data = load_yaml(path) or {}
        langs = {}
        for code, entry in (data.get("languages") or {}).items():
            langs[code] = Language(code=code, plausible_inside=tuple(entry.pop("plausible_inside", ()) or ()), **entry)
        thresholds = data.get("langid") or {}
        return cls(languages=langs, **thresholds)

    def get(self, code: str) -> Language:
        """The language of a code from langdetect or from ISO 639-1."""
        if code in self.languages:
            return self.languages[code]
        for lang in self.languages.values():
            if lang.iso639_1 == code:
                return lang
        # A code langdetect cannot emit and the table does not know: name it
        # honestly rather than guess a script.
        return Language(code=code, iso639_1=code, iso639_3=code, script="Zyyy", flores=f"{code}_Zyyy", name=code)


@dataclass
class BlockLanguage:
    language: str  # ISO 639-1
    probability: float
    inherited: bool
    flags: list[str] = field(default_factory=list)


@dataclass
class DocumentLanguage:
    language: Language
    probability: float
    blocks: list[BlockLanguage]
    flags: list[str]


def candidates(doc: Language, table: LanguageTable) -> list[str]:
    """The languages a block of a `doc` document is weighed between: the
    document's own and those that plausibly occur inside it."""
    return [doc.code, *(table.get(c).code for c in doc.plausible_inside)]


def prepare(detector: Detector, table: LanguageTable, codes: Sequence[str]) -> None:
    """Make ahead what tagging documents in these languages needs, so that
    forked workers share it."""
    for code in codes:
        detector.prepare(candidates(table.get(code), table))


def tag(
    blocks: Sequence[str],
    table: LanguageTable,
    detector: Detector,
    declared: Optional[str] = None,
) -> DocumentLanguage:
    """Languages of a document's blocks and of the document.

    One langdetect call decides the document (what langdetect alone would
    cost); each block is then checked against the few languages that
    plausibly occur in such a document with langdetect's profiles, and only a
    block that looks like another language, or is in another script, gets a
    langdetect call of its own.
    """
    # The document is what langdetect reads of it: its first 10,000
    # characters (langdetect's own limit), here as its first blocks'
    # n-grams, kept to be reused for those blocks. Later blocks are read one
    # at a time, so a huge article never holds all its n-grams at once.
    head: list[np.ndarray] = []
    read = 0
    for block in blocks:
        if read >= _DOCUMENT_CHARS:
            break
        head.append(detector.ngrams(block))
        read += len(block) + 1
    whole = detector.probabilities_of_ngrams(np.concatenate(head) if head else np.empty(0, dtype=np.int64))
    if whole:
        doc_code, doc_prob = whole[0]
    else:
        doc_code, doc_prob = (declared or "und"), 0.0
    doc_lang = table.get(doc_code)

    out_blocks = [
        _block_language(b, count_letters(b), head[i] if i < len(head) else detector.ngrams(b), doc_lang, table, detector)
        for i, b in enumerate(blocks)
    ]
    flags: list[str] = []
    if declared and table.get(declared).iso639_1 != doc_lang.iso639_1:
        flags.append("language_mismatch")
    if any(not b.inherited and b.language != doc_lang.iso639_1 for b in out_blocks):
        flags.append("mixed_languages")
    if any("script_mismatch" in b.flags for b in out_blocks):
        flags.append("script_mismatch")
    return DocumentLanguage(doc_lang, round(doc_prob, 6), out_blocks, flags)


def _block_language(text: str, letters: int, grams: np.ndarray, doc: Language, table: LanguageTable, detector: Detector) -> BlockLanguage:
    script, _ = dominant_script(text, table.script_share)
    other_script = script is not None and not compatible(script, doc.script)
    if letters < table.min_block_letters:
        return BlockLanguage(doc.iso639_1, 0.0, True, ["script_mismatch"] if other_script and letters else [])
    if other_script:
        # Another script is evidence no n-gram model can overturn: the block
        # keeps the language langdetect finds for it alone.
        answer = detector.probabilities_of_ngrams(grams)
        if not answer:
            return BlockLanguage(doc.iso639_1, 0.0, True, ["script_mismatch"])
        top_lang = table.get(answer[0][0])
        flags = ["code_switching"] if compatible(script, top_lang.script) else ["code_switching", "script_mismatch"]
        return BlockLanguage(top_lang.iso639_1, round(answer[0][1], 6), False, flags)
    posterior = detector.posterior(grams, candidates(doc, table))
    if not posterior:
        return BlockLanguage(doc.iso639_1, 0.0, True)
    top = max(sorted(posterior), key=lambda c: posterior[c])
    if top == doc.code:
        return BlockLanguage(doc.iso639_1, round(posterior[top], 6), False)
    if posterior[top] >= table.code_switch_probability:
        # Confirm with langdetect proper, over all its languages: an English
        # quote in Swahili news passes, a Swahili line that merely looks a
        # little English does not.
        answer = detector.probabilities_of_ngrams(grams)
        if answer and table.get(answer[0][0]).iso639_1 == table.get(top).iso639_1 and answer[0][1] >= table.code_switch_probability:
            return BlockLanguage(table.get(top).iso639_1, round(answer[0][1], 6), False, ["code_switching"])
    return BlockLanguage(doc.iso639_1, round(posterior.get(doc.code, 0.0), 6), True)

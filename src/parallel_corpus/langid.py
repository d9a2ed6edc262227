"""Language tagging: cleaned blocks in, a language per block and per document out.

langdetect is seeded (it is random otherwise) and only asked about blocks
long enough for it to be reliable. The document is the context: a block that
langdetect calls Indonesian inside a Swahili article inherits Swahili, while a
block in another script, or confidently in a language that really appears in
such articles (English quotes in Swahili news), keeps its own and is flagged.
The document's language is derived from its blocks' answers, weighted by
letters, so a document costs no second langdetect call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from .config import load_yaml
from .script import compatible, count_letters, dominant_script


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


class Detector:
    """A seeded langdetect, created once per process."""

    def __init__(self, seed: int):
        from langdetect import DetectorFactory
        from langdetect.detector_factory import init_factory
        from langdetect import detector_factory

        DetectorFactory.seed = seed
        init_factory()
        self._factory = detector_factory._factory
        self._factory.seed = seed

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """langdetect's ranked (language, probability); empty when it finds no
        letters it knows (a lone "." makes langdetect raise)."""
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._factory.create()
        detector.append(text)
        try:
            return [(p.lang, p.prob) for p in detector.get_probabilities()]
        except LangDetectException:
            return []


def tag(
    blocks: Sequence[str],
    table: LanguageTable,
    detector: Detector,
    declared: Optional[str] = None,
) -> DocumentLanguage:
    """Languages of a document's blocks and of the document."""
    letters = [count_letters(b) for b in blocks]
    answers: list[list[tuple[str, float]]] = [
        detector.probabilities(b) if n >= table.min_block_letters else [] for b, n in zip(blocks, letters)
    ]

    # The document's language: letter-weighted votes of the blocks that were
    # long enough; a document of short blocks only is asked about as a whole.
    votes: dict[str, float] = defaultdict(float)
    for answer, n in zip(answers, letters):
        for lang, prob in answer:
            votes[lang] += prob * n
    if not votes:
        whole = detector.probabilities("\n".join(blocks))
        for lang, prob in whole:
            votes[lang] += prob
    if votes:
        total = sum(votes.values())
        doc_code = max(sorted(votes), key=lambda k: votes[k])
        doc_prob = votes[doc_code] / total
    else:
        doc_code, doc_prob = (declared or "und"), 0.0
    doc_lang = table.get(doc_code)

    out_blocks = [_block_language(b, n, a, doc_lang, table) for b, n, a in zip(blocks, letters, answers)]
    flags: list[str] = []
    if declared and table.get(declared).iso639_1 != doc_lang.iso639_1:
        flags.append("language_mismatch")
    if any(not b.inherited and b.language != doc_lang.iso639_1 for b in out_blocks):
        flags.append("mixed_languages")
    if any("script_mismatch" in b.flags for b in out_blocks):
        flags.append("script_mismatch")
    return DocumentLanguage(doc_lang, round(doc_prob, 6), out_blocks, flags)


def _block_language(
    text: str, letters: int, answer: list[tuple[str, float]], doc: Language, table: LanguageTable
) -> BlockLanguage:
    script, _ = dominant_script(text, table.script_share)
    other_script = script is not None and not compatible(script, doc.script)
    if not answer:
        flags = ["script_mismatch"] if other_script and letters else []
        return BlockLanguage(doc.iso639_1, 0.0, True, flags)
    top, prob = answer[0]
    top_lang = table.get(top)
    if top_lang.iso639_1 == doc.iso639_1:
        return BlockLanguage(doc.iso639_1, round(prob, 6), False)
    if other_script:
        # Another script is evidence no n-gram model can overturn: keep the
        # block's own language, unless langdetect's answer does not even fit it.
        flags = ["code_switching"] if compatible(script, top_lang.script) else ["code_switching", "script_mismatch"]
        return BlockLanguage(top_lang.iso639_1, round(prob, 6), False, flags)
    if top in doc.plausible_inside or top_lang.iso639_1 in doc.plausible_inside:
        if prob >= table.code_switch_probability:
            return BlockLanguage(top_lang.iso639_1, round(prob, 6), False, ["code_switching"])
    doc_prob = next((p for lang, p in answer if table.get(lang).iso639_1 == doc.iso639_1), 0.0)
    return BlockLanguage(doc.iso639_1, round(doc_prob, 6), True)

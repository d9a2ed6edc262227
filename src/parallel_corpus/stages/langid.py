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

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from parallel_corpus.corpus import check_curated, load_yaml
from parallel_corpus._fast.ngram_detector import Detector
from parallel_corpus.text.languages import LanguageCodes
from parallel_corpus.text.script import compatible, count_letters, dominant_script
from parallel_corpus.text.tables import CharTable


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
    # langdetect's codes and ISO 639-1 -> the key of `languages`.
    codes: LanguageCodes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.codes = LanguageCodes({code: [lang.iso639_1] for code, lang in self.languages.items()})

    @classmethod
    def load(cls, path: Path) -> "LanguageTable":
        # Checked against schemas/languages.schema.json first: a missing key or a
        # threshold of the wrong type is one CorpusError line, as `validate` says.
        data = load_yaml(path)
        check_curated(data, Path(path), "languages")
        langs = {}
        for code, entry in (data.get("languages") or {}).items():
            langs[code] = Language(code=code, plausible_inside=tuple(entry.pop("plausible_inside", ()) or ()), **entry)
        thresholds = data.get("langid") or {}
        return cls(languages=langs, **thresholds)

    def get(self, code: str) -> Language:
        """The language of a code from langdetect or from ISO 639-1 ("zh",
        which both zh-cn and zh-tw are, is the first of them in the table)."""
        name = self.codes.lookup(code)
        if name is not None:
            return self.languages[name]
        # A code langdetect cannot emit and the table does not know: name it
        # honestly rather than guess a script (nor take the language of its
        # head: "zh-hk" is not written in zh-cn's script).
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

    letters = [count_letters(b) for b in blocks]

    def blocks_as(doc: Language) -> list[BlockLanguage]:
        return [
            _block_language(b, letters[i], head[i] if i < len(head) else detector.ngrams(b), doc, table, detector)
            for i, b in enumerate(blocks)
        ]

    out_blocks = blocks_as(doc_lang)
    # A document's language is the language of most of its own text.
    # langdetect, reading a short article with two quoted English sentences
    # as one text, may call it English. Where its answer is not the declared
    # language, or blocks tagged on their own say most of the article's own
    # text (outside quotation marks) is in another language, that language is
    # tried as the document's, and taken if more than half of its own text is
    # then in it. The quotes keep English with `code_switching`.
    alternatives = []
    weights: list[int] = []  # each block's own text, worked out once if asked

    def own_weights() -> list[int]:
        if not weights:
            weights.extend(_weight(b) for b in blocks)
        return weights

    if declared and table.get(declared).iso639_1 != doc_lang.iso639_1:
        alternatives.append(table.get(declared))
    if any(not b.inherited and b.language != doc_lang.iso639_1 for b in out_blocks):
        majority = _majority(out_blocks, own_weights())
        if majority is not None and majority != doc_lang.iso639_1 and all(a.iso639_1 != majority for a in alternatives):
            alternatives.append(table.get(majority))
    if any("script_mismatch" in b.flags for b in out_blocks):
        # Most of the article's own text in another script than the one
        # langdetect chose: its best-ranked language of that script.
        own = _own_text(blocks)
        script, _ = dominant_script(own, table.script_share)
        if script is not None and not compatible(script, doc_lang.script):
            ranked = [table.get(code) for code, _ in whole]
            found = next((lang for lang in ranked if compatible(script, lang.script)), None)
            if found is None:
                # langdetect's answer for the document named no language of
                # that script: ask it about the article's own text alone.
                answer = detector.probabilities_of_ngrams(detector.ngrams(own))
                found = next((table.get(code) for code, _ in answer if compatible(script, table.get(code).script)), None)
            if found is not None and all(a.iso639_1 != found.iso639_1 for a in alternatives):
                alternatives.append(found)
    if not declared and not alternatives and any('"' in b or "“" in b or "«" in b for b in blocks):
        # An article of no declared language that quotes at length in
        # another: langdetect is asked about its own text, outside the
        # quotation marks. (A declared language that langdetect confirms
        # needs no second look.)
        own_text = _own_text(blocks)
        if 4 * _writing(own_text) < 3 * sum(_writing(b) for b in blocks):
            answer = detector.probabilities_of_ngrams(detector.ngrams(own_text))
            if answer and table.get(answer[0][0]).iso639_1 != doc_lang.iso639_1:
                alternatives.append(table.get(answer[0][0]))
    for other in alternatives:
        tried = blocks_as(other)
        if _majority(tried, own_weights()) == other.iso639_1:
            out_blocks, doc_lang = tried, other
            doc_prob = dict(whole).get(other.code, 0.0)
            break
    flags: list[str] = []
    if declared and table.get(declared).iso639_1 != doc_lang.iso639_1:
        flags.append("language_mismatch")
    if any(not b.inherited and b.language != doc_lang.iso639_1 for b in out_blocks):
        flags.append("mixed_languages")
    if any("script_mismatch" in b.flags for b in out_blocks):
        flags.append("script_mismatch")
    return DocumentLanguage(doc_lang, round(doc_prob, 6), out_blocks, flags)


_QUOTATION = re.compile(r'"[^"]*"|“[^”]*”|«[^»]*»|„[^“”]*[“”]')


def _writing(text: str) -> int:
    """How much of a text is writing: its letters and marks (a Devanagari
    vowel sign is as much of the word as a Latin vowel)."""
    return len(text.translate(_WRITING_ONLY))


def _weight(text: str) -> int:
    """How much of a text is the article's own writing: `_writing` outside
    quotation marks (a quote is somebody else's words)."""
    return _writing(_QUOTATION.sub(" ", text))


def _own_text(blocks: Sequence[str]) -> str:
    """The article's own text, outside quotation marks, as far as langdetect
    reads a document."""
    out: list[str] = []
    read = 0
    for block in blocks:
        if read >= _DOCUMENT_CHARS:
            break
        out.append(_QUOTATION.sub(" ", block))
        read += len(block) + 1
    return " ".join(out)[:_DOCUMENT_CHARS]


# Drops every character but letters and marks (filled per distinct character).
_WRITING_ONLY = CharTable(lambda c: c if unicodedata.category(c)[0] in "LM" else "")


def _majority(blocks: Sequence[BlockLanguage], weights: Sequence[int]) -> Optional[str]:
    """The language that more than half of the text is in, if any: a block
    counts for the language it was tagged in, or for the one it inherited
    where its script agrees (a short line in another script is no evidence
    for the document's language)."""
    by_language: dict[str, int] = {}
    for b, n in zip(blocks, weights):
        if not b.inherited or "script_mismatch" not in b.flags:
            by_language[b.language] = by_language.get(b.language, 0) + n
    total = sum(weights)
    for language, n in sorted(by_language.items()):
        if 2 * n > total:
            return language
    return None


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

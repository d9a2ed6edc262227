"""Rules about the pieces of a line: what a page glued into the article's text.

A line of an article often holds more than one thing: several sentences, a
parenthesis, a "label:" that opens what follows, and, where the page lost its
line breaks, another story's headline or a link stub glued between two
sentences of the article. `split` cuts a line into such pieces at shapes
that mean a boundary in any outlet (a sentence-final mark, a parenthesis that
stands between sentences, a short label ending in a colon, a capitalised
pointer glued to the end of a sentence), and `judge` decides each piece on
its own, with the rule and its score beside the decision (the OpusFilter
way), so that `explain` can show why.

The rules are shapes, not lines; their words and thresholds live in
`corpus/cleaning.yaml` (`shapes`, `chrome_prefixes`, `reader_calls`):

- `pointer_stub`: a short piece that opens with a pointer (the words of
  `chrome_prefixes`: "you can read", "more on", "للمزيد") and does not close
  like a statement;
- `call_to_reader`: a label in capitals or one that calls on the reader
  ("TELL US YOUR STORY:"), with the question that follows it;
- `related_link`: a parenthesis of headline shape that stands between two
  sentences instead of inside one ("(Three-D 'Sholay')"), and a question or
  exclamation of headline length glued to the next sentence that shares few
  words with its neighbours;
- `boilerplate`: a piece that recurs verbatim in several documents of the
  corpus (see `boilerplate`).

Losing a sentence of the article is worse than leaving a promo in, so every
rule needs its shape *and* its words, and a piece that holds a quotation is
never a stub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from parallel_corpus.text.fold import ARTICLE_WITH_CLITICS

# A sentence ends at a final mark (and the closing quotes or brackets after
# it), followed by a space or glued to the next word's letter.
_SENTENCE_BOUNDARY = re.compile(r"[.!?؟।॥]+[\"'”’»\]]*(?=\s|[^\W\d_])")
# "Label: ..." of at most six words opening a piece (a kicker, a pointer, a
# callout), followed by more text.
_LABEL = re.compile(r"[^\s:：.!?؟।॥()]+(?:\s+[^\s:：.!?؟।॥()]+){0,5}\s*[:：](?=\s+\S)")
_FINAL_MARK = re.compile(r"[.!?؟।॥…][\"'”’»)\]]*$")
_ENDS_SENTENCE = re.compile(r"[.!?؟।॥][\"'”’»]*$")
_ANY_QUOTE = re.compile("[\"'“”‘’«»„]")
_QUOTES = re.compile("[\"“”«»„]")
# A capitalised word in Latin script: where a pointer glued to the end of a
# sentence ("... zinakotoka Unaweza kusoma") begins.
_PAREN = re.compile(r"[()]")
_TITLECASE_WORD = re.compile(r"(?<=\s)[A-ZÀ-Þ][a-zß-ÿ]+(?=\s|$)")


@dataclass(frozen=True)
class ShapeRules:
    """The data of the shape rules, from `cleaning.yaml` (its `shapes`,
    `chrome_prefixes`, `reader_calls` and `continuations`). The defaults here
    are those of the repository's cleaning.yaml, for a corpus whose file
    leaves a threshold out."""

    pointer_openers: frozenset[tuple[str, ...]] = frozenset()
    reader_calls: frozenset[tuple[str, ...]] = frozenset()
    # Words (folded) that open a sentence going on from the one before
    # ("and", "but"), and clitic prefixes that do so in Arabic script ("و").
    continuation_words: frozenset[str] = frozenset()
    continuation_prefixes: tuple[str, ...] = ()
    paren_link_min_words: int = 4
    headline_max_words: int = 14
    pointer_max_words: int = 12
    glued_headline_min_words: int = 4
    glued_headline_max_words: int = 12
    glued_headline_context: int = 3
    glued_headline_max_overlap: float = 0.2
    call_max_words: int = 30
    boilerplate_min_documents: int = 3
    boilerplate_min_words: int = 2
    boilerplate_max_words: int = 25
    boilerplate_max_sentence_words: int = 8
    lone_headline_min_words: int = 5
    lone_headline_max_overlap: float = 0.15
    lone_headline_long_words: int = 8
    lone_headline_long_max_overlap: float = 0.4
    lone_headline_context_lines: int = 3
    leads_min_run: int = 3
    leads_min_dated: int = 3
    leads_max_overlap: float = 0.25

    @classmethod
    def from_mapping(cls, data: dict, fold: Callable[[str], str]) -> "ShapeRules":
        shapes = dict(data.get("shapes") or {})

        def terms(key: str) -> frozenset[tuple[str, ...]]:
            return frozenset(tuple(fold(t).split()) for v in (data.get(key) or {}).values() for t in v or [] if fold(t))

        known = {f for f in cls.__dataclass_fields__ if f not in ("pointer_openers", "reader_calls", "continuation_words", "continuation_prefixes")}
        unknown = sorted(set(shapes) - known)
        if unknown:
            raise ValueError(f"cleaning.yaml: shapes: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        entries = [str(t) for v in (data.get("continuations") or {}).values() for t in v or []]
        return cls(
            # A pointer inside a line opens with the words that open a stub line.
            pointer_openers=terms("chrome_prefixes"),
            reader_calls=terms("reader_calls"),
            continuation_words=frozenset(fold(t) for t in entries if not t.endswith("-") and fold(t)),
            continuation_prefixes=tuple(sorted({fold(t[:-1]) for t in entries if t.endswith("-") and fold(t[:-1])})),
            **shapes,
        )

    @property
    def pointer_first_words(self) -> frozenset[str]:
        first = self.__dict__.get("_pointer_first_words")
        if first is None:
            first = frozenset(t[0] for t in self.pointer_openers if t)
            object.__setattr__(self, "_pointer_first_words", first)
        return first

    def continues(self, folded: str) -> bool:
        """Whether a folded text opens like a sentence that goes on from the
        one before it ("And ...", "وقال ..."): an article's own sentence, never
        another story's headline or lead."""
        first = folded.partition(" ")[0]
        if any(folded == w or folded.startswith(w + " ") for w in self.continuation_words):
            return True
        # A clitic prefix counts before a word of three letters at least.
        return any(first.startswith(p) and len(first) - len(p) >= 3 for p in self.continuation_prefixes)


@dataclass(frozen=True)
class Piece:
    """[start, end) of a piece in its line, and what cut it out."""

    start: int
    end: int
    kind: str  # sentence | paren | label


@dataclass(frozen=True)
class Removal:
    text: str
    reason: str
    score: Optional[float]


def split(line: str, opened: bool = False, is_pointer: Optional[Callable[[str], bool]] = None) -> list[Piece]:
    """The pieces of a line, in order, covering every non-blank character.

    `opened`: the line continues a parenthesis that a line of its own opened
    ("(" alone on the line before), so its text up to the first unmatched
    ")" is one parenthesised piece. `is_pointer(text)` tells whether a text
    opens with a pointer: a sentence with no final mark is cut before a
    capitalised word that opens one."""
    if not opened and "(" not in line and ":" not in line and "：" not in line:
        # The common line: sentences only, cut in one scan.
        pieces = _sentences(line)
        return _cut_glued_pointers(line, pieces, is_pointer) if is_pointer is not None else pieces
    pieces: list[Piece] = []
    pos = _skip_space(line, 0)
    # Every "(" with the ")" that closes it, and the ")" that close nothing,
    # found in one pass: a line of many parentheses costs no more than its
    # length.
    pairs, unmatched = _parentheses(line)
    if opened:
        close = next((i for i in unmatched if i >= pos), None)
        if close is not None:
            pieces.append(Piece(pos, close + 1, "paren"))
            pos = _skip_space(line, close + 1)
    while pos < len(line):
        if line[pos] == "(":
            close = pairs.get(pos)
            if close is not None and _stands_alone_after(line, close + 1):
                pieces.append(Piece(pos, close + 1, "paren"))
                pos = _skip_space(line, close + 1)
                continue
        label = _LABEL.match(line, pos) if pos < len(line) else None
        if label is not None:
            pieces.append(Piece(pos, label.end(), "label"))
            pos = _skip_space(line, label.end())
            continue
        found = _SENTENCE_BOUNDARY.search(line, pos)
        end = found.end() if found else len(line)
        # A parenthesis opening after a sentence starts a piece of its own.
        paren = line.find("(", pos + 1, end)
        if paren > pos and paren in pairs and _ENDS_SENTENCE.search(line[pos:paren].rstrip()):
            end = paren
        pieces.append(Piece(pos, end, "sentence"))
        pos = _skip_space(line, end)
    return _cut_glued_pointers(line, pieces, is_pointer) if is_pointer is not None else pieces


def _sentences(line: str) -> list[Piece]:
    """The sentence pieces of a line with no parenthesis and no label."""
    pieces: list[Piece] = []
    pos = _skip_space(line, 0)
    for found in _SENTENCE_BOUNDARY.finditer(line):
        end = found.end()
        if end > pos:
            pieces.append(Piece(pos, end, "sentence"))
        pos = _skip_space(line, end)
    if pos < len(line):
        pieces.append(Piece(pos, len(line.rstrip()), "sentence"))
    return pieces


def _skip_space(line: str, pos: int) -> int:
    while pos < len(line) and line[pos].isspace():
        pos += 1
    return pos


def _parentheses(line: str) -> tuple[dict[int, int], list[int]]:
    """Where each "(" of the line is closed, and the positions of the ")"
    that close no "(" of the line, in order."""
    pairs: dict[int, int] = {}
    unmatched: list[int] = []
    stack: list[int] = []
    for m in _PAREN.finditer(line):
        i = m.start()
        if line[i] == "(":
            stack.append(i)
        elif stack:
            pairs[stack.pop()] = i
        else:
            unmatched.append(i)
    return pairs, unmatched


def _stands_alone_after(line: str, pos: int) -> bool:
    """After a ")" that stands between sentences comes the line's end or a
    new sentence, not the rest of a clause (",", a lowercase word)."""
    at = _skip_space(line, pos)
    if at >= len(line):
        return True
    first = line[at]
    if first in ".,;:،؛)":
        return False
    # In a script with case, a clause goes on in lowercase.
    return not first.islower()


def _cut_glued_pointers(line: str, pieces: list[Piece], is_pointer: Callable[[str], bool]) -> list[Piece]:
    """Pointers glued to a sentence by a lost break, in a script with case:
    one closing a sentence with no final mark before it ("... zinakotoka
    Unaweza kusoma") is cut off before its capital; one that opens a piece
    and runs on into the next sentence ("Unaweza kutazama mazungumzo yake na
    BBC Je ilikuwaje ...?") is cut before the first capitalised word after
    it, so the pointer is judged alone and the sentence is kept."""
    out: list[Piece] = []
    for p in pieces:
        text = line[p.start : p.end].rstrip()
        if p.kind != "sentence":
            out.append(p)
            continue
        cut = None
        if not _FINAL_MARK.search(text):
            for m in _TITLECASE_WORD.finditer(line, p.start + 1, p.end):
                if is_pointer(line[m.start() : p.end]):
                    cut = m.start()
                    break
        elif is_pointer(text):
            for m in _TITLECASE_WORD.finditer(line, p.start + 1, p.end):
                if len(line[m.start() : p.end].split()) >= 3:
                    cut = m.start()
                    break
        if cut is not None and cut > p.start:
            out.append(Piece(p.start, cut, "sentence"))
            out.append(Piece(cut, p.end, "sentence"))
        else:
            out.append(p)
    return out


def _words(text: str) -> int:
    return len(text.split())


def _opens_with(tokens: list[str], terms: frozenset[tuple[str, ...]]) -> Optional[tuple[str, ...]]:
    for n in range(min(len(tokens), 4), 0, -1):
        if tuple(tokens[:n]) in terms:
            return tuple(tokens[:n])
    return None


def _contains(tokens: list[str], terms: frozenset[tuple[str, ...]]) -> bool:
    for i in range(len(tokens)):
        for n in range(1, min(4, len(tokens) - i) + 1):
            if tuple(tokens[i : i + n]) in terms:
                return True
    return False


def _mostly_capitalised(text: str) -> bool:
    """Whether most words of a text in a script with case open with a
    capital: names, as in a source credit "(Gazzetta dello Sport - in
    Italian)", not a headline."""
    cased = [w for w in text.split() if w[:1].isalpha() and (w[0].isupper() or w[0].islower())]
    return bool(cased) and 2 * sum(w[0].isupper() for w in cased) >= len(cased)


def _is_caps_label(text: str) -> bool:
    """"TUAMBIE SIMULIZI YAKO:": a label of two words at least whose cased
    letters (six at least) are all capitals."""
    body = text.rstrip(":： ")
    cased = [c for c in body if c.isalpha() and (c.isupper() or c.islower())]
    return _words(body) >= 2 and len(cased) >= 6 and all(c.isupper() for c in cased)


def judge(
    line: str,
    shapes: ShapeRules,
    fold: Callable[[str], str],
    opened: bool = False,
    recurring: Callable[[str], int] = lambda text: 0,
    title: bool = False,
) -> tuple[list[str], list[Removal]]:
    """The runs of the line that are kept, each verbatim, and what was taken
    out between them and why.

    `recurring(text)` is the number of documents of the corpus that hold a
    piece of that text (0 without corpus statistics). `title`: the line is
    the article's first, whose opening may look like a pointer ("Watch: the
    moment ...", a video's title)."""
    pieces = split(line, opened, lambda text: _opens_with_pointer(text, shapes, fold))
    if len(pieces) <= 1 and not opened:
        # A line of one piece is judged by the line rules; only boilerplate
        # applies to it here.
        reason = None if title else _boilerplate(line, shapes, recurring)
        if reason is not None:
            return [], [reason]
        return [line], []
    removals: list[Removal] = []
    drop: set[int] = set()
    quotations = _Quotations(line)
    for i, p in enumerate(pieces):
        if i in drop:
            continue
        text = line[p.start : p.end].strip()
        found = _judge_piece(text, p, shapes, fold, recurring, pointer=not (title and i == 0), furniture=not title and (p.kind != "label" or i == len(pieces) - 1))
        if found is None and p.kind == "sentence" and i + 1 < len(pieces) and pieces[i + 1].start == p.end:
            found = _glued_headline(line, pieces, i, text, shapes, fold, quotations.open_at(p.start))
        if found is None and p.kind == "label" and _is_caps_label(text) and i + 1 < len(pieces):
            after = line[pieces[i + 1].start : pieces[i + 1].end].strip()
            if after.endswith(("?", "؟")):
                found = Removal(text, "call_to_reader", None)
        if found is None:
            continue
        drop.add(i)
        removals.append(found)
        # A callout's label takes the question it asks with it; a label in
        # capitals that asks the reader a question is a callout too.
        if found.reason == "call_to_reader" and p.kind == "label" and i + 1 < len(pieces):
            nxt = pieces[i + 1]
            question = line[nxt.start : nxt.end].strip()
            if question.endswith(("?", "؟")) and _words(question) <= shapes.call_max_words and not _QUOTES.search(question):
                drop.add(i + 1)
                removals.append(Removal(question, "call_to_reader", None))
    if not drop:
        return [line], removals
    return _runs(line, pieces, drop), removals


def _runs(line: str, pieces: list[Piece], drop: set[int]) -> list[str]:
    """The runs of kept pieces between dropped ones, each a verbatim slice of
    the line, so every kept block is text the page printed."""
    runs: list[str] = []
    start: Optional[int] = None
    end = 0
    for i, p in enumerate(pieces):
        if i in drop:
            if start is not None:
                runs.append(line[start:end].strip())
                start = None
            continue
        if start is None:
            start = p.start
        end = p.end
    if start is not None:
        runs.append(line[start:end].strip())
    return [r for r in runs if r]


def _is_pointer(text: str, shapes: ShapeRules, fold: Callable[[str], str]) -> bool:
    """Whether a piece of at most `pointer_max_words` words opens with a
    pointer (`chrome_prefixes`)."""
    tokens = fold(text).split()
    return len(tokens) <= shapes.pointer_max_words and bool(tokens) and tokens[0] in shapes.pointer_first_words and _opens_with(tokens, shapes.pointer_openers) is not None


def _opens_with_pointer(text: str, shapes: ShapeRules, fold: Callable[[str], str]) -> bool:
    """Whether a text opens with a pointer, whatever its length: its first
    words are enough (a pointer has at most four). Most texts are ruled out
    by their first word alone."""
    head = text.split(None, 1)
    first = fold(head[0]).split() if head else []
    if not first or first[0] not in shapes.pointer_first_words:
        return False
    return _opens_with(fold(text[:80]).split()[:4], shapes.pointer_openers) is not None


def _judge_piece(
    text: str,
    piece: Piece,
    shapes: ShapeRules,
    fold: Callable[[str], str],
    recurring: Callable[[str], int],
    pointer: bool = True,
    furniture: bool = True,
) -> Optional[Removal]:
    """The first rule that removes the piece, if any. `pointer`: the pointer
    rule applies (not to a title's opening); `furniture`: the boilerplate
    rule applies (not to a title, nor to a label that introduces what follows
    it, such as a recurring "He added:")."""
    # Cheap tests first: most pieces are sentences longer than any stub.
    quoted = bool(_QUOTES.search(text))
    if piece.kind == "label" and not quoted and _contains(fold(text).split(), shapes.reader_calls):
        return Removal(text, "call_to_reader", None)
    if pointer and not quoted and len(text.split()) <= 2 * shapes.pointer_max_words and _is_pointer(text, shapes, fold):
        # A pointer does not close like a statement: it ends in a colon,
        # with its link text, or with nothing.
        if not text.rstrip().endswith((".", "!", "।", "॥")):
            return Removal(text, "pointer_stub", None)
    if piece.kind == "paren":
        inner = text.strip("() \n")
        n = len(fold(inner).split())
        if (
            shapes.paren_link_min_words <= n <= shapes.headline_max_words
            and not _SENTENCE_BOUNDARY.search(inner)
            and not inner.endswith((".", "।"))
            and not _mostly_capitalised(inner)
        ):
            return Removal(text, "related_link", None)
        # A parenthesis that recurs is a source credit ("(Sky Sports)"), as
        # often as not: only what stands alone is boilerplate.
        return None
    return _boilerplate(text, shapes, recurring) if furniture else None


_HEADLINE_CLOSE = re.compile(r"[?!؟]$")


def _glued_headline(
    line: str, pieces: list[Piece], i: int, text: str, shapes: ShapeRules, fold: Callable[[str], str], quoted: bool
) -> Optional[Removal]:
    """Another story's headline where the page lost the line breaks around
    it: a question or an exclamation of headline length,
    glued to the next sentence with no space, that shares few words with the
    sentence before it and with the text after it (an article's own
    subheading heads the text that follows). `quoted`: a quotation opened
    before the piece is still open, so the piece is somebody's words."""
    if quoted or not _HEADLINE_CLOSE.search(text) or _ANY_QUOTE.search(text):
        return None
    words = len(fold(text).split())
    if not (shapes.glued_headline_min_words <= words <= shapes.glued_headline_max_words) or shapes.continues(fold(text)):
        return None
    after = [line[q.start : q.end] for q in pieces[i + 1 : i + 1 + shapes.glued_headline_context]]
    before = [line[pieces[i - 1].start : pieces[i - 1].end]] if i > 0 else []
    score = max(overlap(text, after, fold), overlap(text, before, fold) if before else 0.0)
    if score <= shapes.glued_headline_max_overlap:
        return Removal(text, "related_link", round(score, 3))
    return None


class _Quotations:
    """Whether a quotation is open at each point of a line, asked at points
    in increasing order: each character is counted once."""

    def __init__(self, line: str):
        self.line = line
        self.at = 0
        self.straight = 0  # '"' seen so far
        self.curly = 0  # "“" less "”"
        self.angled = 0  # "«" less "»"

    def open_at(self, pos: int) -> bool:
        part = self.line[self.at : pos]
        self.at = max(self.at, pos)
        self.straight += part.count('"')
        self.curly += part.count("“") - part.count("”")
        self.angled += part.count("«") - part.count("»")
        return self.straight % 2 == 1 or self.curly > 0 or self.angled > 0


_PARENTHESIS = re.compile(r"\([^()]*\)")


def may_be_boilerplate(text: str, shapes: ShapeRules) -> bool:
    """Whether a segment has the shape of furniture, were it to recur: the
    corpus-level count keeps only such segments, and the cleaner asks only
    of them."""
    # Words in parentheses do not count: a recurring "(Sky Sports)." is a
    # source credit, not furniture.
    n = _words(_PARENTHESIS.sub(" ", text) if "(" in text else text)
    if not shapes.boilerplate_min_words <= n <= shapes.boilerplate_max_words:
        return False
    # A sentence of prose that recurs is as likely a story's background,
    # repeated in each of its reports, as furniture: only a short one counts.
    return not (n > shapes.boilerplate_max_sentence_words and _ENDS_SENTENCE.search(text.rstrip()))


def _boilerplate(text: str, shapes: ShapeRules, recurring: Callable[[str], int]) -> Optional[Removal]:
    if not may_be_boilerplate(text, shapes):
        return None
    count = recurring(text)
    if count >= shapes.boilerplate_min_documents:
        return Removal(text, "boilerplate", float(count))
    return None


# -- the shape of a line among its neighbours ------------------------------------

def stems(text: str, fold: Callable[[str], str]) -> set[str]:
    """Crude stems of a text's words (folded, an Arabic article and its
    clitics dropped, the first five letters), for word overlap: enough to
    tell a paragraph that goes on with a heading's words from one that does
    not, in any of our scripts, with no word list."""
    out = set()
    for word in fold(text).split():
        stem = ARTICLE_WITH_CLITICS.sub("", word) if len(word) > 4 else word
        if len(stem) < 3:
            stem = word
        if len(stem) >= 3:
            out.add(stem[:5])
    return out


def overlap(text: str, context: Iterable[str], fold: Callable[[str], str]) -> float:
    """Share of the text's stems that occur in the context."""
    own = stems(text, fold)
    if not own:
        return 1.0
    other: set[str] = set()
    for c in context:
        other |= stems(c, fold)
    return len(own & other) / len(own)

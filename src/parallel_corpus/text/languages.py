"""Language codes -> the name a curated table keys a language by.

The pipeline names a language several ways: langdetect's code ("zh-cn"),
ISO 639-1 ("ar"), ISO 639-3 ("arb"), FLORES-200 ("arb_Arab"). Each curated
table (languages.yaml, dates.yaml, entities.yaml) keys its languages by one
name and lists the other codes it answers to; this is the one reading of such
a list. It reads no file: each stage hands over the table it has loaded.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional

__all__ = ["ANY_LANGUAGE", "LanguageCodes"]

# What an unknown or missing language resolves to: every table at once.
ANY_LANGUAGE = "*"


class LanguageCodes:
    """The codes each language of a curated table answers to, case-insensitive.

    A language's own name always names it; another code names the first
    language that lists it ("zh" for both zh-cn and zh-tw names zh-cn).
    """

    def __init__(self, languages: Mapping[str, Iterable[str]] | None = None) -> None:
        self._name: dict[str, str] = {}
        languages = languages or {}
        for name in languages:
            self._name.setdefault(str(name).casefold(), str(name))
        for name, codes in languages.items():
            for code in codes or ():
                self._name.setdefault(str(code).casefold(), str(name))

    def add_names(self, names: Iterable[str]) -> None:
        """Let languages the table uses without declaring them name
        themselves, where no declared language claims that code."""
        for name in names:
            self._name.setdefault(str(name).casefold(), str(name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LanguageCodes) and self._name == other._name

    def __repr__(self) -> str:
        return f"LanguageCodes({self._name!r})"

    @property
    def names(self) -> list[str]:
        """Every language a code names, sorted."""
        return sorted(set(self._name.values()))

    def lookup(self, code: str) -> Optional[str]:
        """The language `code` names as written, or None."""
        return self._name.get(code.casefold())

    def resolve(self, code: Optional[str]) -> str:
        """The language `code` names, else the one its head names ("sw" of
        "sw-KE", "swh" of "swh_Latn"), else `ANY_LANGUAGE` (also for no code)."""
        if not code:
            return ANY_LANGUAGE
        key = code.casefold()
        if key in self._name:
            return self._name[key]
        return self._name.get(key.split("_")[0].split("-")[0], ANY_LANGUAGE)

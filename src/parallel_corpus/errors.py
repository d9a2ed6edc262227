"""One error for everything the package refuses, and the problem it names.

Every refusal is read by a person at a terminal or in CI logs, often about a
file they did not write: it must say which file, which row, which field, what
is wrong and what to do, on one line. A `Problem` holds those parts, so that
`validate` can list every problem of a folder and the CLI can print the first
one, without either parsing a formatted string back apart. `Error` is the one
base class the CLI catches; each room subclasses it with its own name
(`CorpusError`, `AnnotationError`, `PublishError`, ...) so a caller can catch
one room's refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

__all__ = ["Problem", "Error"]


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: `file:row:field: message[: fix]`.

    `row` and `field` are "-" where the problem is the whole file or the
    whole row, and None where the place has no such part at all (a message
    about a folder, a server): None parts are left out of the line."""

    message: str
    file: Optional[str] = None
    row: Optional[str] = None
    field: Optional[str] = None
    fix: Optional[str] = None

    @classmethod
    def at(cls, file: Any, row: Any = "-", field: Any = "-", message: str = "", fix: Optional[str] = None) -> "Problem":
        """A problem at a place in a file (every part of the place given)."""
        return cls(message, str(file), str(row), str(field), fix)

    @property
    def place(self) -> str:
        return ":".join(p for p in (self.file, self.row, self.field) if p is not None)

    def __str__(self) -> str:
        text = f"{self.place}: {self.message}" if self.place else self.message
        return f"{text}: {self.fix}" if self.fix else text


class Error(Exception):
    """A refusal of the package: one or more problems, the first of which is
    the line a person reads.

    `Error("text")` is a problem with no place; `Error(problem)` or
    `Error([problems])` keep the parts. The line names the first problem,
    says how many more `parallel-corpus validate` would list, and ends with
    `more_hint` (what to do about them all) when given."""

    def __init__(self, problem: Union[str, Problem, Sequence[Problem]], *, more_hint: Optional[str] = None) -> None:
        if isinstance(problem, str):
            problems: tuple[Problem, ...] = (Problem(problem),)
        elif isinstance(problem, Problem):
            problems = (problem,)
        else:
            problems = tuple(problem)
            if not problems:
                raise ValueError("an Error needs at least one problem")
        self.problems = problems
        self.more_hint = more_hint
        super().__init__(self._line())

    @property
    def problem(self) -> Problem:
        return self.problems[0]

    def _line(self) -> str:
        line = str(self.problems[0])
        if len(self.problems) > 1:
            line += f" (and {len(self.problems) - 1} more; run `parallel-corpus validate`)"
        if self.more_hint:
            line += f": {self.more_hint}"
        return line

    def __str__(self) -> str:
        return self._line()



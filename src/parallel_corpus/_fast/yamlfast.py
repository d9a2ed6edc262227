"""YAML as `yaml.safe_load` reads it, several times faster for plain documents.

Even with libyaml, PyYAML builds a node object for every scalar and then
walks the nodes in Python: 1.86 CPU s for the 7,033-entity synthetic
gazetteer (2.1 MB), paid by every build and by every worker that loads the
stages itself (Ray, or a spawned pool); built from the events, it takes
0.36 s, 5.2x less (`scripts/bench-fast-paths`). libyaml's event stream
alone takes a tenth of PyYAML's time, so this module builds the same Python
values straight from the events, resolving each plain scalar with PyYAML's
own resolver and constructors. `tests/_fast/test_yamlfast.py` compares values,
types and error messages with `yaml.load`.

It takes the common shape only: no anchors, aliases, explicit tags or merge
keys, one document. Anything else, and any error at all (a syntax error,
a date that does not exist), goes to `yaml.load`, which gives its usual
result or its usual error: the fast path never decides what fails.

Anchors and aliases are refused (`AliasRefused`, a YAML error that names
the line): a few hundred bytes of nested aliases unfold into billions of
values for whoever walks the result (a schema check, a dump), and no
curated file or card needs them.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

__all__ = ["safe_load", "AliasRefused", "DuplicateKey"]

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
# Scalars only: a merge key "<<" or the "=" value key needs its mapping, and
# is left to yaml.load.
_SCALAR_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp"))


class AliasRefused(yaml.MarkedYAMLError):
    """The document uses an anchor or an alias."""


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping gives one key twice: yaml.load keeps the last silently, so a
    stray line can replace a whole curated list without anyone seeing it."""


class _NotPlain(Exception):
    """The document uses a YAML feature this module leaves to yaml.load."""


def safe_load(text: str) -> Any:
    """What `yaml.load(text, Loader=CSafeLoader)` returns, or raises."""
    if not SafeLoader.yaml_path_resolvers:
        # The loader's tables as they are now: a resolver or constructor
        # registered on it since applies here too.
        _resolver.yaml_implicit_resolvers = SafeLoader.yaml_implicit_resolvers
        constructors = {tag: SafeLoader.yaml_constructors.get(tag) for tag in _SCALAR_TAGS}
        try:
            return _from_events(text, constructors)
        except DuplicateKey:
            raise
        except Exception:
            pass
    _refuse_aliases(text)
    return yaml.load(text, Loader=SafeLoader)


def _refuse_aliases(text: str) -> None:
    """Raise AliasRefused at the first anchor or alias; the parser's own
    errors are left to `yaml.load`, which gives them as usual."""
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
                raise AliasRefused(
                    problem="anchors and aliases (& and *) are not accepted: write each value out",
                    problem_mark=event.start_mark,
                )
    except AliasRefused:
        raise
    except yaml.YAMLError:
        return


def _scalar(event: ScalarEvent, constructors: dict[str, Any]) -> Any:
    if event.anchor is not None or event.tag not in (None, "!"):
        raise _NotPlain("anchor or tag")
    if not event.implicit[0]:
        # Quoted, or a block scalar: the resolver gives these str whatever they say.
        return event.value
    tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    make = constructors.get(tag)
    if make is None:
        raise _NotPlain(tag)
    return make(_constructor, yaml.ScalarNode(tag, event.value, style=event.style))


def _from_events(text: str, constructors: dict[str, Any]) -> Any:
    # Each open container with, for a mapping, the key waiting for its value.
    stack: list[list[Any]] = []
    documents = 0
    result: Any = None

    mark = None

    def add(value: Any) -> None:
        nonlocal result
        if not stack:
            result = value
            return
        top = stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
        elif top[1] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise _NotPlain("a mapping or sequence as a key")
            if value in container:
                raise DuplicateKey(problem=f"the key {value!r} is given twice in this mapping: keep one", problem_mark=mark)
            top[1] = value
        else:
            container[top[1]] = value
            top[1] = _NO_KEY

    for event in yaml.parse(text, Loader=SafeLoader):
        kind = type(event)
        mark = event.start_mark
        if kind is ScalarEvent:
            add(_scalar(event, constructors))
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _NotPlain("anchor or tag")
            stack.append([{} if kind is MappingStartEvent else [], _NO_KEY])
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            add(stack.pop()[0])
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _NotPlain("more than one document")
        elif kind in (DocumentEndEvent, StreamStartEvent, StreamEndEvent):
            continue
        else:  # an alias
            raise _NotPlain(kind.__name__)
    return result


_NO_KEY = object()

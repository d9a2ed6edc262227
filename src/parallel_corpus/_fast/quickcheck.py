"""A fast yes for records that fit their schema; jsonschema has the last word.

`jsonschema` walks a schema through layers of generic machinery for every
record: about 45 µs for one `sources.jsonl` line and 120 µs for one
gazetteer entity, which is seconds of a build that runs on one core while
the workers wait (a corpus of 100,000 sources, a gazetteer of 7,000
entities). Almost every record is valid, so this module turns a schema file
into plain Python predicates once, and asks jsonschema only when the
predicate says no: the schema file stays the one source of truth, and every
error message is still jsonschema's.

A compiled check gives exactly jsonschema's verdict, keyword by keyword, for
the keywords it knows (those `schemas/` uses). A schema with any other
keyword is not compiled (`compile_check` returns None) and everything goes to
jsonschema; a value it cannot judge exactly at run time (`uniqueItems` over
anything but strings) raises `Unsure`, with the same effect for that record.
"""

from __future__ import annotations

import numbers
import re
from typing import Any, Callable, Mapping, Optional

__all__ = ["Unsure", "compile_check"]

Check = Callable[[Any], bool]

# Keywords that never change a verdict: annotations, and containers only
# reached through `$ref` or `if`. `x-` keywords are ignored by jsonschema
# too; any other keyword, known to jsonschema or not, is not compiled.
_ANNOTATIONS = frozenset({"$schema", "$comment", "$defs", "title", "description", "examples", "default", "then", "else"})
# The keywords compiled, and the method that compiles each.
_KEYWORDS = {
    name: "_" + name
    for name in (
        "type", "properties", "required", "additionalProperties", "propertyNames", "minProperties", "items", "minItems",
        "uniqueItems", "minLength", "pattern", "minimum", "maximum", "format", "enum", "const", "if",
    )
}
_KEYWORDS["$ref"] = "_ref"


class Unsure(Exception):
    """The compiled check cannot give jsonschema's exact verdict on this value."""


class _Unsupported(Exception):
    """A keyword or value this module does not compile."""


def compile_check(schema: Mapping[str, Any], format_checker: Any = None) -> Optional[Check]:
    """A predicate that is True exactly when jsonschema (draft 2020-12, with
    `format_checker` or without format checks) finds no error; it may raise
    `Unsure`. None if the schema uses a keyword this module does not know."""
    compiler = _Compiler(schema, format_checker)
    try:
        return compiler.compile(schema)
    except _Unsupported:
        return None


# The draft 2020-12 type checker's predicates (jsonschema._types), written out
# so that a type test is one isinstance call.
def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Number)


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "null": lambda x: x is None,
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "integer": _is_integer,
    "number": _is_number,
}


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


class _Compiler:
    def __init__(self, root: Mapping[str, Any], format_checker: Any):
        self.root = root
        self.format_checker = format_checker
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise _Unsupported(repr(schema))
        checks: list[Check] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS or key.startswith("x-") or (key == "$id" and schema is self.root):
                continue
            if key not in _KEYWORDS:
                # Includes a nested `$id`, which would move where `$ref` points.
                raise _Unsupported(key)
            made = getattr(self, _KEYWORDS[key])(value, schema)
            if made is not None:
                checks.append(made)
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(c(x) for c in checks)

    # -- keywords, each as jsonschema applies it ---------------------------

    def _type(self, value: Any, schema: Any) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        if any(n not in _TYPES for n in names):
            raise _Unsupported(f"type {value!r}")
        tests = [_TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]
        return lambda x: any(t(x) for t in tests)

    def _properties(self, value: Mapping[str, Any], schema: Any) -> Check:
        props = [(name, self.compile(sub)) for name, sub in value.items()]

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for name, c in props:
                if name in x and not c(x[name]):
                    return False
            return True

        return check

    def _required(self, value: list[str], schema: Any) -> Check:
        names = list(value)
        return lambda x: not isinstance(x, dict) or all(n in x for n in names)

    def _additionalProperties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda x: not isinstance(x, dict) or all(k in known for k in x)
        extra = self.compile(value)
        return lambda x: not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in known)

    def _propertyNames(self, value: Any, schema: Any) -> Check:
        name = self.compile(value)
        return lambda x: not isinstance(x, dict) or all(name(k) for k in x)

    def _minProperties(self, value: int, schema: Any) -> Check:
        return lambda x: not isinstance(x, dict) or len(x) >= value

    def _items(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "prefixItems" in schema or isinstance(value, bool):
            raise _Unsupported("prefixItems")
        item = self.compile(value)
        return lambda x: not isinstance(x, list) or all(item(v) for v in x)

    def _minItems(self, value: int, schema: Any) -> Check:
        return lambda x: not isinstance(x, list) or len(x) >= value

    def _uniqueItems(self, value: bool, schema: Any) -> Optional[Check]:
        if not value:
            return None

        def check(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            if not all(isinstance(v, str) for v in x):
                raise Unsure("uniqueItems over values that are not all strings")
            return len(set(x)) == len(x)

        return check

    def _minLength(self, value: int, schema: Any) -> Check:
        return lambda x: not isinstance(x, str) or len(x) >= value

    def _pattern(self, value: str, schema: Any) -> Check:
        search = re.compile(value).search
        return lambda x: not isinstance(x, str) or search(x) is not None

    def _minimum(self, value: Any, schema: Any) -> Check:
        return lambda x: not _is_number(x) or not x < value

    def _maximum(self, value: Any, schema: Any) -> Check:
        return lambda x: not _is_number(x) or not x > value

    def _format(self, value: str, schema: Any) -> Optional[Check]:
        if self.format_checker is None:
            return None
        conforms = self.format_checker.conforms
        return lambda x: conforms(x, value)

    def _enum(self, value: list[Any], schema: Any) -> Check:
        return _one_of_constants(value)

    def _const(self, value: Any, schema: Any) -> Check:
        return _one_of_constants([value])

    def _if(self, value: Any, schema: Mapping[str, Any]) -> Optional[Check]:
        condition = self.compile(value)
        then = self.compile(schema["then"]) if "then" in schema else _always
        otherwise = self.compile(schema["else"]) if "else" in schema else _always
        return lambda x: then(x) if condition(x) else otherwise(x)

    def _ref(self, value: str, schema: Any) -> Check:
        # Plain names only: no JSON-pointer escapes (~0, ~1) or percent-encoding.
        if not value.startswith("#/$defs/") or any(c in value[len("#/$defs/"):] for c in "/~%"):
            raise _Unsupported(f"$ref {value!r}")
        name = value[len("#/$defs/"):]
        if name not in self.refs:
            # Filled after compiling, so that a definition may refer to itself.
            self.refs[name] = _never
            try:
                target = self.root["$defs"][name]
            except (KeyError, TypeError):
                raise _Unsupported(f"$ref {value!r}") from None
            self.refs[name] = self.compile(target)
        refs = self.refs
        return lambda x: refs[name](x)


def _one_of_constants(values: list[Any]) -> Check:
    """jsonschema's `equal` against strings, booleans and null: a string
    equals only an equal string, and true, false and null only themselves
    (1 is not true)."""
    if not all(isinstance(v, (str, bool)) or v is None for v in values):
        raise _Unsupported("enum or const of numbers, arrays or objects")
    strings = frozenset(v for v in values if isinstance(v, str))
    singletons = [v for v in values if not isinstance(v, str)]
    return lambda x: (isinstance(x, str) and x in strings) or any(x is v for v in singletons)

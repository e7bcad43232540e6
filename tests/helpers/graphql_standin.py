"""A small GraphQL server core for the API stand-ins: parse a query, check it against a schema, run it.

Enough of the language for what API clients send: one operation (`query`, optionally named, with
variable definitions and their defaults), fields with aliases, arguments (variables, strings, numbers,
booleans, enums, lists, objects) and nested selections. Fragments, directives and mutations are
refused with an error, as a server without them would. Errors are answered as GraphQL servers answer
them: HTTP 200, `errors` (message, locations, path, `extensions.code`) and no `data`, so a client that
only looks at the status code sees nothing wrong.

The schema is plain Python: a type name maps field names to a `Field` (the object type it returns,
None for scalars and enums, and a resolver from the parent value and the arguments).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'(?P<skip>[\s,]+|#[^\n]*)|(?P<string>"(?:\\.|[^"\\])*")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<spread>\.\.\.)|(?P<punct>[{}()\[\]:$!=@])"
)


@dataclass(frozen=True)
class Var:
    name: str


@dataclass
class Selection:
    name: str
    alias: str
    args: dict[str, Any]
    children: list[Selection]
    line: int
    column: int


@dataclass
class Operation:
    selections: list[Selection]
    defaults: dict[str, Any]  # declared variables and their defaults (None when none)


@dataclass(frozen=True)
class Field:
    type: str | None  # the object type it returns (a list of them when the resolver returns a list); None: a scalar
    resolve: Callable[[Any, dict[str, Any]], Any]


Schema = dict[str, dict[str, Field]]


class QueryError(Exception):
    """An error GraphQL answers in `errors`, with its code in `extensions`."""

    def __init__(self, message: str, code: str, where: Selection | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.message, self.code, self.where, self.extensions = message, code, where, extensions

    def answer(self, path: list[str] | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.where is not None:
            error["locations"] = [{"line": self.where.line, "column": self.where.column}]
        if path:
            error["path"] = path
        error["extensions"] = {"code": self.code, **self.extensions}
        return error


@dataclass
class _Tokens:
    text: str
    items: list[tuple[str, str, int]] = field(default_factory=list)  # kind, text, offset
    at: int = 0

    @classmethod
    def of(cls, text: str) -> _Tokens:
        tokens = cls(text)
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise QueryError(f'Parse error on "{text[position]}"', "parseError")
            if match.lastgroup != "skip":
                tokens.items.append((match.lastgroup or "", match.group(), position))
            position = match.end()
        return tokens

    def peek(self) -> tuple[str, str, int]:
        return self.items[self.at] if self.at < len(self.items) else ("end", "", len(self.text))

    def take(self, expected: str | None = None) -> tuple[str, str, int]:
        kind, text, offset = self.peek()
        if kind == "end" or (expected is not None and text != expected):
            shown = text or "end of query"
            raise QueryError(f'Parse error on "{shown}" ({expected or "a token"} expected)', "parseError")
        self.at += 1
        return kind, text, offset

    def where(self, offset: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1


def parse(text: str) -> Operation:
    tokens = _Tokens.of(text)
    defaults: dict[str, Any] = {}
    kind, word, _ = tokens.peek()
    if kind == "name":
        if word != "query":
            raise QueryError(f"this server answers queries only, not {word!r}", "operationNotSupported")
        tokens.take()
        if tokens.peek()[0] == "name":
            tokens.take()
        if tokens.peek()[1] == "(":
            defaults = _variable_definitions(tokens)
    selections = _selection_set(tokens)
    if tokens.peek()[0] != "end":
        raise QueryError("only one operation per document is answered", "parseError")
    return Operation(selections, defaults)


def _variable_definitions(tokens: _Tokens) -> dict[str, Any]:
    tokens.take("(")
    defaults: dict[str, Any] = {}
    while tokens.peek()[1] != ")":
        tokens.take("$")
        name = tokens.take()[1]
        tokens.take(":")
        _type(tokens)
        defaults[name] = None
        if tokens.peek()[1] == "=":
            tokens.take()
            defaults[name] = _value(tokens, constant=True)
    tokens.take(")")
    return defaults


def _type(tokens: _Tokens) -> None:
    """A variable's type (`Int!`, `[String!]`): read past it; the resolvers check what they get."""
    if tokens.peek()[1] == "[":
        tokens.take("[")
        _type(tokens)
        tokens.take("]")
    elif tokens.take()[0] != "name":
        raise QueryError("Parse error in a variable's type", "parseError")
    if tokens.peek()[1] == "!":
        tokens.take()


def _selection_set(tokens: _Tokens) -> list[Selection]:
    tokens.take("{")
    selections = []
    while tokens.peek()[1] != "}":
        kind, word, offset = tokens.take()
        if kind == "spread" or word == "@":
            raise QueryError("fragments and directives are not supported by this stand-in", "parseError")
        if kind != "name":
            raise QueryError(f'Parse error on "{word}" (a field expected)', "parseError")
        alias, name = word, word
        if tokens.peek()[1] == ":":
            tokens.take()
            name = tokens.take()[1]
        args: dict[str, Any] = {}
        if tokens.peek()[1] == "(":
            tokens.take()
            while tokens.peek()[1] != ")":
                key = tokens.take()[1]
                tokens.take(":")
                args[key] = _value(tokens)
            tokens.take(")")
        children = _selection_set(tokens) if tokens.peek()[1] == "{" else []
        selections.append(Selection(name, alias, args, children, *tokens.where(offset)))
    tokens.take("}")
    return selections


def _value(tokens: _Tokens, *, constant: bool = False) -> Any:
    kind, word, _ = tokens.take()
    if word == "$" and not constant:
        return Var(tokens.take()[1])
    if kind == "string":
        return json.loads(word)
    if kind == "number":
        return float(word) if any(c in word for c in ".eE") else int(word)
    if word == "[":
        items = []
        while tokens.peek()[1] != "]":
            items.append(_value(tokens, constant=constant))
        tokens.take("]")
        return items
    if word == "{":
        members = {}
        while tokens.peek()[1] != "}":
            key = tokens.take()[1]
            tokens.take(":")
            members[key] = _value(tokens, constant=constant)
        tokens.take("}")
        return members
    if kind == "name":
        return {"true": True, "false": False, "null": None}.get(word, word)  # an enum value is its name
    raise QueryError(f'Parse error on "{word}" (a value expected)', "parseError")


def check(schema: Schema, type_name: str, selections: list[Selection], operation: Operation) -> list[dict[str, Any]]:
    """The query's errors against the schema, before anything runs (unknown fields, missing selections)."""
    errors = []
    fields = schema[type_name]
    for selection in selections:
        known = fields.get(selection.name)
        if known is None:
            error = QueryError(
                f"Field '{selection.name}' doesn't exist on type '{type_name}'",
                "undefinedField",
                selection,
                typeName=type_name,
                fieldName=selection.name,
            )
            errors.append(error.answer())
            continue
        for value in selection.args.values():
            for name in _variables_in(value):
                if name not in operation.defaults:
                    message = f"Variable ${name} is used by anonymous query but not declared"
                    errors.append(QueryError(message, "variableNotDefined", selection, variableName=name).answer())
        if known.type is None and selection.children:
            message = f"Selections can't be made on scalars (field '{selection.name}' returns a scalar)"
            errors.append(QueryError(message, "selectionMismatch", selection).answer())
        elif known.type is not None and not selection.children:
            message = f"Field must have selections (field '{selection.name}' returns {known.type})"
            errors.append(QueryError(message, "selectionMismatch", selection).answer())
        elif known.type is not None:
            errors += check(schema, known.type, selection.children, operation)
    return errors


def _variables_in(value: Any) -> list[str]:
    if isinstance(value, Var):
        return [value.name]
    if isinstance(value, list):
        return [name for item in value for name in _variables_in(item)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _variables_in(item)]
    return []


def arguments(selection: Selection, variables: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    def bound(value: Any) -> Any:
        if isinstance(value, Var):
            return variables.get(value.name, defaults.get(value.name))
        if isinstance(value, list):
            return [bound(item) for item in value]
        if isinstance(value, dict):
            return {key: bound(item) for key, item in value.items()}
        return value

    return {key: bound(value) for key, value in selection.args.items()}


def execute(
    schema: Schema, root_type: str, root: Any, operation: Operation, variables: dict[str, Any]
) -> dict[str, Any]:
    """`{"data": ...}`, or `{"errors": [...]}` when the query is wrong or a resolver refuses its arguments."""
    errors = check(schema, root_type, operation.selections, operation)
    if errors:
        return {"errors": errors}
    try:
        return {"data": _select(schema, root_type, root, operation.selections, variables, operation.defaults)}
    except QueryError as exc:
        return {"errors": [exc.answer()]}


def _select(
    schema: Schema,
    type_name: str,
    value: Any,
    selections: list[Selection],
    variables: dict[str, Any],
    defaults: dict[str, Any],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for selection in selections:
        known = schema[type_name][selection.name]
        try:
            result = known.resolve(value, arguments(selection, variables, defaults))
        except QueryError as exc:
            exc.where = exc.where or selection
            raise
        if known.type is not None and result is not None:
            if isinstance(result, list):
                result = [_select(schema, known.type, item, selection.children, variables, defaults) for item in result]
            else:
                result = _select(schema, known.type, result, selection.children, variables, defaults)
        out[selection.alias] = result
    return out

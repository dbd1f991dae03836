"""``F``: filters and orderings as small immutable trees, compiled by the statement builder.

``F.price > 10``, ``F.status.in_(["a", "b"])``, ``F.title.icontains("q")``, combined with
``&``, ``|`` and ``~``. A tree knows its *shape* (fields, operators, list lengths: no values)
so the builder compiles one statement per shape and binds new values each call; and it
yields its values in the same order the statement numbers its parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storeroom.errors import QueryError

__all__ = ["And", "Condition", "F", "FieldRef", "Filter", "Not", "Or", "OrderBy", "parse_order", "where_dict"]

COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
PATTERNS = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "like", "ilike"})


class Filter:
    """Base of filter nodes: combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Filter) -> Filter:
        return And((self, _filter(other)))

    def __or__(self, other: Filter) -> Filter:
        return Or((self, _filter(other)))

    def __invert__(self) -> Filter:
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError("a filter has no truth value: combine filters with &, | and ~ (not and/or/not)")

    def shape(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def values(self) -> Iterator[tuple[str, str, Any]]:
        """``(field, operator, value)`` per bound value, in parameter order."""
        raise NotImplementedError

    def fields(self) -> Iterator[str]:
        raise NotImplementedError


def _filter(value: object) -> Filter:
    if not isinstance(value, Filter):
        raise QueryError(f"expected a filter such as F.price > 10, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True, eq=False)
class Condition(Filter):
    field: str
    op: str
    value: Any = None

    def shape(self) -> tuple[Any, ...]:
        if self.op in ("in", "not_in"):
            return (self.field, self.op, len(self.value))
        if self.op == "is_null":
            return (self.field, self.op, bool(self.value))
        return (self.field, self.op)

    def values(self) -> Iterator[tuple[str, str, Any]]:
        if self.op in ("in", "not_in", "between"):
            for item in self.value:
                yield self.field, self.op, item
        elif self.op != "is_null":
            yield self.field, self.op, self.value

    def fields(self) -> Iterator[str]:
        yield self.field


@dataclass(frozen=True, slots=True, eq=False)
class And(Filter):
    parts: tuple[Filter, ...]

    def shape(self) -> tuple[Any, ...]:
        return ("and", *(p.shape() for p in self.parts))

    def values(self) -> Iterator[tuple[str, str, Any]]:
        for part in self.parts:
            yield from part.values()

    def fields(self) -> Iterator[str]:
        for part in self.parts:
            yield from part.fields()


@dataclass(frozen=True, slots=True, eq=False)
class Or(And):
    def shape(self) -> tuple[Any, ...]:
        return ("or", *(p.shape() for p in self.parts))


@dataclass(frozen=True, slots=True, eq=False)
class Not(Filter):
    part: Filter

    def shape(self) -> tuple[Any, ...]:
        return ("not", self.part.shape())

    def values(self) -> Iterator[tuple[str, str, Any]]:
        return self.part.values()

    def fields(self) -> Iterator[str]:
        return self.part.fields()


@dataclass(frozen=True, slots=True)
class OrderBy:
    field: str
    descending: bool = False

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.field}"


class FieldRef:
    """``F.name``: a field to compare, match or order by."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F.{self.name}"

    __hash__ = None  # type: ignore[assignment]  # == builds a filter

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self.name, "is_null", True) if value is None else Condition(self.name, "eq", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self.name, "is_null", False) if value is None else Condition(self.name, "ne", value)

    def __lt__(self, value: Any) -> Condition:
        return Condition(self.name, "lt", value)

    def __le__(self, value: Any) -> Condition:
        return Condition(self.name, "le", value)

    def __gt__(self, value: Any) -> Condition:
        return Condition(self.name, "gt", value)

    def __ge__(self, value: Any) -> Condition:
        return Condition(self.name, "ge", value)

    def in_(self, values: Iterable[Any]) -> Condition:
        return Condition(self.name, "in", _sequence(self.name, values))

    def not_in(self, values: Iterable[Any]) -> Condition:
        return Condition(self.name, "not_in", _sequence(self.name, values))

    def between(self, low: Any, high: Any) -> Condition:
        return Condition(self.name, "between", (low, high))

    def is_null(self, value: bool = True) -> Condition:
        return Condition(self.name, "is_null", bool(value))

    def contains(self, text: str) -> Condition:
        return Condition(self.name, "contains", text)

    def icontains(self, text: str) -> Condition:
        return Condition(self.name, "icontains", text)

    def startswith(self, text: str) -> Condition:
        return Condition(self.name, "startswith", text)

    def istartswith(self, text: str) -> Condition:
        return Condition(self.name, "istartswith", text)

    def endswith(self, text: str) -> Condition:
        return Condition(self.name, "endswith", text)

    def iendswith(self, text: str) -> Condition:
        return Condition(self.name, "iendswith", text)

    def like(self, pattern: str) -> Condition:
        """A SQL LIKE pattern as given (``%`` and ``_`` are wildcards, ``\\`` escapes)."""
        return Condition(self.name, "like", pattern)

    def ilike(self, pattern: str) -> Condition:
        return Condition(self.name, "ilike", pattern)

    def asc(self) -> OrderBy:
        return OrderBy(self.name, False)

    def desc(self) -> OrderBy:
        return OrderBy(self.name, True)


def _sequence(name: str, values: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(values, str | bytes | Mapping):
        raise QueryError(f"F.{name}.in_() takes a list of values, not a single {type(values).__name__}")
    return tuple(values)


class _F:
    """``F.price`` / ``F["order"]``: a reference to a model field."""

    def __getattr__(self, name: str) -> FieldRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return FieldRef(name)

    def __getitem__(self, name: str) -> FieldRef:
        return FieldRef(name)


F = _F()


def where_dict(where: Mapping[str, Any] | None) -> list[Filter]:
    """``where={"status": "draft", "owner_id": None}``: equality (``IS NULL`` for None)."""
    if where is None:
        return []
    if not isinstance(where, Mapping):
        raise QueryError(f"where= takes a mapping of field names to values, got {type(where).__name__}")
    return [FieldRef(name) == value for name, value in where.items()]


def parse_order(order_by: str | OrderBy | FieldRef | Sequence[str | OrderBy | FieldRef] | None) -> tuple[OrderBy, ...]:
    """``"-created_at"``, ``F.created_at.desc()``, or a list of them."""
    if order_by is None:
        return ()
    items = [order_by] if isinstance(order_by, str | OrderBy | FieldRef) else list(order_by)
    result: list[OrderBy] = []
    for item in items:
        if isinstance(item, OrderBy):
            result.append(item)
        elif isinstance(item, FieldRef):
            result.append(OrderBy(item.name))
        elif isinstance(item, str) and item.strip("+-"):
            result.append(OrderBy(item.lstrip("+-"), item.startswith("-")))
        else:
            raise QueryError(f"order_by takes field names ('-created_at') or F.field.desc(), got {item!r}")
    return tuple(result)

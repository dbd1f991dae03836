"""What each settings layer set, seen while Dynaconf loads, and the two rules built on it.

Dynaconf applies layers in order: each settings file's ``[default]`` section, the active
environment's section (``[production]``, ...), ``[global]``, then ``STOREROOM_*`` variables.
Tables merge key by key, as Dynaconf's ``merge_enabled`` does. Two things Dynaconf cannot be
told, so they are applied here from the recorded layers:

- **Lists replace.** Dynaconf appends a layer's list to the one below it, so an allow-list
  could never be narrowed. The list a key ends with is the one its highest layer gave (unless
  that layer asked Dynaconf to merge: a ``dynaconf_merge`` item or the ``@merge`` marker).
- **A url carries its backend.** An entry whose ``url`` comes from a higher layer than its
  ``backend`` (``STOREROOM_DATABASES__MAIN__URL=postgresql://...`` over a file saying
  ``backend = "sqlite"``) gets that backend as an :class:`InheritedBackend`, which
  :mod:`storeroom.config.backends` replaces by the backend the url's scheme names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["InheritedBackend", "Layer", "LayerRecorder", "ListValue", "mark_inherited_backends", "replace_lists"]

Path = tuple[str, ...]
Source = Literal["file", "env"]

#: list items that ask Dynaconf to merge a list with the one below it
_MERGE_MARKERS = ("dynaconf_merge", "dynaconf_merge_unique")


class InheritedBackend(str):
    """A ``backend`` set in a lower layer than the entry's ``url``: the url may override it."""

    __slots__ = ()


class _NotAList:
    __slots__ = ()


NOT_A_LIST = _NotAList()


@dataclass(frozen=True)
class ListValue:
    """A list a layer set: replacing the one below, or (asked for explicitly) merged into it."""

    items: list[Any]
    merge: bool = False
    unique: bool = False


def _list_value(value: Any) -> ListValue | None:
    if isinstance(value, str) and value.lstrip().startswith("@merge"):  # a token Dynaconf parses when it sets it
        from dynaconf.utils.parse_conf import parse_conf_data

        value = parse_conf_data(value, tomlfy=True, box_settings={})
    if getattr(value, "_dynaconf_merge", False) and hasattr(value, "unwrap"):  # the "@merge ..." marker
        inner = value.unwrap()
        items = _plain_copy(inner) if isinstance(inner, list | tuple) else [inner]
        return ListValue(items, merge=True, unique=bool(getattr(value, "_dynaconf_merge_unique", False)))
    if not isinstance(value, list | tuple):
        return None
    items = [_plain_copy(v) for v in value if not (isinstance(v, str) and v in _MERGE_MARKERS)]
    markers = {v for v in value if isinstance(v, str) and v in _MERGE_MARKERS}
    return ListValue(items, merge=bool(markers), unique="dynaconf_merge_unique" in markers)


@dataclass
class Layer:
    """One source Dynaconf applied: a settings file section or the environment variables."""

    source: Source
    top_keys: list[str] = field(default_factory=list)  # as written: DATABASES, DATABSE__MAIN__URL
    leaves: dict[Path, Any] = field(default_factory=dict)  # lower-cased path -> ListValue or NOT_A_LIST


def _is_dynaconf_key(key: str) -> bool:
    lowered = key.lower()
    return lowered.startswith("dynaconf_") or lowered.endswith("_for_dynaconf")


def _plain_copy(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain_copy(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain_copy(v) for k, v in value.items()}
    return value


def _leaves(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not _is_dynaconf_key(str(key)):
                yield from _leaves(item, (*path, str(key).lower()))
        return
    listed = _list_value(value)
    yield path, (NOT_A_LIST if listed is None else listed)


def split_top_key(key: str) -> Path:
    """``DATABASES__MAIN__URL`` / ``databases.main.url`` -> ``("databases", "main", "url")``."""
    return tuple(part.lower() for part in key.replace("__", ".").split(".") if part)


class LayerRecorder:
    """A Dynaconf ``filter_strategy`` that records each layer and passes it on unchanged.

    Dynaconf calls it with every settings-file section and with the environment variables,
    in the order it applies them; ``source`` says which kind the next calls are.
    """

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.source: Source = "file"

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        layer = Layer(self.source)
        for key, value in data.items():
            if _is_dynaconf_key(str(key)):
                continue
            layer.top_keys.append(str(key))
            layer.leaves.update(_leaves(value, split_top_key(str(key))))
        self.layers.append(layer)
        return data

    def last_setter(self, path: Path) -> int | None:
        """Index of the highest layer that set ``path`` (or a table above it to a plain value)."""
        for index in range(len(self.layers) - 1, -1, -1):
            leaves = self.layers[index].leaves
            if any(path[:n] in leaves for n in range(1, len(path) + 1)):
                return index
        return None


def replace_lists(settings: dict[str, Any], recorder: LayerRecorder) -> None:
    """Give every list key the list its highest layer set (Dynaconf appended the lower ones).

    A layer that asked for a merge (``dynaconf_merge`` item, ``@merge``) extends the list
    below it, once.
    """
    final: dict[Path, Any] = {}
    for layer in recorder.layers:
        for path, value in layer.leaves.items():
            if isinstance(value, ListValue) and value.merge:
                below = final.get(path)
                base = list(below) if isinstance(below, list) else []
                final[path] = base + [v for v in value.items if not (value.unique and v in base)]
            else:
                final[path] = value.items if isinstance(value, ListValue) else value
    for path, value in final.items():
        if not isinstance(value, list):
            continue
        parent: Any = settings
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), list):
            parent[path[-1]] = value


def mark_inherited_backends(settings: dict[str, Any], recorder: LayerRecorder, namespace: str = "databases") -> None:
    """Wrap ``backend`` in :class:`InheritedBackend` where a higher layer set only the ``url``."""
    entries = settings.get(namespace)
    if not isinstance(entries, dict):
        return
    for name, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("backend"), str) or "url" not in entry:
            continue
        url_layer = recorder.last_setter((namespace, name, "url"))
        backend_layer = recorder.last_setter((namespace, name, "backend"))
        if url_layer is not None and backend_layer is not None and url_layer > backend_layer:
            entry["backend"] = InheritedBackend(entry["backend"])

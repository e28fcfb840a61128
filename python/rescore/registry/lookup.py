"""The live registry: built-in metrics, metrics registered in Python, and entry-point plugins.

Built-in entries register when :mod:`rescore.metrics` is imported (``import rescore`` does).
Third-party packages declare metrics in the entry-point group ``rescore.metrics`` (value
``module:attribute``; importing it registers the metric, usually through
:func:`rescore.register_metric`). They load lazily: an entry point named like the metric loads
the first time that name is looked up; listing every metric (an unknown name's message,
``--help``, the default metric set) loads them all. A name registered twice from different
sources is an error naming both.
"""

from __future__ import annotations

import contextvars
import importlib.metadata
from collections.abc import Iterable, Iterator, Mapping

from rescore.exceptions import PluginError, UnknownMetricError
from rescore.registry.entry import Metric

ENTRY_POINT_GROUP = "rescore.metrics"

_ENTRIES: dict[str, Metric] = {}
_LOADED: set[str] = set()  # entry points already imported (by "name=value")
_SOURCE: contextvars.ContextVar[str | None] = contextvars.ContextVar("source", default=None)


def loading_source() -> str | None:
    """The plugin package being loaded through its entry point, if any."""
    return _SOURCE.get()


def register(entry: Metric) -> Metric:
    """Add ``entry``; a different metric of the same name already there is a :class:`PluginError`.

    Registering the same entry again (a module imported twice, a worker receiving the entry
    it already has) is a no-op.
    """
    old = _ENTRIES.get(entry.name)
    if old is not None and old.source != entry.source:
        msg = (
            f"metric {entry.name!r} from {entry.source} clashes with the metric of the same "
            f"name from {old.source}; rename one of them"
        )
        raise PluginError(msg)
    if old is None or not old.builtin:
        _ENTRIES[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove a metric registered from Python (built-ins stay)."""
    entry = _ENTRIES.get(name)
    if entry is not None and not entry.builtin:
        del _ENTRIES[name]


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _describe(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    package = f"package {dist.name} " if dist is not None else ""
    return f"{package}(entry point {ep.name} = {ep.value})"


def _load(ep: importlib.metadata.EntryPoint) -> None:
    key = f"{ep.name}={ep.value}"
    if key in _LOADED:
        return
    _LOADED.add(key)
    token = _SOURCE.set(f"plugin {_describe(ep)}")
    try:
        ep.load()
    except PluginError:
        raise
    except Exception as e:  # a broken plugin must say which one it is
        msg = f"metric plugin {_describe(ep)} failed to load: {type(e).__name__}: {e}"
        raise PluginError(msg) from e
    finally:
        _SOURCE.reset(token)


def load_plugins() -> None:
    """Import every installed entry point of the group."""
    for ep in _entry_points():
        _load(ep)


def get_metric(name: str) -> Metric:
    """The entry for ``name``; :class:`UnknownMetricError` lists built-ins and plugins."""
    entry = _ENTRIES.get(name)
    if entry is not None:
        return entry
    installed = _entry_points()
    # the entry point named like the metric first; the others only if it does not register it
    for ep in sorted(installed, key=lambda ep: ep.name != name):
        _load(ep)
        if name in _ENTRIES:
            return _ENTRIES[name]
    builtins = ", ".join(n for n, e in _ENTRIES.items() if e.builtin)
    plugins = ", ".join(f"{n} ({e.source})" for n, e in _ENTRIES.items() if not e.builtin)
    msg = f"unknown metric {name!r}; built-in metrics: {builtins}; plugins: {plugins or 'none'}"
    raise UnknownMetricError(msg)


def ensure_registered(entries: Iterable[Metric]) -> None:
    """Register entries shipped to another process (a Ray worker) unless already there."""
    for entry in entries:
        if entry.name not in _ENTRIES:
            register(entry)


class _Registry(Mapping[str, Metric]):
    """Every metric by name: a read-only, live view (plugins appear once loaded)."""

    def __getitem__(self, name: str) -> Metric:
        try:
            return get_metric(name)
        except UnknownMetricError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            get_metric(name)
        except UnknownMetricError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        load_plugins()
        return iter(list(_ENTRIES))

    def __len__(self) -> int:
        load_plugins()
        return len(_ENTRIES)

    def __repr__(self) -> str:
        return f"METRICS({', '.join(self)})"


METRICS: Mapping[str, Metric] = _Registry()
"""Every metric, by name: the built-ins, then registered and installed plugins."""


def builtin_metrics() -> dict[str, Metric]:
    """The built-in metrics only, in registration order."""
    return {n: e for n, e in _ENTRIES.items() if e.builtin}


__all__ = [
    "ENTRY_POINT_GROUP",
    "METRICS",
    "builtin_metrics",
    "ensure_registered",
    "get_metric",
    "load_plugins",
    "loading_source",
    "register",
    "unregister",
]

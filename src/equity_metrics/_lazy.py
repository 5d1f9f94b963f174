"""Lazy public names for a package (PEP 562): imported on first use, then kept in its namespace.

Standard library only, so a package can use it before anything heavy is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_names(package: str, table: dict[str, str], namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names are ``table``: name -> ``".module:attr"``.

    An empty ``attr`` (``".module:"`` or ``".module"``) names the module itself.

    Examples
    --------
    >>> ns = {}
    >>> getattr_, dir_ = lazy_names("json", {"dumps_": ".decoder:JSONDecoder"}, ns)
    >>> getattr_("dumps_").__name__, "dumps_" in ns, "dumps_" in dir_()
    ('JSONDecoder', True, True)
    """

    def __getattr__(name: str) -> Any:
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module_name, _, attribute = target.partition(":")
        module = import_module(module_name, package)
        value = getattr(module, attribute) if attribute else module
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__

"""Building the app once per test, at a third of the cost: Litestar's per-handler parsing, memoized.

Most integration tests build the whole app (`create_app`): 770 route handlers, each with its signature parsed
(the annotations of a `from __future__ import annotations` module evaluated one by one) and a msgspec model
made for it. That was about a second a test, a third of the suite's time. The outcome is a function of the
handler's function, the names it resolves its annotations against and its dependencies, the same in every test:
here it is computed once per test process and handed out again to each new app.

Nothing else is shared: each test still builds its own app, settings, database engine, runtime and relay. A
handler function or dependency made anew per app (a closure over the runtime) is a different key, parsed anew.
Parsed signatures are frozen dataclasses and signature models are classes Litestar only reads.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable
from typing import Any

from litestar._signature.model import SignatureModel
from litestar.utils.signature import ParsedSignature

_MISSING = object()


def _memo(original: Callable[..., Any], key: Callable[..., Hashable | None]) -> Callable[..., Any]:
    """A classmethod's function memoized on key(*args); key None (or an unhashable part) means parse anew."""
    cache: dict[Hashable, Any] = {}

    @functools.wraps(original)
    def memoized(cls: type, *args: Any, **kwargs: Any) -> Any:
        try:
            found_key = key(*args, **kwargs)
            hit = cache.get(found_key, _MISSING) if found_key is not None else _MISSING
        except TypeError:  # something unhashable in it: no memo for this one
            found_key, hit = None, _MISSING
        if hit is not _MISSING:
            return hit
        made = original(cls, *args, **kwargs)
        if found_key is not None:
            cache[found_key] = made
        return made

    return memoized


def _callable_key(fn: Any) -> Hashable:
    """What a callable's signature and type hints are made of, not the callable itself.

    Each app binds its controllers' methods to new controller instances and makes new closures (Litestar's
    OPTIONS handlers, one per route): the same code, annotations and defaults, so the same signature.
    """
    if inspect.ismethod(fn):
        return "method", _callable_key(fn.__func__), type(fn.__self__)
    if inspect.isfunction(fn):
        kwdefaults = tuple(sorted((fn.__kwdefaults__ or {}).items()))
        return fn.__module__, fn.__code__, fn.__defaults__, kwdefaults, tuple(fn.__annotations__.items())
    return fn  # a class or a callable object: itself


def _signature_key(fn: Any, signature_namespace: dict[str, Any]) -> Hashable:
    return _callable_key(fn), tuple(sorted(signature_namespace.items()))


def _model_key(
    dependency_name_set: set[str],
    fn: Any,
    parsed_signature: ParsedSignature,
    type_decoders: Any,
    data_dto: Any = None,
) -> Hashable:
    # parsed_signature (unhashable: it holds a dict) is memoized above, the same object for the same function:
    # its identity is the key.
    decoders = tuple(tuple(pair) for pair in type_decoders or ())
    return frozenset(dependency_name_set), _callable_key(fn), _Same(parsed_signature), decoders, data_dto


class _Same:
    """A key part equal only to itself's object; holding it keeps the object alive, so its id is never reused."""

    __slots__ = ("thing",)

    def __init__(self, thing: object) -> None:
        self.thing = thing

    def __hash__(self) -> int:
        return id(self.thing)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.thing is self.thing


def install() -> None:
    """Memoize for this process. Idempotent."""
    if getattr(ParsedSignature.from_fn, "__memoized__", False):
        return
    for owner, name, key in [(ParsedSignature, "from_fn", _signature_key), (SignatureModel, "create", _model_key)]:
        memoized = _memo(getattr(owner, name).__func__, key)
        memoized.__memoized__ = True  # type: ignore[attr-defined]
        setattr(owner, name, classmethod(memoized))

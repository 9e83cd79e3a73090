"""Which field of a decoded JSON document does not fit its msgspec type, found by walking the type, not its error text.

msgspec's `ValidationError` carries only a sentence ("Expected `int`, got `str` - at `$.lines[0].quantity`"): no
structured path (msgspec issues #264 and #468 ask for one), a path that is ambiguous once a key holds a backtick, a
dot or " - at ", and no key at all for a dict entry (`$.versions[...]`). So the path is not read from that sentence:
`first_invalid` walks the value along the type, in document order, converting each part with `msgspec.convert` on
its own (the items of an array or an object by halving runs of them), and descends into the first part that fails
until it meets a part whose own parts all pass. That part is the field; the message is what msgspec says about
converting that part alone (a value at the root of a conversion gets no " - at ..." suffix), or, for an unknown or
missing field, msgspec's words without the name (the walk found the key; the field names it). The walk only runs
once a body has failed, so a valid body costs one conversion, as before. Raising errors that carry the field from
`__post_init__` would not do: msgspec never calls it for a type or an unknown-field error.

The walk knows Structs (fields by their encoded names, `forbid_unknown_fields`, tags), lists, tuples, sets, dicts,
`Annotated` constraints, optional values and tagged unions of Structs, which is every request body type of the
service. Any other type is a leaf: a failure inside it is reported at its own path, with msgspec's sentence.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

import msgspec

Segment = str | int  # an object's member name, or an array's index
# msgspec's words, without the name: the field names it, and a key a client made up stays out of the prose.
_UNKNOWN = "Object contains unknown field"
_MISSING = "Object missing required field"


class Invalid(NamedTuple):
    """The first field of a document that does not fit, as path segments, and why."""

    path: tuple[Segment, ...]
    message: str

    @property
    def field(self) -> str:
        return field_name(self.path)


class _Part(NamedTuple):
    """A part of a value to check on its own: at `segment` (None: the same value, seen as a narrower type)."""

    segment: Segment | None
    value: Any
    type: Any


# Letters, digits and underscores, not first a digit: `str.isidentifier` also takes `·` and other joiners
# that clients' `\w` does not, which would not read back.
_PLAIN = re.compile(r"[^\W\d]\w*")


def field_name(path: tuple[Segment, ...]) -> str:
    """`("lines", 0, "quantity")` -> `lines[0].quantity`; a name that is not an identifier is quoted: `ids["a.b"]`.

    The quoted form is a JSON string, so any key (a dot, a bracket, a backtick, a quote) reads back unambiguously;
    names made of letters, digits and underscores, in any script, keep the plain style clients already parse.
    """
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif _PLAIN.fullmatch(segment):
            text += f".{segment}" if text else segment
        else:
            text += f"[{json.dumps(segment, ensure_ascii=False)}]"
    return text


def first_invalid(value: Any, type_: Any, *, strict: bool = True) -> Invalid | None:
    """None if `value` converts to `type_`; else its first field (in document order) that does not, and why."""
    message = _error(value, type_, strict=strict)
    return None if message is None else _locate(value, type_, message, strict)


def _error(value: Any, type_: Any, *, strict: bool) -> str | None:
    try:
        msgspec.convert(value, type_, strict=strict)
    except msgspec.ValidationError as error:
        return str(error)
    return None


def _locate(value: Any, type_: Any, message: str, strict: bool) -> Invalid:
    """Where inside `value` (known not to convert to `type_`, saying `message`) the failure is."""
    for part in _parts(value, type_, strict):
        if isinstance(part, Invalid):
            return part
        part_message = _error(part.value, part.type, strict=strict)
        if part_message is None:
            continue
        found = _locate(part.value, part.type, part_message, strict)
        if part.segment is not None:
            return Invalid((part.segment, *found.path), found.message)
        # A narrower view of this same value (a union's member, a type without its constraints) failing as a whole
        # says less than this type does ("Expected `object | null`, got `array`"): keep this type's message.
        return found if found.path else Invalid((), message)
    return Invalid((), message)


def _parts(value: Any, type_: Any, strict: bool) -> Iterator[_Part | Invalid]:
    """The parts of `value` that `type_` checks one by one, in document order, or a failure of `value` itself."""
    origin = get_origin(type_)
    if origin is Annotated:
        inner = get_args(type_)[0]
        # msgspec checks a container's own constraints (its length) before its items: so does the walk.
        bounds = _bounds(type_)
        if bounds is None or _error(value, bounds, strict=strict) is None:
            yield _Part(None, value, inner)
    elif isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        yield from _struct_parts(value, type_)
    elif origin in (Union, types.UnionType):
        yield from _union_parts(value, get_args(type_))
    elif origin in (list, tuple, set, frozenset) and isinstance(value, list):
        yield from _array_parts(value, origin, get_args(type_), strict)
    elif origin is dict and isinstance(value, dict):
        key_type, value_type = get_args(type_) or (Any, Any)
        entries, entries_type = list(value.items()), dict.__class_getitem__((key_type, value_type))
        first = _first_failing(len(entries), lambda low, high: _fails(dict(entries[low:high]), entries_type, strict))
        if first is not None:
            key, item = entries[first]
            yield _Part(key, key, key_type)
            yield _Part(key, item, value_type)


def _array_parts(value: list[Any], origin: Any, args: tuple[Any, ...], strict: bool) -> Iterator[_Part]:
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        if len(args) == len(value):  # a fixed tuple of another length fails as a whole
            yield from (_Part(index, item, arg) for index, (item, arg) in enumerate(zip(value, args, strict=True)))
        return
    item_type = args[0] if args else Any
    items_type = list.__class_getitem__(item_type)
    first = _first_failing(len(value), lambda low, high: _fails(value[low:high], items_type, strict))
    if first is not None:
        yield _Part(first, value[first], item_type)


def _first_failing(count: int, fails: Callable[[int, int], bool]) -> int | None:
    """The index of the first of `count` items that fails, given whether a run `[low, high)` of them does.

    Found by halving: about as many items converted as there are, in msgspec's C code, and a few dozen calls from
    Python, where one call per item made a 10 MB body with its last entry wrong cost five times its decoding.
    """
    low, high = 0, count
    if not fails(low, high):
        return None
    while high - low > 1:  # one of [low, high) fails, none before low does
        middle = (low + high) // 2
        if fails(low, middle):
            high = middle
        else:
            low = middle
    return low


def _fails(value: Any, type_: Any, strict: bool) -> bool:
    return _error(value, type_, strict=strict) is not None


def _struct_parts(value: Any, struct: type[msgspec.Struct]) -> Iterator[_Part | Invalid]:
    config = struct.__struct_config__
    if not isinstance(value, dict) or config.array_like:
        return
    fields = {field.encode_name: field for field in msgspec.structs.fields(struct)}
    for key, item in value.items():
        field = fields.get(key)
        if config.tag_field is not None and key == config.tag_field:
            yield _Part(key, item, Literal[config.tag])
        elif field is not None:
            yield _Part(key, item, field.type)
        elif config.forbid_unknown_fields:
            yield Invalid((key,), _UNKNOWN)
    for name, field in fields.items():
        if field.required and name not in value:
            yield Invalid((name,), _MISSING)


def _union_parts(value: Any, members: tuple[Any, ...]) -> Iterator[_Part | Invalid]:
    """The member `value` is meant for: the one its tag names, else the only one of its JSON kind."""
    members = tuple(m for m in members if m not in (type(None), msgspec.UnsetType))
    structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
    tags = {s.__struct_config__.tag: s for s in structs if s.__struct_config__.tag_field is not None}
    # A tag is required only to tell Structs apart: a lone tagged Struct is read like any other.
    if len(tags) > 1 and isinstance(value, dict):
        tag_field = structs[0].__struct_config__.tag_field
        assert tag_field is not None  # msgspec accepts a union of Structs only when they share one tag field
        if tag_field not in value:
            yield Invalid((tag_field,), _MISSING)
            return
        # Through Literal, not a dict lookup: `true` must not pick the Struct tagged 1.
        tag_type = Literal.__getitem__(tuple(tags))
        yield _Part(tag_field, value[tag_field], tag_type)
        yield _Part(None, value, tags[value[tag_field]])  # reached only if the tag passed: it is one of them
        return
    kind = dict if isinstance(value, dict) else list if isinstance(value, list) else None
    same_kind = [m for m in members if kind is not None and _json_kind(m) is kind]
    if len(same_kind) == 1:
        yield _Part(None, value, same_kind[0])


def _bounds(annotated: Any) -> Any:
    """`Annotated[list[X], Meta(max_length=3)]` -> `Annotated[list[Any], Meta(max_length=3)]`: the constraints that
    are the container's own, without its items'; None for an annotated type that is not a container."""
    inner, *metadata = get_args(annotated)
    origin = get_origin(inner)
    shell = {list: list[Any], set: set[Any], frozenset: frozenset[Any], dict: dict[Any, Any]}.get(origin)
    if origin is tuple and get_args(inner)[-1:] == (Ellipsis,):
        shell = tuple[Any, ...]
    return None if shell is None or shell == inner else Annotated.__class_getitem__((shell, *metadata))  # type: ignore[attr-defined]


def _json_kind(type_: Any) -> type | None:
    """The JSON container a type is read from (dict: an object, list: an array), None for the other types."""
    if get_origin(type_) is Annotated:
        return _json_kind(get_args(type_)[0])
    if isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        return list if type_.__struct_config__.array_like else dict
    origin = get_origin(type_)
    return {dict: dict, list: list, tuple: list, set: list, frozenset: list}.get(origin)

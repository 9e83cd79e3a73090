"""How typed unit names are compared: folded, lower case, the unit's type word ("Phường", "Q.", "TP") set apart.

A name is compared in two forms: as typed, and without its leading type word. The type word is only set apart
when it is a word of its own (or glued to a number, "Q1", "P7"), and the bare form carries the kind of unit the
word names, so that "Quận Hoàn Kiếm" never matches the 2025 ward "Phường Hoàn Kiếm" and "Quán Thánh" keeps its
first word (the converter's own normaliser turns it into "Thánh", which is why it is not used).
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from functools import cache
from typing import NamedTuple

from orders_service.geo.units import fold


class Kind(Enum):
    PROVINCE = "province"
    DISTRICT = "district"
    WARD = "ward"


# Folded type words, longest first, and the kinds of unit each may name. "tp" and "thanh pho" name a province
# ("TP.HCM") or a pre-2025 district-level city ("TP Thủ Đức"); "f" is the Saigonese "F.7" for "Phường 7".
_TYPE_WORDS: tuple[tuple[tuple[str, ...], frozenset[Kind]], ...] = (
    (("thanh", "pho"), frozenset({Kind.PROVINCE, Kind.DISTRICT})),
    (("thi", "xa"), frozenset({Kind.DISTRICT})),
    (("thi", "tran"), frozenset({Kind.WARD})),
    (("dac", "khu"), frozenset({Kind.WARD})),
    (("tinh",), frozenset({Kind.PROVINCE})),
    (("quan",), frozenset({Kind.DISTRICT})),
    (("huyen",), frozenset({Kind.DISTRICT})),
    (("phuong",), frozenset({Kind.WARD})),
    (("xa",), frozenset({Kind.WARD})),
    (("tp",), frozenset({Kind.PROVINCE, Kind.DISTRICT})),
    (("tx",), frozenset({Kind.DISTRICT})),
    (("tt",), frozenset({Kind.WARD})),
    (("q",), frozenset({Kind.DISTRICT})),
    (("h",), frozenset({Kind.DISTRICT})),
    (("p",), frozenset({Kind.WARD})),
    (("f",), frozenset({Kind.WARD})),
    (("x",), frozenset({Kind.WARD})),
    (("t",), frozenset({Kind.PROVINCE})),
)
# The official type words that open the names in the data (accents kept: "Quán" is not "Quận").
OFFICIAL_TYPES = (
    "Thành phố ",
    "Thị xã ",
    "Thị trấn ",
    "Đặc khu ",
    "Tỉnh ",
    "Quận ",
    "Huyện ",
    "Phường ",
    "Xã ",
)
_OFFICIAL_FOLDED = tuple(prefix.casefold() for prefix in OFFICIAL_TYPES)
_GLUED = re.compile(r"^(q|p|f|tp|tx|tt|h|x)(\d+)$")  # "q1", "p7", "f07"
_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})  # U+00D0, often typed for "Đ" in older data


# The five tone marks: a word has at most one, and "hoà" / "hòa", "thuỷ" / "thủy" put it on different letters.
_TONES = {"\u0300": "`", "\u0301": "'", "\u0303": "~", "\u0309": "?", "\u0323": "."}


def _tone_last(word: str) -> str:
    """The word with its tone mark moved to the end ("hoà", "hòa" -> "hoa`"): one spelling per tone placement."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(_TONES[ch] for ch in decomposed if ch in _TONES)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES)) + tones


class Words(NamedTuple):
    """Typed words two ways: folded ("hoa") to find a name, accented ("hòa") to tell "Sơn Hà" from "Sơn Hạ"."""

    folded: tuple[str, ...]
    accented: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.folded)

    def tail(self, start: int) -> Words:
        return Words(self.folded[start:], self.accented[start:])


def words(text: str) -> Words:
    """Lower-case words: "Q.1" -> q 1, "P07" -> p 7; "Hòa" and "Hoà" fold to "hoa" (accented: "hoa`" both)."""
    folded: list[str] = []
    accented: list[str] = []
    for word in re.findall(r"\w+", unicodedata.normalize("NFC", text).lower()):
        for flat, accent in _word(word):
            folded.append(flat)
            accented.append(accent)
    return Words(tuple(folded), tuple(accented))


@cache
def _word(word: str) -> tuple[tuple[str, str], ...]:
    # Names repeat their words ("phường", "xã", "an"): each is worked out once.
    word = unicodedata.normalize("NFC", word.translate(_ETH))
    plain = re.sub(r"[^0-9a-z]", "", fold(word))
    if not plain:
        return ()
    glued = _GLUED.match(plain)
    if glued:
        return tuple((part, part) if not part.isdigit() else (str(int(part)),) * 2 for part in glued.groups())
    if plain.isdigit():
        return ((str(int(plain)),) * 2,)
    return ((plain, _tone_last(word.replace("_", ""))),)


def bare_official(name: str) -> str:
    """An official name without its type word: "Phường Bến Nghé" -> "Bến Nghé"; "Quán Thánh" stays."""
    folded = name.casefold()
    for prefix in _OFFICIAL_FOLDED:
        if folded.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name


def index_keys(name: str) -> list[tuple[str, str]]:
    """(accented, folded) keys an official name is found by: the whole name, and without its type word."""
    keys = []
    for form in (name, bare_official(name)):
        typed = words(form)
        if len(typed):
            keys.append((" ".join(typed.accented), " ".join(typed.folded)))
    return keys


def lookup_keys(typed: Words, kind: Kind) -> list[tuple[str, str]]:
    """(accented, folded) keys to try for typed words, best first: as typed, then without a type word that may
    name `kind` ("Q.1" is tried as "1" for a district, never for a ward)."""
    keys = [(" ".join(typed.accented), " ".join(typed.folded))]
    for type_words, kinds in _TYPE_WORDS:
        n = len(type_words)
        if typed.folded[:n] == type_words and len(typed) > n and kind in kinds:
            rest = typed.tail(n)
            keys.append((" ".join(rest.accented), " ".join(rest.folded)))
            break
    return keys

"""Vietnamese phone numbers in any common form, normalised to E.164 through phonenumbers."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from orders_service.domain.errors import InvalidField

# Mobile prefixes renumbered from 11 to 10 digits in 2018 (MIC decision 798/QĐ-BTTTT). Customers still
# give the old form, and profiles found by phone must not split in two because of it.
LEGACY_MOBILE_PREFIXES = {
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0162": "032",
    "0163": "033",
    "0164": "034",
    "0165": "035",
    "0166": "036",
    "0167": "037",
    "0168": "038",
    "0169": "039",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}
_SEPARATORS = re.compile(r"[\s.\-()]")
MAX_RAW_LENGTH = 32


def _map_legacy(digits: str) -> str:
    national = digits
    if digits.startswith("84") and len(digits) in (12, 13):  # 84 166..., or 84 0166... with the trunk zero
        national = digits[2:] if digits[2] == "0" else "0" + digits[2:]
    if len(national) == 11 and national[:4] in LEGACY_MOBILE_PREFIXES:
        return LEGACY_MOBILE_PREFIXES[national[:4]] + national[4:]
    return digits


def normalise_phone(raw: str, field: str = "phone", *, vietnam_only: bool = False) -> str:
    """Return the E.164 form of a phone number, or raise InvalidField naming `field`."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_RAW_LENGTH:
        raise InvalidField(field, "expected a phone number such as 0901 234 567 or +84901234567")
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw).strip())  # full-width digits from phones
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isdigit():
        raise InvalidField(field, f"{raw!r} is not a phone number")
    digits = _map_legacy(digits)
    international = not digits.startswith("0") and (plus or (digits.startswith("84") and len(digits) >= 11))
    candidate = ("+" if international else "") + digits
    try:
        parsed = phonenumbers.parse(candidate, "VN")
    except phonenumbers.NumberParseException:
        raise InvalidField(field, f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidField(field, f"{raw!r} is not a valid phone number")
    if vietnam_only and parsed.country_code != 84:
        raise InvalidField(field, "couriers in Vietnam call Vietnamese numbers only")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_phones(
    raws: list[str], field: str, *, minimum: int = 1, maximum: int = 3, vietnam_only: bool = False
) -> list[str]:
    """Normalise an ordered list of phones, refusing duplicates (the same number in two forms)."""
    if not minimum <= len(raws) <= maximum:
        raise InvalidField(field, f"give between {minimum} and {maximum} phone numbers")
    result: list[str] = []
    for index, raw in enumerate(raws):
        phone = normalise_phone(raw, f"{field}[{index}]", vietnam_only=vietnam_only)
        if phone in result:
            raise InvalidField(f"{field}[{index}]", f"{phone} is already in the list")
        result.append(phone)
    return result


def written(e164: str) -> str:
    """+84912345678 -> "0912 345 678", +842838221234 -> "028 3822 1234": as people write them."""
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))

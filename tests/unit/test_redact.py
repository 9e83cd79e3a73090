"""Log lines never carry an edit-link token or a full phone number."""

import logging

import pytest

from orders_service.redact import RedactFilter, redact


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('GET /o/Zk3_x-9QpL2s HTTP/1.1" 200', 'GET /o/*** HTTP/1.1" 200'),
        ("POST /api/public/orders/abcDEF123/amendments", "POST /api/public/orders/***/amendments"),
        ("GET /o/tok?lang=en", "GET /o/***?lang=en"),
        ("Từ chối nhận tin: http://shop.vn/u/qyRP4Aa6bm", "Từ chối nhận tin: http://shop.vn/u/***"),
        ("phone +84901234567 changed", "phone ***567 changed"),
        ("phone 0901 234 567 changed", "phone ***567 changed"),
        ("phone 84-90-123-4567.", "phone ***567."),
        ("order 01J9ZQ7 total 350000 cod 1200000", "order 01J9ZQ7 total 350000 cod 1200000"),
        ("/api/orders/0193b3a2-7c1e-7000-8000-000000000001", "/api/orders/0193b3a2-7c1e-7000-8000-000000000001"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_filter_rewrites_formatted_message() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s called %s", ("/o/secret", "0901234567"), None)
    assert RedactFilter().filter(record)
    assert record.getMessage() == "/o/*** called ***567"

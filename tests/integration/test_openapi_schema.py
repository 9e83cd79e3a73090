"""The OpenAPI document says what the service does: who needs a key, If-Match, problem bodies, constraints.

test_fuzz.py checks the answers against the schema; these read the schema itself, one rule each, so that a
route added without them fails here by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from orders_service.app import PUBLIC_PATHS, create_app
from tests.integration import databases as dbs

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = dbs.sqlite_clone(sqlite_template, tmp_path_factory.mktemp("openapi"))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def schema(served: TestClient[Any]) -> dict[str, Any]:
    return dict(served.get("/schema/openapi.json").json())


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, path, op) for path, item in schema["paths"].items() for m, op in item.items() if m in METHODS]


def test_public_routes_need_no_key_and_staff_routes_the_bearer_key(schema: dict[str, Any]) -> None:
    assert schema["security"] == [{"apiKey": []}]
    for method, path, op in operations(schema):
        public = any(re.match(pattern, path) for pattern in PUBLIC_PATHS)
        assert op.get("security") == ([] if public else None), (method, path)


def test_every_error_is_a_documented_problem(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        errors = {code: r for code, r in op["responses"].items() if code.startswith(("4", "5"))}
        if path != "/health":
            assert "503" in errors, (method, path)
        for code, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (method, path, code)
            problem = response["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/Problem"}, (method, path, code)
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_if_match_is_required_where_a_change_needs_it(schema: dict[str, Any]) -> None:
    versioned = 0
    for method, path, op in operations(schema):
        headers = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}
        if "If-Match" in headers:
            versioned += 1
            assert headers["If-Match"]["required"] is True, (method, path)
            assert {"412", "428"} <= set(op["responses"]), (method, path)
    assert versioned >= 9  # amend, confirm, cancel, split, ship, return, review; the link's amend and cancel


def test_the_schema_states_what_the_decoder_refuses(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("OrderIn", "AmendmentIn", "CustomerIn", "KeyIn", "AddressMapIn"):
        assert components[name]["additionalProperties"] is False, name
    phone = components["CustomerIn"]["properties"]["phones"]["items"]
    assert phone["format"] == "phone"
    assert re.match(phone["pattern"], "0901 234 567") and not re.match(phone["pattern"], "abc")
    assert components["AddressMapIn"]["properties"]["ids"]["propertyNames"] == {"pattern": "^[a-z_]{1,32}$"}
    assert len(components["OrderIn"]["oneOf"]) == 2  # customer_id or customer, exactly one
    edit_link = schema["paths"]["/api/orders/{order_id}/edit-link"]["post"]
    assert edit_link["requestBody"]["required"] is False  # the body may be left out


def test_options_on_an_admin_route_lists_its_methods(served: TestClient[Any]) -> None:
    # The key middleware lets OPTIONS through; the admin guard read the missing `auth` and answered 500.
    response = served.options("/api/keys")
    assert response.status_code == 204, response.text
    assert "POST" in response.headers["allow"]

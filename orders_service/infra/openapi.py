"""What the OpenAPI schema says beyond each handler's success: the problems a route may answer, who needs a key,
and If-Match, all decided here in one place from the route itself rather than repeated on every handler.

Litestar documents a handler's success response and a 400 in `application/json`; the service answers its errors
as RFC 9457 problems (`application/problem+json`, orders_service.infra.problems) with statuses that follow from what
the route is: a path parameter can name nothing (404), a change can conflict (409), a versioned change needs
If-Match (428) and the current version (412), a staff route needs a key (401) and an admin route an admin key
(403), a customer's link can expire (410) and is rate limited (429), and any route that reads the database can
find it away (503). `document_routes` writes those into each handler once the app is built; a handler's own
`responses` win over these defaults.

`swagger_ui` is the page that shows the schema to people, from the package's own copy of Swagger UI: no CDN.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Operation, Parameter, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from orders_service.auth.middleware import admin_only
from orders_service.infra.problems import PROBLEM_JSON, Problem
from orders_service.links.ratelimit import link_rate_guard

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

IF_MATCH = "If-Match"
IF_MATCH_DESCRIPTION = 'The order\'s ETag as last read, e.g. "3": missing is a 428, another version a 412'
IF_MATCH_DRY_RUN = "; a dry run (`dry_run=true`) may leave it out and previews the order as it is now"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON, is missing, or a value has the wrong JSON type",
    401: "No key, or a key that is unknown or revoked (webhooks: the courier's signature or token did not verify)",
    403: "The key's role may not do this (an admin key is needed)",
    404: "Nothing has this id, or the link's token is unknown, tampered with or revoked",
    409: "Refused in the order's or customer's present state, or a concurrent change got there first: "
    "`detail` says why and nothing was changed",
    410: "The link has expired: ask the shop for a new one",
    412: "If-Match does not carry the current version: the body's `current_version` says which it is",
    413: "The request body is too large",
    422: "A value is out of its range or breaks a rule: `errors` names each field",
    428: 'If-Match is missing (or `*`): send the ETag the order was read with, e.g. "3"',
    429: "Too many requests: wait as long as Retry-After says",
    503: "The database (or the broker) did not answer: nothing was saved; retry after Retry-After seconds",
}


def _problem(status: int) -> ResponseSpec:
    return ResponseSpec(Problem, description=DESCRIPTIONS[status], media_type=PROBLEM_JSON, generate_examples=False)


PROBLEMS = {status: _problem(status) for status in DESCRIPTIONS}


def _guarded_by(handler: HTTPRouteHandler, guard: Callable[..., Any]) -> bool:
    return any(guard in (layer.guards or []) for layer in handler.ownership_layers)


# What Litestar passes by name: never a value the client sends.
_RESERVED = frozenset({"self", "request", "state", "scope", "headers", "cookies", "query", "body", "socket"})


def _inputs(handler: HTTPRouteHandler) -> set[str]:
    """The handler's parameters that come from the request (path, query, header, cookie, `data` for the body)."""
    return set(handler.parsed_fn_signature.parameters) - _RESERVED - set(handler.resolve_dependencies())


def statuses(path: str, handler: HTTPRouteHandler, public: bool) -> set[int]:
    """The problem statuses an operation may answer, from what it reads and where it sits."""
    answers = {503}  # every route but liveness reads the database (or the broker)
    inputs = _inputs(handler)
    if inputs:
        answers |= {400, 422}
    if "data" in inputs:
        answers.add(413)
    if "{" in path:
        answers.add(404)
    if not public or path.startswith("/webhooks/"):
        answers.add(401)
    if _guarded_by(handler, admin_only):
        answers.add(403)
    if _guarded_by(handler, link_rate_guard):
        answers |= {404, 410, 429}
    if handler.http_methods & _WRITES:
        answers.add(409)
    if "if_match" in inputs:
        answers |= {412, 428}
    if path == "/health":
        answers.clear()
    return answers


def _documented(make: Callable[..., Operation], handler: HTTPRouteHandler, public: bool) -> Callable[..., Operation]:
    """Builds the handler's operation as before, then says who needs a key, whether its body may be left out,
    and that If-Match is required.

    If-Match stays optional to Litestar so that its absence reaches the service, which answers 428 (a problem
    that names it) rather than Litestar's validation error; the schema says what a client must do: send it. A
    dry run (`?dry_run=true`) may leave it out and previews the order as it is now: the description says so, as
    a parameter cannot be required for some values of another (and clients following the schema's links from
    an answer to the amendment carry the ETag only into a header the schema requires).
    """
    parameters = handler.parsed_fn_signature.parameters
    body = parameters.get("data")
    optional_body = body is not None and (body.is_optional or body.has_default)
    dry_run = "dry_run" in parameters

    def build(**kwargs: Any) -> Operation:
        operation = make(**kwargs)
        if public:
            operation.security = []  # overrides the document's bearer requirement: no key
        if optional_body and operation.request_body is not None and not isinstance(operation.request_body, Reference):
            operation.request_body.required = False
        for parameter in operation.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name == IF_MATCH:
                parameter.required = True
                parameter.schema = Schema(type=OpenAPIType.STRING, max_length=200)
                parameter.description = IF_MATCH_DESCRIPTION + (IF_MATCH_DRY_RUN if dry_run else "")
        return operation

    build.documented = True  # type: ignore[attr-defined]
    return build


def _public(path: str, public_paths: Iterable[str]) -> bool:
    return any(re.match(pattern, path) for pattern in public_paths)


def document_routes(app: Litestar, public_paths: Iterable[str]) -> None:
    """Adds to each operation in the schema its problem responses, its security and a required If-Match."""
    public_paths = list(public_paths)
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = route.path_format
        public = _public(path, public_paths)
        for handler in route.route_handlers:
            if not handler.include_in_schema or getattr(handler.operation_class, "documented", False):
                continue
            defaults = {status: PROBLEMS[status] for status in sorted(statuses(path, handler, public))}
            handler.responses = {**defaults, **(handler.responses or {})}
            handler.operation_class = _documented(handler.operation_class, handler, public)  # type: ignore[assignment]


class StrictStructs(StructSchemaPlugin):
    """A msgspec Struct as Litestar describes it, plus `additionalProperties: false` where unknown fields are a 422."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if getattr(info, "forbid_unknown_fields", False):
            schema.additional_properties = False
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        for field in getattr(info, "fields", ()):
            _keep_dict_constraints(schema, field.encode_name, hints[field.name])
        choices = getattr(field_definition.type_, "__exactly_one_of__", ())
        if choices:
            schema.one_of = [_only(name, choices) for name in choices]
        return schema


def _keep_dict_constraints(schema: Schema, name: str, annotation: Any) -> None:
    """A dict field keeps what msgspec checks of its keys and size (Litestar drops both)."""
    prop = (schema.properties or {}).get(name)
    if not isinstance(prop, Schema) or prop.type != OpenAPIType.OBJECT:
        return
    raw = msgspec.json.schema(annotation)
    if "propertyNames" in raw:
        prop.property_names = Schema(**{_KEYWORDS[k]: v for k, v in raw["propertyNames"].items() if k in _KEYWORDS})
    prop.min_properties = raw.get("minProperties")
    prop.max_properties = raw.get("maxProperties")


def _given(name: str) -> Schema:
    """The object has `name`, not null (the service reads a null as left out)."""
    return Schema(required=[name], properties={name: Schema(schema_not=Schema(type=OpenAPIType.NULL))})


def _only(name: str, choices: Iterable[str]) -> Schema:
    others = [_given(other) for other in choices if other != name]
    return Schema(required=[name], properties=_given(name).properties, schema_not=Schema(any_of=others))


_OPENAPI_TYPES = {"string": OpenAPIType.STRING, "integer": OpenAPIType.INTEGER, "number": OpenAPIType.NUMBER}
_KEYWORDS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "format": "format",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
    "multipleOf": "multiple_of",
    "description": "description",
    "title": "title",
}


class ConstrainedItems(OpenAPISchemaPlugin):
    """A constrained str or int inside a list (a phone in `phones`, a tag in `tags`) keeps its msgspec Meta.

    Litestar applies a Meta to a Struct's own fields only; an item's constraints would otherwise be lost from the
    schema while msgspec still enforces them. msgspec's own JSON schema of the annotation is the source here.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        kwargs = field_definition.kwarg_definition
        return (
            field_definition.annotation in (str, int)
            and any(isinstance(meta, msgspec.Meta) for meta in field_definition.metadata)
            and not (kwargs is not None and getattr(kwargs, "is_constrained", False))
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        raw: dict[str, Any] = msgspec.json.schema(field_definition.raw)
        raw.update(raw.pop("extra", {}))  # what the Meta adds for Litestar (orders_service.domain.model._phone)
        values = {_KEYWORDS[key]: value for key, value in raw.items() if key in _KEYWORDS}
        return Schema(type=_OPENAPI_TYPES[raw["type"]], **values)


SCHEMA_PLUGINS = [StrictStructs(), ConstrainedItems()]

# Swagger UI's files, vendored in orders_service/static/swagger-ui (its README says which version and from where)
# and served by the app's /static router, so that the docs work with no network and name no other host.
SWAGGER_UI_ASSETS = "/static/swagger-ui"


def swagger_ui(assets: str = SWAGGER_UI_ASSETS) -> SwaggerRenderPlugin:
    """Swagger UI at /schema and /schema/swagger, loading its scripts, style and icon from `assets` only.

    The one UI: Litestar's others (Scalar, Redoc, Elements, RapiDoc) load their code from a CDN too, and a second
    offline one would double what the package carries (Scalar's bundle alone is twice Swagger UI's files).
    """
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{assets}/swagger-ui-bundle.js",
        css_url=f"{assets}/swagger-ui.css",
        standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
        favicon=f'<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">',
    )

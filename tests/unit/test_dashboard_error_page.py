"""The dashboard's error page shows the refusal as its handler said it: a text already in the page's language is not
passed through the template's _() again, where a "%" in it (a field like "Giảm giá (%)") was read as a placeholder and
the error page itself failed."""

from __future__ import annotations

from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine

from orders_service.dashboard.pages import TEMPLATES, _configure
from orders_service.dashboard.problems import field_words


def render(template: str, **context: object) -> str:
    engine = JinjaTemplateEngine(directory=TEMPLATES)
    _configure(engine)
    scope = {"type": "http", "method": "GET", "path": "/dashboard/x", "query_string": b"lang=en", "headers": []}
    request: Request[object, object, object] = Request(scope)  # type: ignore[arg-type]
    return engine.get_template(template).render(request=request, csrf_input="", **context)


def test_a_percent_in_the_refusal_does_not_break_the_page() -> None:
    detail = f"{field_words('discount.percent')}: phải không quá 100"
    assert detail == "Giảm giá (%): phải không quá 100"
    page = render("dashboard/error.html", title="Không thực hiện được", detail=detail)
    assert f'role="alert">{detail}</p>' in page and '<html lang="en">' in page

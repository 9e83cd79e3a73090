"""What every dashboard page shares: templates and their filters, form decoding, errors shown as pages."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.money import format_vnd
from orders_service.dashboard import i18n
from orders_service.dashboard.i18n import N_
from orders_service.dashboard.problems import courier_words, detail_words, field_words, message_words
from orders_service.dashboard.sessions import Staff
from orders_service.domain import errors as e
from orders_service.domain import phones
from orders_service.infra.invalid_field import first_invalid
from orders_service.infra.problems import DOMAIN_PROBLEMS, http_error_handler

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
VIETNAM = datetime.timezone(datetime.timedelta(hours=7), "ICT")  # no daylight saving since 1975
DashboardRequest = Request[Staff, Any, Any]


def vnd(amount: int | None) -> str:
    """450000 -> "450.000 ₫", the way a Vietnamese shop writes it."""
    return "-" if amount is None else format_vnd(amount)


def local_time(moment: datetime.datetime | None, with_time: bool = True) -> str:
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def _configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    # newstyle: `_("... %(n)s", n=1)` formats after translating, and autoescapes what it inserts
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.template_gettext, ngettext=i18n.template_ngettext, newstyle=True
    )
    env.filters.update(vnd=vnd, local=local_time, phone=phones.written)
    env.globals.update(
        STATUS=STATUS_LABELS,
        quote=quote,
        LANGUAGES=i18n.NAMES,
        lang_url=i18n.switch_url,
        page_language=i18n.page_language,
        courier_words=courier_words,
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_configure)


STATUS_LABELS = {
    "pending": N_("Chờ xác nhận"),
    "confirmed": N_("Đã xác nhận"),
    "ready_to_ship": N_("Chờ lấy hàng"),
    "in_transit": N_("Đang giao"),
    "needs_review": N_("Cần kiểm tra"),
    "delivered": N_("Đã giao"),
    "partially_delivered": N_("Giao một phần"),
    "returning": N_("Đang hoàn"),
    "returned": N_("Đã hoàn"),
    "cancelled": N_("Đã huỷ"),
    "merged": N_("Đã gộp"),
}


def page(name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=f"dashboard/{name}", context=context, status_code=status_code)


class FormProblem(msgspec.Struct):
    """An error to show on a page: what went wrong, and which field, if one."""

    detail: str
    status: int = 422
    field: str | None = None


def problem_of(error: e.DomainError) -> FormProblem:
    """The refusal in the page's language: the field in words, never the API's path or English message."""
    status = next((v[0] for k, v in DOMAIN_PROBLEMS.items() if isinstance(error, k)), 400)
    field, detail = detail_words(error)
    return FormProblem(detail=detail, status=status, field=field)


async def attempt(work: Awaitable[T]) -> tuple[T | None, FormProblem | None]:
    """Run a service call; a refusal (bad input, a conflict, a stale version) comes back to show on the form."""
    try:
        return await work, None
    except e.DomainError as error:
        return None, problem_of(error)


async def end_read(session: AsyncSession) -> None:
    """End what a page read before it writes: the write must start as a writer (BEGIN IMMEDIATE on SQLite),
    not upgrade a read that another writer may have overtaken. A commit, not a rollback: the session does
    not expire on commit, so what was read stays usable for the page; and it wrote nothing yet."""
    await session.commit()


def convert(data: dict[str, Any], kind: type[T]) -> T:
    """A form's values as a Struct, its Meta constraints checked; a failure names the field (found by walking the
    values along the type, orders_service.infra.invalid_field, not by reading msgspec's error text)."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as error:
        invalid = first_invalid(data, kind, strict=False)
        field, message = (invalid.field, invalid.message) if invalid else ("", str(error))
        raise e.InvalidField(field or "form", message) from None


async def form_of(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    """Every field of the posted form, each with all its values (checkboxes repeat a name)."""
    form = await request.form()
    return {key: [v for v in form.getall(key) if isinstance(v, str)] for key in form}


def one(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0].strip() if values else default


# --- errors as pages --------------------------------------------------------------------------------------


def to_login(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/dashboard/login?next={quote(target, safe='')}", status_code=303)


# error.html shows `detail` as given: each handler says it in the page's language (a translated text may hold a "%",
# which a second pass through the template's _() would read as a placeholder).


def forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Template:
    i18n.current.set(i18n.language_of(request))  # the CSRF check runs before the dashboard's middleware
    if "csrf" in str(exc.detail).lower():  # the form's anti-forgery token: missing or from an old page
        detail = i18n.gettext("Biểu mẫu đã cũ hoặc thiếu mã bảo vệ CSRF: hãy tải lại trang rồi gửi lại.")
    else:
        detail = i18n.gettext("Chỉ quản trị viên (admin) mới làm được việc này.")
    return page("error.html", 403, title=N_("Không có quyền"), detail=detail)


def domain_error(_: Request[Any, Any, Any], exc: e.DomainError) -> Template:
    problem = problem_of(exc)
    detail = f"{problem.field}: {problem.detail}" if problem.field else problem.detail
    return page("error.html", problem.status, title=N_("Không thực hiện được"), detail=detail)


def invalid_request(_: Request[Any, Any, Any], exc: ValidationException) -> Template:
    extra = exc.extra if isinstance(exc.extra, list) else []
    said = [
        f"{field_words(str(item['key']))}: {message_words(str(item.get('message', '')))}"
        for item in extra
        if isinstance(item, dict) and item.get("key")
    ]
    detail = "; ".join(said) if said else i18n.gettext("Yêu cầu chưa hợp lệ.")
    return page("error.html", 400, title=N_("Yêu cầu không hợp lệ"), detail=detail)


def not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    """A dashboard address that leads nowhere (a mistyped order id, which no route matches, so the app's handler
    runs, not the dashboard router's): a page in her language, not the API's JSON. Other paths: the API's problem."""
    if request.url.path != "/dashboard" and not request.url.path.startswith("/dashboard/"):
        return http_error_handler(request, exc)
    i18n.current.set(i18n.language_of(request))  # raised before the dashboard's middleware ran
    return page(
        "error.html",
        404,
        title=N_("Không tìm thấy trang"),
        detail=i18n.gettext("Địa chỉ này không dẫn tới đơn, khách hàng hay trang nào."),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    NotAuthorizedException: to_login,
    PermissionDeniedException: forbidden,
    ValidationException: invalid_request,
    e.DomainError: domain_error,
    NotFoundException: not_found,
}

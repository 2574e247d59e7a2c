"""Every error as an RFC 9457 problem document, so API clients parse one shape only.

FastAPI's own answers (unknown route, wrong method, validation) are rewritten here too: a
422 names the offending field as ``query.start`` or ``body.stages[0].name``.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from streamwise.errors import (
    AuthenticationError,
    DatabaseError,
    NotFoundError,
    StreamwiseError,
)
from streamwise.store.engine import driver_message

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid parameters",
    502: "Source failed",
    503: "Database unavailable",
}


class ProblemError(Exception):
    """An error a route raises on purpose, with its HTTP status."""

    def __init__(
        self, status: int, detail: str, errors: Sequence[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors or [])


def invalid(field: str, message: str) -> ProblemError:
    """A 422 about one field, in the same shape as FastAPI's validation errors."""
    return ProblemError(422, f"{field}: {message}", [{"field": field, "message": message}])


def problem_response(
    status: int, detail: str, title: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_path(loc: Sequence[int | str]) -> str:
    """``("query", "start")`` → ``query.start``; ``("body", "stages", 0, "name")`` →
    ``body.stages[0].name``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "request"


def describe(error: dict[str, Any]) -> str:
    """A short human message for one pydantic error; dates and enums get their own words."""
    kind = str(error.get("type", ""))
    value = error.get("input")
    if kind.startswith("date"):
        return f"not a date (YYYY-MM-DD): {value!r}"
    if kind in ("literal_error", "enum"):
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{value!r} is not one of {expected}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_pattern_mismatch":
        return f"{value!r} must be lower-case letters, digits, '-' or '_'"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error.get("msg", "")))
    return str(error.get("msg", "invalid")).lower()


def validation_problem(errors: Sequence[Any]) -> JSONResponse:
    listed = [
        {"field": field_path(tuple(e.get("loc", ()))), "message": describe(dict(e))} for e in errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in listed)
    return problem_response(422, detail, errors=listed)


def status_of(error: StreamwiseError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, DatabaseError):
        return 503
    if isinstance(error, AuthenticationError):
        return 401
    return 400


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that answer every error with a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, error: ProblemError) -> JSONResponse:
        extra: dict[str, Any] = {"errors": error.errors} if error.errors else {}
        return problem_response(error.status, error.detail, **extra)

    @app.exception_handler(StreamwiseError)
    async def _streamwise(_request: Request, error: StreamwiseError) -> JSONResponse:
        return problem_response(status_of(error), str(error), title=type(error).__name__)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_problem(error.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = str(error.detail)
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(error.status_code, detail)

    @app.exception_handler(OperationalError)
    async def _database(_request: Request, error: OperationalError) -> JSONResponse:
        return problem_response(
            503,
            f"{driver_message(error)}. Check the database URL, and run "
            "`streamwise db upgrade` if the schema is missing.",
        )

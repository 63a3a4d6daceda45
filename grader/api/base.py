"""The base of every `/api` controller: the bearer-token guard, the security scheme, one-line 400s."""

from __future__ import annotations

from litestar import Controller
from litestar.exceptions import ValidationException

from grader.api.auth import require_api_token
from grader.api.errors import bad_parameter
from grader.api.openapi import SECURITY


class ApiController(Controller):
    guards = [require_api_token]  # noqa: RUF012 - Litestar reads these as class attributes
    security = SECURITY
    exception_handlers = {ValidationException: bad_parameter}  # noqa: RUF012

"""A function's configuration: the environment the template sets, validated once per container.

Each wiring module (``windowkeeper.wiring``) declares the settings its function needs as a
subclass of ``EnvSettings``; field ``table_name`` reads ``TABLE_NAME``. A missing or malformed
variable fails the container's first request with ``SettingsError`` naming every variable at fault,
instead of a ``KeyError`` deep inside a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError


class SettingsError(RuntimeError):
    """The function's environment is incomplete or malformed (a deployment fault, not a request's)."""


class EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values = {
            name: env[name.upper()]
            for name in cls.model_fields
            if name.upper() in env and env[name.upper()] != ""
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            wrong = sorted({str(problem["loc"][0]).upper() for problem in error.errors()})
            raise SettingsError(
                f"{cls.__name__}: environment variable(s) missing or invalid: {', '.join(wrong)}"
            ) from error

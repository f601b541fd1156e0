"""What every command of the `branchbot` command line shares: settings, errors, the event loop,
one transaction on an up-to-date schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from bot.config import Settings
from bot.runtime.app import App, SchemaOutOfDate, require_current_schema
from handlers.core.i18n import DEFAULT_TEXTS, Translator
from storage.db import Session, session_factory

T = TypeVar("T")


class CliError(click.ClickException):
    """A one-line error for the operator, never a traceback."""

    def format_message(self) -> str:
        return self.message


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        field = "BRANCHBOT_" + str(first["loc"][0]).upper() if first["loc"] else "BRANCHBOT_*"
        raise CliError(DEFAULT_TEXTS("cli.bad_setting", field=field, reason=first["msg"])) from error


def texts() -> Translator:
    """The command line's texts, in the configured language (the default one when the settings
    are broken: ``load_settings`` says so). Its own --help is in the default language: click
    builds it before any settings are read."""
    try:
        return Translator.of(Settings().language)
    except ValidationError:
        return DEFAULT_TEXTS


def schema_out_of_date() -> CliError:
    return CliError(texts()("cli.schema_out_of_date"))


def run_async(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            asyncio.run(func(*args, **kwargs))
        except SchemaOutOfDate as error:
            raise schema_out_of_date() from error
    return wrapper


async def with_session(app: App, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on a schema that is up to date."""
    try:
        await require_current_schema(app.engine)
        async with session_factory(app.engine)() as session, session.begin():
            return await work(session)
    finally:
        await app.close()

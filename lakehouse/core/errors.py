"""Errors a user can act on: each names what went wrong and how to fix it."""

from __future__ import annotations


class LakehouseError(Exception):
    """Base class for errors the command line prints without a traceback."""

    def __init__(self, cause: str, fix: str) -> None:
        super().__init__(f"{cause}\n  fix: {fix}")
        self.cause = cause
        self.fix = fix


class ConfigError(LakehouseError):
    """Configuration is missing, malformed or points at something that does not exist."""


class PlatformError(LakehouseError):
    """A local platform component (Java, jars, Spark, S3 server) is missing or cannot start."""


class SourceError(LakehouseError):
    """A source cannot be reached or read."""

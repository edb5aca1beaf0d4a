"""Errors a user can act on. The CLI prints their message as one line and exits non-zero."""

from __future__ import annotations


class DaybookError(Exception):
    """A problem with the user's input or environment (never a bug): one line, no traceback."""

    exit_code = 1


class ConfigError(DaybookError):
    """daybook.yml is wrong; the message names the file, line and key."""

    exit_code = 2


class SourceError(DaybookError):
    """The tracking store could not be read; the message names the URI and what to check."""

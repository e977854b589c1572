"""Errors that reach the user: each names where the problem is (file, line, field) and what is wrong."""

from __future__ import annotations

from pathlib import Path


class AnnotatorError(Exception):
    """Base class of every error the command line and the GUI show without a traceback."""


class RuleError(AnnotatorError, ValueError):
    """An annotation breaks one of the model's rules. `field` is a path such as `entities[2].end`."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def within(self, prefix: str) -> RuleError:
        """The same error with its field placed under `prefix` (e.g. a record on a line)."""
        field = f"{prefix}.{self.field}" if self.field and prefix else (prefix or self.field)
        return RuleError(field, self.message)


class InputError(AnnotatorError):
    """Bad input in a file: names the file, the line (1-based) when known, and the field when known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}" if where else what


class ConflictError(AnnotatorError):
    """Someone else (another window or process) saved this annotation since it was loaded."""


class ProjectError(AnnotatorError):
    """The project file cannot be opened or used (newer schema, not a project, locked, ...)."""

"""Slow work off the GUI thread: imports, exports, tokenizing, suggesting entities, training.

A `Job` runs a function in a QThread and reports through signals, which Qt delivers on the GUI
thread. The function never touches a widget and opens its own project connection. It gets a
`progress(done, total)` callback; once the job is cancelled, that callback raises `Cancelled`, so the
work stops where it reports progress and its transaction (or temporary file) is thrown away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

Progress = Callable[[int, int | None], None]


class Cancelled(Exception):
    """Raised from the progress callback to stop a job the user cancelled."""


class _Thread(QThread):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        self._job._run()


class Job(QObject):
    progressed = Signal(int, int)  # done, total (-1: unknown)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()  # after any of the three above

    def __init__(self, fn: Callable[[Progress], Any], name: str = "job", parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._fn = fn
        self._cancel = threading.Event()
        self._last_report = 0.0
        self._thread = _Thread(self)
        self._thread.finished.connect(self._thread_done)
        self.outcome: str | None = None  # "succeeded", "failed" or "cancelled"

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 30_000) -> bool:
        return self._thread.wait(ms)

    def _progress(self, done: int, total: int | None) -> None:
        if self._cancel.is_set():
            raise Cancelled
        now = time.monotonic()
        # At most about 30 reports a second: the GUI thread has better things to do.
        if now - self._last_report >= 0.03 or (total is not None and done >= total):
            self._last_report = now
            self.progressed.emit(done, -1 if total is None else total)

    def _run(self) -> None:
        try:
            if self._cancel.is_set():
                raise Cancelled
            result = self._fn(self._progress)
        except Cancelled:
            self.outcome = "cancelled"
            self.cancelled.emit()
        except BaseException as exc:  # every failure is reported, none kills the thread silently
            self.outcome = "failed"
            self.failed.emit(exc)
        else:
            self.outcome = "succeeded"
            self.succeeded.emit(result)

    def _thread_done(self) -> None:
        self.finished.emit()


# -- the work itself (runs in the worker thread) -------------------------------------------------------


def import_work(
    location: str, paths: Iterable[Path], *, skip_invalid: bool = True, fmt: str = "auto"
) -> Callable[[Progress], Any]:
    paths = list(paths)

    def work(progress: Progress) -> Any:
        from annotator.operations import import_paths
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            return import_paths(project, paths, format=fmt, skip_invalid=skip_invalid, progress=progress)
        finally:
            project.close()

    return work


def export_work(
    location: str,
    out: Path | None,
    *,
    fmt: str,
    annotator: str | None,
    include_all: bool,
) -> Callable[[Progress], Any]:
    def work(progress: Progress) -> Any:
        from annotator.operations import export_project
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            return export_project(
                project, out, format=fmt, annotator=annotator, include_all=include_all, progress=progress
            )
        finally:
            project.close()

    return work


def seed_work(location: str) -> Callable[[Progress], Any]:
    def work(progress: Progress) -> Any:
        from annotator.cli import seed_samples
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            if project.document_count() == 0 and not project.get_setting("seeded"):
                return seed_samples(project)
            return None
        finally:
            project.close()

    return work


def tokens_work(location: str, doc_id: str, text: str, language: str) -> Callable[[Progress], Any]:
    """The article's stored tokens; spaCy's, when it has none stored."""

    def work(progress: Progress) -> Any:
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            tokens = project.tokens(doc_id)
        finally:
            project.close()
        if tokens is None:
            from annotator.nlp.tokens import tokenize

            tokens = tokenize(text, language)
        return tokens

    return work


def suggestions_work(location: str, doc_id: str, annotator: str) -> Callable[[Progress], Any]:
    """The article's stored suggestions that the annotator has not rejected."""

    def work(progress: Progress) -> Any:
        from annotator.core.model import Annotation
        from annotator.store.project import Project
        from annotator.store.suggestions import suggestions_for

        project = Project.open(location, create=False)
        try:
            # No entities passed: the window follows which ones an entity covers, edit by edit.
            return suggestions_for(
                project, doc_id, annotator, annotation=Annotation(document_id=doc_id, annotator=annotator)
            )
        finally:
            project.close()

    return work


def suggest_sources_work(location: str) -> Callable[[Progress], Any]:
    """What can suggest: the installed spaCy pipelines and the project's model (listing the
    pipelines imports spaCy, which takes most of a second)."""

    def work(progress: Progress) -> Any:
        from annotator.nlp.suggest import installed_pipelines
        from annotator.operations import project_model_path
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            model = project_model_path(project)
        finally:
            project.close()
        try:
            installed = installed_pipelines()
        except Exception:  # a broken spaCy install: no pipelines, patterns still work
            installed = []
        return SuggestSources(installed, model if model is not None and model.exists() else None)

    return work


class SuggestSources:
    def __init__(self, pipelines: list[str], project_model: Path | None) -> None:
        self.pipelines = pipelines
        self.project_model = project_model


LOADING = -2  # `progressed` total while the model loads, before any article is done


def suggest_work(
    location: str,
    *,
    model: str | None = None,
    project_model: bool = False,
    patterns: Path | None = None,
    only_unstarted: bool = False,
    annotator: str | None = None,
) -> Callable[[Progress], Any]:
    """Load the suggester (a pipeline, the project's model, a pattern file) and store its
    suggestions for the project's articles; returns (the suggester's name, SuggestReport)."""

    def work(progress: Progress) -> Any:
        from annotator.operations import build_suggester, suggest_project
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            progress(0, LOADING)
            suggester = build_suggester(project, model=model, project_model=project_model, patterns=patterns)
            progress(0, None)
            report = suggest_project(
                project,
                suggester,
                only_unstarted=only_unstarted,
                annotator=annotator if only_unstarted else None,
                progress=progress,
            )
            return suggester.name, report
        finally:
            project.close()

    return work


def train_work(
    location: str, fallback: Path | None, *, n_iter: int | None = None
) -> Callable[[Progress], Any]:
    """Train the project's model on the articles marked done, into the folder it already has, else
    `model` beside the project file, else `fallback`; returns the TrainResult."""

    def work(progress: Progress) -> Any:
        from annotator.operations import project_model_path, train_project_model
        from annotator.store.project import Project

        project = Project.open(location, create=False)
        try:
            progress(0, LOADING)
            out = model_folder(project_model_path(project), project.file, fallback)
            return train_project_model(project, out, progress=progress, n_iter=n_iter)
        finally:
            project.close()

    return work


def model_folder(recorded: Path | None, project_file: Path | None, fallback: Path | None) -> Path:
    """Where the project's model goes: where it is already, else `model` beside the project file
    (or `<name>-model` when `model` holds something else), else `fallback`."""
    if recorded is not None:
        return recorded
    if project_file is not None:
        folder = project_file.parent / "model"
        if folder.is_dir() and any(folder.iterdir()) and not (folder / "config.cfg").is_file():
            folder = project_file.parent / f"{project_file.stem}-model"
        return folder
    if fallback is None:
        raise ValueError("no folder for the project's model")
    return fallback

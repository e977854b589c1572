"""Shared fixtures for the core tests: the bundled scheme, a short article and its annotation."""

from __future__ import annotations

import pytest

from annotator.core.edits import EditContext
from annotator.core.model import Annotation, Document
from annotator.core.scheme import LabelScheme, default_scheme

TEXT = "Alice Smith met Bob Jones of Acme in Paris today."
# Alice Smith 0-11, Bob Jones 16-25, Acme 29-33, Paris 37-42, today 43-48


@pytest.fixture(scope="session")
def _news_scheme() -> LabelScheme:
    return default_scheme()


@pytest.fixture
def scheme(_news_scheme: LabelScheme) -> LabelScheme:
    # LabelScheme is frozen, so sharing one loaded instance between tests is safe.
    return _news_scheme


@pytest.fixture
def document() -> Document:
    return Document(id="doc-1", text=TEXT)


@pytest.fixture
def annotation() -> Annotation:
    return Annotation(document_id="doc-1", annotator="ann")


@pytest.fixture
def ctx(document: Document, annotation: Annotation, scheme: LabelScheme) -> EditContext:
    return EditContext(document, annotation, scheme)

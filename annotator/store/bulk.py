"""Building many small objects at once: hundreds of thousands of tokens, tens of thousands of spans."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while a long list of new objects is built.

    The collector runs every few hundred new container objects and, now and then, over the whole
    heap; while 400,000 Tokens (tuple subclasses, which it keeps tracking) are built, those runs took
    longer than the building itself. What is built here holds numbers, strings and shared frozen
    models, so no reference cycle forms meanwhile; the next ordinary collection sees it all.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

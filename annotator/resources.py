"""Where the bundled resources (label schemes, sample articles, icons) live."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def default_scheme_path() -> Path:
    return RESOURCES / "schemes" / "news.json"


def samples_dir() -> Path:
    return RESOURCES / "samples"

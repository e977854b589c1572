"""Edits that could not be saved (the project file became read-only, locked, or was deleted) are
written to a recovery file in the user's data folder, so that the work is not lost."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from annotator.core.edits import Edit, edit_to_json
from annotator.core.model import Annotation, utcnow

RECOVERY_FILE = "unsaved-edits.jsonl"


def recovery_path() -> Path:
    """ANNOTATOR_RECOVERY_DIR, else the user's data folder."""
    folder = os.environ.get("ANNOTATOR_RECOVERY_DIR")
    if not folder:
        from platformdirs import user_data_dir

        folder = str(Path(user_data_dir("annotator", appauthor=False)) / "recovery")
    return Path(folder) / RECOVERY_FILE


def save_unsaved_edit(project: str, annotation: Annotation, edit: Edit, kind: str, reason: str) -> Path:
    """Append the edit, with where it belongs, to the recovery file (flushed to disk) and return it."""
    path = recovery_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "project": project,
        "document_id": annotation.document_id,
        "annotator": annotation.annotator,
        "version": annotation.version,
        "kind": kind,
        "edit": json.loads(edit_to_json(edit)),
        "reason": reason,
        "at": utcnow().isoformat(),
    }
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def unsaved_edits() -> list[dict[str, Any]]:
    path = recovery_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]

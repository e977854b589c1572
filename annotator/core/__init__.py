"""The annotation model and its rules: pydantic and the standard library only (no Qt, no store)."""

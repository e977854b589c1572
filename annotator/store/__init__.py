"""The project database: documents, annotations per annotator, the label scheme and the edit history."""

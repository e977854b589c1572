"""annotator: tag entities and stances in news articles and export training data.

Importing this package is cheap: spaCy, SQLAlchemy and Qt load only when first needed.
"""

__version__ = "0.1.0"

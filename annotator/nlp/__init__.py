"""spaCy-backed language processing: tokenizing, snapping selections to tokens, suggestions, training.

spaCy is imported inside functions, never at import time: `import spacy` alone takes most of a second.
"""

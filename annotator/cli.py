"""The command line: `annotator [--project PATH] COMMAND ...`.

Errors from bad input or a bad project print one line naming the file, line and field, and exit 1;
no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from annotator import __version__
from annotator.core.errors import AnnotatorError
from annotator.store.project import ImportReport, Project

ENV_PROJECT = "ANNOTATOR_PROJECT"


def build_parser() -> argparse.ArgumentParser:
    from annotator.formats.registry import export_formats, import_formats

    parser = argparse.ArgumentParser(
        prog="annotator",
        description="Tag entities and stances in news articles; export training data.",
        epilog=f"Without --project, ${ENV_PROJECT} names the project; without either, a default project "
        "in your data folder, seeded with sample articles, is used.",
    )
    parser.add_argument("--version", action="version", version=f"annotator {__version__}")
    parser.add_argument(
        "--project",
        metavar="PATH",
        help="project file or folder (created if missing), or a postgresql:// URL",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the desktop app (what a bare `annotator` does)")
    gui.add_argument("--annotator", metavar="NAME", help="annotate as NAME (default: the name you gave)")

    init = sub.add_parser("init", help="create a project with a label scheme")
    init.add_argument(
        "--scheme", metavar="FILE", type=Path, help="label scheme JSON (default: the news scheme)"
    )

    scheme = sub.add_parser("scheme", help="print the project's label scheme; with FILE, replace it")
    scheme.add_argument("file", nargs="?", type=Path, metavar="FILE")

    imp = sub.add_parser("import", help="import articles or annotations")
    imp.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
    imp.add_argument("--format", default="auto", choices=["auto", *import_formats()])
    imp.add_argument("--annotator", metavar="NAME", help="record the imported annotations as NAME's")
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid records and report each invalid one (default: all or nothing)",
    )
    imp.add_argument(
        "--strict-labels", action="store_true", help="refuse labels the scheme lacks instead of adding them"
    )

    exp = sub.add_parser("export", help="export annotations (done ones unless --all)")
    exp.add_argument(
        "out",
        nargs="?",
        type=Path,
        metavar="OUT",
        help="file or folder to write (default: a new file in exports/)",
    )
    exp.add_argument("--format", default="native", choices=export_formats())
    exp.add_argument("--annotator", metavar="NAME", help="only NAME's annotations")
    exp.add_argument("--all", action="store_true", help="every annotation, whatever its status")
    exp.add_argument(
        "--split",
        type=float,
        metavar="SHARE",
        help="write NAME-train and NAME-dev files with SHARE of the documents for training",
    )
    exp.add_argument("--seed", type=int, default=0, help="shuffle seed for --split (default 0)")

    stats = sub.add_parser("stats", help="count documents, annotations, entities and stances")
    stats.add_argument("--json", action="store_true", help="print a JSON object")

    sub.add_parser("schema", help="print the JSON Schema of the native JSONL format")

    sug = sub.add_parser(
        "suggest",
        help="propose entities for annotators to accept or reject (annotations are not changed)",
        description="Store suggested entities for the project's articles. Without --model, "
        "--project-model or --patterns, the project's model is used when there is one.",
    )
    which = sug.add_mutually_exclusive_group()
    which.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        help="an installed spaCy pipeline (e.g. en_core_web_sm) or a pipeline folder",
    )
    which.add_argument(
        "--project-model", action="store_true", help="the model `annotator train` made from this project"
    )
    sug.add_argument(
        "--patterns", metavar="FILE", type=Path, help="spaCy EntityRuler patterns, one JSON object a line"
    )
    sug.add_argument(
        "--only-unstarted",
        action="store_true",
        help="only articles nobody (or, with --annotator, NAME) has started",
    )
    sug.add_argument("--annotator", metavar="NAME", help="with --only-unstarted: whose work counts")

    train = sub.add_parser(
        "train",
        help="train an entity model on the articles marked done; print its scores on held-out ones",
    )
    train.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder to write the spaCy pipeline to")
    train.add_argument(
        "--eval-split",
        type=float,
        default=0.2,
        metavar="SHARE",
        help="share of the articles held out for scoring (default 0.2)",
    )
    train.add_argument("--seed", type=int, default=0, help="shuffle and training seed (default 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    try:
        if command == "schema":
            from annotator.formats.native import json_schema

            print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
            return 0
        if command == "init":
            return _init(args)
        if command == "gui":
            return _gui(args)
        with _open_project(args) as project:
            if command == "scheme":
                return _scheme(project, args)
            if command == "import":
                return _import(project, args)
            if command == "export":
                return _export(project, args)
            if command == "stats":
                return _stats(project, args)
            if command == "suggest":
                return _suggest(project, args)
            if command == "train":
                return _train(project, args)
    except AnnotatorError as exc:
        print(f"annotator: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("annotator: interrupted; nothing was changed by the unfinished command", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"annotator: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {command}")  # pragma: no cover - argparse refuses first
    return 2


# -- projects ---------------------------------------------------------------------------------------


def project_location(args: argparse.Namespace) -> tuple[str, bool]:
    """The project to use, and whether it is the default one (seeded with the samples)."""
    if args.project:
        return args.project, False
    if os.environ.get(ENV_PROJECT):
        return os.environ[ENV_PROJECT], False
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("annotator", appauthor=False)) / "default"), True


@contextmanager
def _open_project(args: argparse.Namespace) -> Iterator[Project]:
    location, is_default = project_location(args)
    project = Project.open(location)
    try:
        if is_default and project.document_count() == 0 and not project.get_setting("seeded"):
            seed_samples(project)
        yield project
    finally:
        project.close()


def seed_samples(project: Project) -> ImportReport:
    from annotator.operations import import_paths
    from annotator.resources import samples_dir

    report = import_paths(project, [samples_dir()], format="text")
    project.set_setting("seeded", "1")
    return report


def _init(args: argparse.Namespace) -> int:
    from annotator.core.scheme import default_scheme, load_scheme
    from annotator.store.project import resolve_location

    location, _ = project_location(args)
    _, file = resolve_location(location)
    if file is not None and file.exists():
        raise AnnotatorError(
            f"{file}: a project is already here; use `annotator scheme FILE` to change its scheme"
        )
    scheme = load_scheme(args.scheme) if args.scheme else default_scheme()
    with Project.open(location, scheme=scheme) as project:
        print(
            f"Created project {project.file or location} with the {scheme.name!r} scheme "
            f"({', '.join(scheme.label_names)})."
        )
    return 0


def _scheme(project: Project, args: argparse.Namespace) -> int:
    if args.file is None:
        print(project.scheme.to_json())
        return 0
    from annotator.core.scheme import load_scheme

    new = load_scheme(args.file)
    project.set_scheme(new)
    print(f"Replaced the scheme with {args.file} ({', '.join(new.label_names)}).")
    return 0


def _gui(args: argparse.Namespace) -> int:
    try:
        from annotator.gui.app import run
    except ImportError as exc:
        if exc.name and exc.name.startswith("annotator.gui"):
            print(
                "annotator: the desktop window is not part of this version yet; use the commands "
                "(annotator --help).",
                file=sys.stderr,
            )
            return 2
        raise
    location, is_default = project_location(args)
    return run(location, seed=is_default, annotator=getattr(args, "annotator", None))


# -- import / export --------------------------------------------------------------------------------


class _Bar:
    """A progress bar on a terminal (stderr); silent otherwise."""

    def __init__(self, what: str, unit: str) -> None:
        self._bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(desc=what, unit=unit, file=sys.stderr, leave=False, mininterval=0.2)

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is not None:
            if total is not None and self._bar.total != total:
                self._bar.total = total
            self._bar.n = done
            self._bar.refresh() if done == total else self._bar.update(0)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _import(project: Project, args: argparse.Namespace) -> int:
    from annotator.operations import import_paths

    bar = _Bar("importing", " records")
    try:
        report = import_paths(
            project,
            args.paths,
            format=args.format,
            annotator=args.annotator,
            skip_invalid=args.skip_invalid,
            strict_labels=args.strict_labels,
            progress=bar,
        )
    finally:
        bar.close()
    parts = [f"{report.documents_added} documents added"]
    if report.documents_existing:
        parts.append(f"{report.documents_existing} already there")
    if report.annotations_added or report.annotations_existing:
        parts.append(f"{report.annotations_added} annotations added")
    if report.annotations_existing:
        parts.append(f"{report.annotations_existing} annotations already there (kept as they were)")
    print("Imported: " + ", ".join(parts) + ".")
    if report.labels_added:
        print(f"Added to the scheme: labels {', '.join(report.labels_added)}.")
    if report.overlaps_allowed:
        print("The records have overlapping entities: the project's scheme now allows them.")
    if report.polarities_added:
        print(f"Added to the scheme: polarities {', '.join(report.polarities_added)}.")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.skipped:
        print(f"Skipped {len(report.skipped)} invalid records:", file=sys.stderr)
        for error in report.skipped:
            print(f"  {error}", file=sys.stderr)
    return 0


def _export(project: Project, args: argparse.Namespace) -> int:
    from annotator.operations import export_project

    bar = _Bar("exporting", " documents")
    try:
        report = export_project(
            project,
            args.out,
            format=args.format,
            annotator=args.annotator,
            include_all=args.all,
            split=args.split,
            seed=args.seed,
            progress=bar,
        )
    finally:
        bar.close()
    which = "all" if args.all else "done"
    print(f"Exported {report.records} records ({which}) to {' and '.join(map(str, report.paths))}.")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.records == 0 and not args.all:
        print("Nothing is marked done yet; --all exports every annotation with its status.", file=sys.stderr)
    return 0


def _stats(project: Project, args: argparse.Namespace) -> int:
    stats = project.stats()
    if args.json:
        print(json.dumps(stats, indent=2, ensure_ascii=False))
        return 0
    print(f"Documents: {stats['documents']}")
    print("Annotations: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in stats["annotations"].items()))
    if stats["annotators"]:
        print(f"Annotators: {', '.join(stats['annotators'])}")
    for title, key in (
        ("Entities", "entities"),
        ("Stances", "stances"),
        ("Article stances", "document_stances"),
    ):
        counts = stats[key]
        print(f"{title}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) if counts else "none"))
    return 0


# -- suggestions and training -----------------------------------------------------------------------


def _suggest(project: Project, args: argparse.Namespace) -> int:
    from annotator.operations import build_suggester, suggest_project

    suggester = build_suggester(
        project, model=args.model, project_model=args.project_model, patterns=args.patterns
    )
    for warning in suggester.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    bar = _Bar("suggesting", " articles")
    try:
        report = suggest_project(
            project,
            suggester,
            only_unstarted=args.only_unstarted,
            annotator=args.annotator,
            progress=bar,
        )
    except KeyboardInterrupt:
        bar.close()
        print(
            "annotator: interrupted; suggestions stored for the articles done so far are kept, "
            "and no annotation was changed",
            file=sys.stderr,
        )
        return 130
    finally:
        bar.close()
    labels = ", ".join(f"{label} {n}" for label, n in report.by_label.most_common())
    print(
        f"Suggested {sum(report.by_label.values())} entities in {report.documents} articles "
        f"with {suggester.name}" + (f" ({labels})." if labels else ".")
    )
    if report.skipped:
        who = args.annotator or "somebody"
        print(f"Left out {report.skipped} articles that {who} has started.")
    if report.dropped:
        dropped = ", ".join(f"{label} {n}" for label, n in report.dropped.most_common())
        print(f"Dropped (labels the scheme lacks): {dropped}.")
    return 0


def _train(project: Project, args: argparse.Namespace) -> int:
    from annotator.operations import train_project_model

    bar = _Bar("training", " examples")
    try:
        result = train_project_model(
            project, args.out_dir, eval_split=args.eval_split, seed=args.seed, progress=bar
        )
    finally:
        bar.close()
    print(
        f"Trained on {result.train_docs} articles ({result.train_entities} entities) in "
        f"{result.seconds:.1f} s, {result.epochs} epochs."
    )
    if result.overall is None:
        print("No held-out articles with entities to score on (--eval-split 0 or too few articles).")
    else:
        print(f"Scores on {result.eval_docs} held-out articles ({result.eval_entities} entities):")
        width = max(len("overall"), *(len(label) for label in result.per_label))
        print(f"  {'label':<{width}}  precision  recall      F  entities")
        rows = [*result.per_label.items(), ("overall", result.overall)]
        for label, sc in rows:
            print(f"  {label:<{width}}  {sc.precision:9.3f}  {sc.recall:6.3f}  {sc.f:5.3f}  {sc.gold:8d}")
    notes = []
    if result.expanded:
        notes.append(f"{result.expanded} spans widened to whole tokens")
    if result.dropped_overlaps:
        notes.append(f"{result.dropped_overlaps} overlapping spans left out (the longer one kept)")
    if result.dropped_unaligned:
        notes.append(f"{result.dropped_unaligned} spans over whitespace only left out")
    if notes:
        print("Note: " + "; ".join(notes) + ".")
    stance = result.stance
    if stance is None:
        print(f"Stance classifier not trained: {result.stance_note or 'no examples'}.")
    else:
        print(
            f"Stance classifier: trained on {stance.train_docs} articles in {stance.seconds:.1f} s, "
            f"{stance.epochs} epochs; saved to {stance.out_dir}."
        )
        if stance.overall is None:
            print("No held-out articles to score the stance classifier on.")
        else:
            print(f"Stance scores on {stance.eval_docs} held-out articles (threshold 0.5):")
            width = max(len("overall"), *(len(label) for label in stance.per_label))
            print(f"  {'label':<{width}}  precision  recall      F  articles")
            for label, sc in [*stance.per_label.items(), ("overall", stance.overall)]:
                print(f"  {label:<{width}}  {sc.precision:9.3f}  {sc.recall:6.3f}  {sc.f:5.3f}  {sc.gold:8d}")
    print(
        f"Saved the pipeline to {result.out_dir} (spacy.load() loads it); "
        "`annotator suggest --project-model` now uses it."
    )
    return 0

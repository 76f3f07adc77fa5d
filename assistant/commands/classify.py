"""CLI commands: classify (batch detection) and eval (metrics reports)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Annotated, Any

import typer

#: Suffix of the output file while rows are still being written.
PARTIAL_SUFFIX = ".partial"


#: ``--encoding`` of a labeled ``--data`` file (``eval``, ``train``).
DataEncoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Encoding of --data, as for classify (default utf-8; rows not decodable are "
        "skipped and listed).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("classify")(classify)
    app.command("eval")(evaluate)
    app.command("train")(train)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def classify(
    input: Annotated[
        str,
        typer.Argument(
            help="CSV or JSONL file, or '-' for stdin: ONE text, or rows with --format csv/jsonl."
        ),
    ],
    text_col: Annotated[str, typer.Option("--text-col", help="Column holding the text.")] = "text",
    id_col: Annotated[
        str | None,
        typer.Option(
            "--id-col", help="Column holding the id (default: 'id' if present, else the row index)."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write JSONL here instead of stdout.")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="hybrid, rules or model (default: settings).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Rows per batch (default: settings).")
    ] = None,
    artifact_dir: Annotated[
        Path | None, typer.Option("--artifact-dir", help="Student artifact directory.")
    ] = None,
    encoding: Annotated[
        str,
        typer.Option("--encoding", help="Encoding of the input file (rows not decodable fail)."),
    ] = "utf-8",
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, tsv or jsonl (default: from the suffix).")
    ] = None,
    explain: Annotated[
        bool | None,
        typer.Option(
            "--explain/--no-explain",
            help=(
                "Give the model's own calls that have no rule span the sentences they rest on "
                "(default: settings, on). --no-explain is faster, same calls."
            ),
        ),
    ] = None,
) -> None:
    """Detect signals in every row: one JSON object per row, in input order.

    Rows that cannot be classified get {"id": ..., "error": ...} and the run goes on; the exit
    status is 1 when any row failed, 2 when the input or classifier cannot be used at all.
    """
    from assistant.batch_io import (
        BatchInputError,
        batched,
        classify_batch,
        read_records,
        same_file,
    )
    from assistant.settings import load_settings
    from classifiers.factory import ClassifierLoadError, load_classifier

    settings = load_settings()
    cs = settings.classifier
    size = batch_size or cs.batch_size
    if output is not None and input != "-" and same_file(Path(input), output):
        raise _fail(f"--output {output} is the input file; write the results to another file")
    if output is None and sys.stdout is None:  # started with standard output closed (>&-)
        raise _fail("standard output is closed: write the results with --output FILE")
    records = read_records(input, text_col, id_col, encoding=encoding, fmt=fmt)
    try:
        # Read the first row before loading the model: a missing file or column fails fast.
        first = next(records, None)
    except BatchInputError as exc:
        raise _fail(str(exc)) from None
    try:
        classifier = load_classifier(
            artifact_dir=artifact_dir or cs.artifact_dir,
            mode=mode or cs.mode,
            threads=cs.threads,
            batch_size=size,
            max_length=cs.max_tokens,
            explain=cs.explain_model_calls if explain is None else explain,
        )
    except ClassifierLoadError as exc:
        raise _fail(str(exc)) from None

    def stream() -> Any:
        if first is not None:
            yield first
        yield from records

    total = failed = 0
    started = time.perf_counter()
    sink: IO[str]
    # Rows go to OUT.partial, renamed to OUT only once every row is written: a run stopped
    # part way (Ctrl-C, a crash, a full disk) never leaves a file that looks complete, and an
    # earlier OUT stays as it was.
    partial = output.with_name(output.name + PARTIAL_SUFFIX) if output else None
    try:
        if output and partial:
            output.parent.mkdir(parents=True, exist_ok=True)
            if output.is_dir():
                raise IsADirectoryError(21, "Is a directory")
            sink = partial.open("w", encoding="utf-8")
        else:
            sink = sys.stdout
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from None
    finished = False
    try:
        for batch in batched(stream(), size):
            for row in classify_batch(classifier, batch, max_chars=cs.max_chars):
                total += 1
                failed += "error" in row
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
        finished = True
    except BatchInputError as exc:
        raise _fail(str(exc)) from None
    except BrokenPipeError:  # `mindsignal classify ... | head`: the reader left, stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted after {total} rows", err=True)
        raise typer.Exit(130) from None
    finally:
        if output and partial:
            sink.close()
            if finished:
                partial.replace(output)
            else:
                typer.echo(
                    f"{output} was not written; the {total} rows done so far are in {partial}",
                    err=True,
                )
    elapsed = time.perf_counter() - started
    if total == 0:
        raise _fail("the input has no rows", 1)
    if output or failed:
        summary = f"{total} rows: {total - failed} classified, {failed} failed"
        typer.echo(f"{summary} in {elapsed:.1f}s" + (f" -> {output}" if output else ""), err=True)
    if failed:
        raise typer.Exit(1)


def evaluate(
    data: Annotated[
        Path | None, typer.Option("--data", help="Labeled CSV or JSONL file to evaluate on.")
    ] = None,
    text_col: Annotated[str, typer.Option("--text-col", help="Column holding the text.")] = "text",
    label_col: Annotated[
        str,
        typer.Option("--label-col", help="Column holding the label(s), as text: several as 'a;b'."),
    ] = "label",
    encoding: DataEncoding = None,
    label_map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help='Dataset labels to ours: JSON file or inline JSON, e.g. {"minimum": "minimal"}.',
        ),
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, rules, model or all.")] = "hybrid",
    task: Annotated[
        str, typer.Option("--task", help="conditions (multi-label), severity or risk.")
    ] = "conditions",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Report directory (default: <data_dir>/reports/classifier)."
        ),
    ] = None,
    reddit_test: Annotated[
        bool,
        typer.Option(
            "--reddit-test",
            help="Built-in comparison: rules vs student vs hybrid on the author-split test split, "
            "plus the ../shared/data dev sets when present.",
        ),
    ] = False,
    behaviour: Annotated[
        Path | None,
        typer.Option(
            "--behaviour",
            help="Behavioural test cases (JSONL, classifiers/behaviour/*.jsonl): pass rates per "
            "category (negation, third person, figures of speech ...) for each --mode.",
        ),
    ] = None,
    artifact_dir: Annotated[
        Path | None, typer.Option("--artifact-dir", help="Student artifact directory.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Evaluate on the first N rows only (quick check)."),
    ] = None,
    tune_fusion: Annotated[
        bool,
        typer.Option(
            "--tune-fusion",
            help="Tune the hybrid's fusion numbers on the VALIDATION split and save them as "
            "fusion.json in the artifact directory (then evaluate as asked).",
        ),
    ] = False,
    crisis_only: Annotated[
        bool,
        typer.Option(
            "--crisis-only",
            help="With --tune-fusion: re-tune only the crisis thresholds, at the configured "
            "classifier.max_tokens, keeping the other fusion numbers.",
        ),
    ] = False,
    judged_labels: Annotated[
        Path | None,
        typer.Option(
            "--judged-labels",
            help="With --tune-fusion: tune the condition numbers against these blind readings "
            "of the validation split (classifiers/judged/validation.jsonl) instead of the "
            "subreddit labels.",
        ),
    ] = None,
    distant_tolerance: Annotated[
        float | None,
        typer.Option(
            "--distant-tolerance",
            min=0.0,
            help="With --judged-labels: only settings whose subreddit-label macro-F1 on "
            "validation stays within this much of the current fusion's (default: no limit).",
        ),
    ] = None,
) -> None:
    """Score classifiers against labeled data; writes report.json, report.md and confusion PNGs.

    --data is read as classify reads its input: a malformed or undecodable row is skipped and
    listed on stderr by row number and reason, and the others are scored.
    """
    from assistant.batch_io import BatchInputError
    from assistant.settings import load_settings
    from classifiers.evaluation import EvaluationError, evaluate_rows, run_reddit_preset
    from classifiers.factory import FUSION_FILE, ClassifierLoadError, load_classifier

    settings = load_settings()
    out_dir = output or settings.data_dir / "reports" / "classifier"
    artifact = artifact_dir or settings.classifier.artifact_dir
    if mode not in ("hybrid", "rules", "model", "all"):
        raise _fail(f"unknown --mode {mode!r}: use hybrid, rules, model or all")
    modes = ("rules", "model", "hybrid") if mode == "all" else (mode,)

    def configured(which: str) -> Any:
        # As `classify` and the app run it (classifier.max_tokens included).
        # Evidence for model-only calls changes no decision: not computed for scoring.
        return load_classifier(
            artifact_dir=artifact,
            mode=which,
            max_length=settings.classifier.max_tokens,
            explain=False,
        )

    if sum(x for x in (data is not None, behaviour is not None, reddit_test)) > 1:
        raise _fail("give one of --data, --behaviour and --reddit-test")
    if (judged_labels or distant_tolerance is not None) and not tune_fusion:
        raise _fail("--judged-labels and --distant-tolerance only apply with --tune-fusion")
    if distant_tolerance is not None and not judged_labels:
        raise _fail("--distant-tolerance needs --judged-labels")
    if encoding is not None and data is None:
        raise _fail("--encoding applies to --data only")
    try:
        if tune_fusion:
            from classifiers.evaluation import load_judged_labels
            from classifiers.evaluation import tune_fusion as tune

            hybrid = configured("hybrid")
            fusion, summary = tune(
                hybrid,
                artifact,
                say=lambda m: typer.echo(m, err=True),
                conditions=not crisis_only,
                judged=load_judged_labels(judged_labels) if judged_labels else None,
                distant_tolerance=distant_tolerance,
            )
            fusion.save(artifact / FUSION_FILE)
            typer.echo(json.dumps(summary), err=True)
            typer.echo(f"fusion settings: {artifact / FUSION_FILE}", err=True)
            if not reddit_test and data is None:
                return
        if reddit_test:
            report = run_reddit_preset(
                artifact_dir=artifact,
                out_dir=out_dir,
                limit=limit,
                say=lambda m: typer.echo(m, err=True),
                classifiers={m: configured(m) for m in ("rules", "model", "hybrid")},
            )
        elif behaviour is not None:
            from classifiers.evaluation import behaviour_section, write_report

            loaded = {m: configured(m) for m in modes}
            result = behaviour_section(loaded, behaviour, say=lambda m: typer.echo(m, err=True))
            report = {
                "title": f"Behavioural cases: {behaviour.name}",
                "model_versions": {m: c.version for m, c in loaded.items()},
                "summary": {f"{m}/pass_rate": r["pass_rate"] for m, r in result["modes"].items()},
                "behaviour": result,
            }
            write_report(report, out_dir)
        elif data is None:
            raise _fail(
                "give --data FILE (with --text-col/--label-col), --behaviour FILE or --reddit-test"
            )
        else:
            from assistant.commands.labeled_input import describe_skipped, read_labeled_rows
            from classifiers.training.data import BadRow

            skipped: list[BadRow] = []
            texts: list[str] = []
            labels: list[str] = []
            for row in read_labeled_rows(data, text_col, label_col, encoding=encoding or "utf-8"):
                if isinstance(row, BadRow):
                    skipped.append(row)
                    continue
                texts.append(row.text)
                labels.append(row.label)
                if limit and len(texts) >= limit:
                    break
            if skipped:
                header = f"{len(skipped)} malformed row(s) of {data} skipped:"
                for line in describe_skipped(skipped, header):
                    typer.echo(line, err=True)
            report = evaluate_rows(
                texts,
                labels,
                source=data,
                skipped=len(skipped),
                label_map=label_map,
                task=task,
                modes=modes,
                artifact_dir=artifact,
                out_dir=out_dir,
                classifiers={m: configured(m) for m in modes},
            )
    except (EvaluationError, ClassifierLoadError, BatchInputError) as exc:
        raise _fail(str(exc)) from None
    for section in report.get("sections", []):
        if section.get("failed"):  # left out of the metrics: say so, not only in report.md
            typer.echo(
                f"{section['name']} ({section['mode']}): {section['failed']} of "
                f"{section['failed'] + section['metrics']['n']} row(s) could not be "
                "classified (empty, binary or over the length limit) and are left out",
                err=True,
            )
    summary = report.get("summary", {})
    for key, value in summary.items():
        typer.echo(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    typer.echo(f"report: {out_dir / 'report.md'}", err=True)


def train(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Artifact directory (default: the shipped classifiers/artifacts/minilm-mh).",
        ),
    ] = None,
    teacher_labels: Annotated[
        Path | None,
        typer.Option("--teacher-labels", help="JSONL from `mindsignal label` (weighted low)."),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = 3,
    max_posts: Annotated[
        int | None, typer.Option("--max-posts", min=4, help="Train on N posts only (quick runs).")
    ] = None,
    max_length: Annotated[
        int,
        typer.Option(
            "--max-length", min=16, max=512, help="Tokens per post (longer is truncated)."
        ),
    ] = 128,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the training.")] = 13,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Other labeled CSV (label = subreddit or condition names) instead of the Reddit corpus.",
        ),
    ] = None,
    text_col: Annotated[str, typer.Option("--text-col", help="Text column of --data.")] = "text",
    label_col: Annotated[
        str, typer.Option("--label-col", help="Label column of --data.")
    ] = "label",
    encoding: DataEncoding = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail on any unusable row of --data (malformed, undecodable, empty text, "
            "unknown label) instead of skipping and listing it.",
        ),
    ] = False,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads for torch.")] = 2,
    freeze_layers: Annotated[
        int,
        typer.Option(
            "--freeze-layers",
            min=0,
            max=6,
            help="Freeze embeddings and the lowest N of 6 layers (CPU budget).",
        ),
    ] = 4,
    no_rules: Annotated[
        bool,
        typer.Option("--no-rules", help="Do not use the rule-based labeler as a label source."),
    ] = False,
    no_rule_conditions: Annotated[
        bool,
        typer.Option(
            "--no-rule-conditions",
            help="Use the rules' risk and severity labels but not their condition labels.",
        ),
    ] = False,
    source_head: Annotated[
        bool,
        typer.Option(
            "--source-head/--no-source-head",
            help=(
                "Also train a softmax head over the posts' sources (subreddits or --data "
                "labels), shaping the pooled embedding the stacked multiclass member reads."
            ),
        ),
    ] = True,
    extra_reddit: Annotated[
        bool,
        typer.Option(
            "--extra-reddit/--no-extra-reddit",
            help=(
                "Add construct-tracker's ~4,000 extra Reddit posts of the same subreddits to the "
                "train split (validation and test stay untouched; ignored with --data or "
                "--max-posts)."
            ),
        ),
    ] = True,
    curated: Annotated[
        bool,
        typer.Option(
            "--curated/--no-curated",
            help=(
                "Add the curated short texts (classifiers/training/curated/: everyday life and "
                "figures of speech beside genuine disclosures) to the train split."
            ),
        ),
    ] = True,
    curated_copies: Annotated[
        int,
        typer.Option(
            "--curated-copies", min=1, help="With --curated: times each curated text is used."
        ),
    ] = 4,
    curated_traps: Annotated[
        int,
        typer.Option(
            "--curated-traps",
            min=0,
            help=(
                "With --curated: also the trap pairs (negation, someone else's condition, "
                "fiction, figures of speech, the resolved past beside genuine disclosures), "
                "each N times (0: not used)."
            ),
        ),
    ] = 2,
) -> None:
    """Fine-tune the MiniLM student, calibrate it and export the int8 ONNX artifact.

    Resumes from the last epoch checkpoint (under <data_dir>/checkpoints) of the same settings.
    Severity cut points are fitted on ../shared/data/dev when present (thresholds only).
    Rows of --data that cannot train (malformed, undecodable, empty text, unknown label) are
    skipped, listed on stderr by row number and reason, and counted in MODEL_CARD.md; more
    than half of them, or --strict and any, fails before training.
    """
    import logging

    from assistant.batch_io import BatchInputError
    from assistant.commands.labeled_input import describe_skipped, read_labeled_rows
    from assistant.settings import PROJECT_ROOT, load_settings
    from classifiers.training.data import CorpusError, LabeledCorpus, labeled_corpus
    from classifiers.training.train import TrainConfig, train_student

    settings = load_settings()
    out_dir = output or settings.classifier.artifact_dir
    dev = PROJECT_ROOT.parent / "shared" / "data" / "dev"
    for path, what in ((teacher_labels, "--teacher-labels"), (data, "--data")):
        if path is not None and not path.is_file():
            raise _fail(f"{what} file not found: {path}")
    if out_dir.exists() and not out_dir.is_dir():
        raise _fail(f"--output {out_dir} is a file; give an artifact directory")
    if data is None and (strict or encoding is not None):
        raise _fail("--strict and --encoding apply to --data only")
    corpus: LabeledCorpus | None = None
    if data is not None:
        # Read and checked before anything is loaded or written: a file that cannot train
        # fails in seconds, and the skipped rows are listed before a long run starts.
        rows = read_labeled_rows(
            data, text_col, label_col, author_col="author", encoding=encoding or "utf-8"
        )
        try:
            corpus = labeled_corpus(rows, str(data), strict=strict)
        except (BatchInputError, CorpusError) as exc:
            raise _fail(str(exc)) from None
        if corpus.skipped:
            header = f"{len(corpus.skipped)} row(s) of {data} skipped (the others train):"
            for line in describe_skipped(corpus.skipped, header):
                typer.echo(line, err=True)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = TrainConfig(
        output_dir=out_dir,
        checkpoint_dir=settings.data_dir / "checkpoints" / out_dir.name,
        teacher_labels=teacher_labels,
        epochs=epochs,
        max_posts=max_posts,
        max_length=max_length,
        seed=seed,
        threads=threads,
        freeze_layers=freeze_layers,
        use_rules=not no_rules,
        rule_conditions=not no_rule_conditions,
        source_head=source_head,
        extra_reddit=extra_reddit,
        curated=curated,
        curated_copies=curated_copies,
        curated_traps=curated_traps,
        data_csv=data,
        text_col=text_col,
        label_col=label_col,
        # Quick runs (--max-posts) skip the dev-set calibration and checks to stay fast.
        severity_dev=None if max_posts else dev / "depression_severity_dev.csv",
        cssrs_dev=None if max_posts else dev / "cssrs_users_dev.csv",
    )
    try:
        result = train_student(config, progress=lambda m: typer.echo(m, err=True), corpus=corpus)
    except CorpusError as exc:
        raise _fail(str(exc)) from None
    if corpus is not None and corpus.skipped:
        typer.echo(
            f"{len(corpus.skipped)} of {corpus.rows_read} row(s) of {data} were skipped "
            "(listed above; counted in MODEL_CARD.md)",
            err=True,
        )
    m = result.metrics
    typer.echo(f"artifact: {result.artifact_dir} ({result.version})")
    for key in (
        "val_macro_f1",
        "test_macro_f1",
        "test_suicidewatch_crisis_recall",
        "severity_dev_cv_balanced_accuracy",
        "int8_vs_fp32_val_macro_f1_delta",
    ):
        if key in m:
            typer.echo(f"{key}: {m[key]}")

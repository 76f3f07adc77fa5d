"""CLI commands: ``mindsignal kb ingest | stats | query | eval`` (the knowledge base and retrieval)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from assistant.app import MindSignalApp

kb_app = typer.Typer(
    name="kb",
    help="Knowledge base: ingest passages and clinic protocols, inspect, query and evaluate.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.add_typer(kb_app, name="kb")


def _app() -> MindSignalApp:
    from assistant.app import build_app
    from assistant.logging_setup import configure_logging
    from assistant.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    return build_app(settings)


#: Longest query text: far above any post (the dense query reads its key sentences only).
MAX_QUERY_CHARS = 1_000_000


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _label(value: str) -> str:
    """A label as the store spells it: ``Eating-Disorder`` -> ``eating_disorder``."""
    return "_".join(value.strip().lower().replace("-", " ").split())


@kb_app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Clinic protocol files or folders (Markdown or PDF) to add."),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Embed everything again, the clinic protocols already stored included, and "
            "swap it in at the end.",
        ),
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any file had errors (for CI).")
    ] = False,
) -> None:
    """Embed new and edited passages into the vector store; remove deleted ones."""
    from knowledge_base.ingest import (
        KnowledgeBaseError,
        ingest_knowledge_base,
        missing_extra_paths,
        stored_clinic_files,
    )
    from knowledge_base.protocols import protocol_path_problems
    from retrieval.chroma_store import StoreError, StoreNotWritableError

    extra = list(paths or [])
    problems = protocol_path_problems(extra)
    if problems:
        raise _fail("; ".join(problems) + "; nothing was ingested", 2)
    mind = _app()
    gone: dict[str, int] = {}
    target = mind.store
    if rebuild:
        # The clinic's protocols live only in the store's records: read their files again.
        try:
            present, gone = stored_clinic_files(mind.store)
        except StoreNotWritableError as exc:
            raise _fail(str(exc)) from exc
        except StoreError:
            present = []  # no store yet, or an unreadable one that _staging_store moves aside
        extra += present
        # A rebuild embeds everything into a staging collection and swaps it in at the end, so
        # an interrupted rebuild leaves the previous store as it was.
        try:
            target = _staging_store(mind)
        except StoreError as exc:
            raise _fail(str(exc)) from exc
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 2:
            last[0] = now
            typer.echo(f"  embedded {done}/{total}", err=True)

    try:
        report = ingest_knowledge_base(
            target, mind.settings.knowledge_base, extra_paths=extra, progress=progress
        )
        if rebuild:
            mind.store.replace_with(target)
    except (KnowledgeBaseError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"knowledge base: {report.summary()}")
    typer.echo(f"store: {mind.store.location}")
    for file, count in gone.items():
        typer.secho(
            f"warning: clinic protocol {file} no longer exists; its {count} record(s) were dropped",
            err=True,
            fg="yellow",
        )
    # A configured path that is gone is a settings problem, not a file to fix: say so, by name.
    missing = missing_extra_paths(mind.settings.knowledge_base)
    for path in missing:
        typer.secho(
            f"warning: clinic protocol path {path} (knowledge_base.extra_paths) does not exist; "
            "skipped it (records it left are removed), the rest was ingested",
            err=True,
            fg="yellow",
        )
    warned = {str(p) for p in missing}
    for err in report.errors:
        if err.file in warned:
            continue
        typer.secho(f"  skipped {err.file}: {err.field}: {err.message}", err=True, fg="yellow")
    if strict and report.errors:
        raise typer.Exit(1)


def _staging_store(mind: MindSignalApp) -> Any:
    from retrieval.chroma_store import StoreError, StoreNotWritableError

    try:
        return mind.store.staging()
    except StoreNotWritableError:
        raise  # intact, only not writable: moving it aside would not help and is not ours to do
    except StoreError as exc:
        # A corrupt on-disk store cannot even be opened: move it aside (never delete data).
        path = mind.settings.store_path
        if mind.settings.retrieval.store_url or not path.exists():
            raise
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.rename(aside)
        except OSError as err:  # a read-only folder, a mount point
            reason = (err.strerror or type(err).__name__).lower()
            raise StoreError(
                f"{exc}; could not move it aside to {aside.name} ({reason}): move or delete "
                f"{path} yourself, then run `mindsignal kb ingest`"
            ) from err
        typer.echo(f"moved the unreadable store aside to {aside}", err=True)
        del mind.store  # rebuilt on next use
        mind.store.ensure_collection()
        return mind.store.staging()


@kb_app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts by condition, intervention type, severity and source; store location and size."""
    from retrieval.chroma_store import StoreError, split_list

    mind = _app()
    store = mind.store
    try:
        metas = store.get_metadatas()
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    counts: dict[str, Counter[str]] = {
        "condition": Counter(),
        "intervention_type": Counter(),
        "severity": Counter(),
        "risk": Counter(),
        "source": Counter(),
    }
    for meta in metas.values():
        counts["condition"].update(split_list(meta, "conditions"))
        counts["severity"].update(split_list(meta, "severity"))
        counts["risk"].update(split_list(meta, "risk"))
        counts["intervention_type"][str(meta.get("intervention_type", "?"))] += 1
        counts["source"][str(meta.get("source", "?"))] += 1
    size = store.size_on_disk()
    out: dict[str, Any] = {
        "store": store.location,
        "collection": store.collection_name,
        "passages": len(metas),
        "size_bytes": size,
        **{k: dict(sorted(v.items())) for k, v in counts.items()},
    }
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"store: {out['store']} (collection {out['collection']})")
    if size is not None:
        typer.echo(f"size on disk: {size / 1e6:.1f} MB")
    typer.echo(f"passages: {len(metas)}")
    for key in counts:
        items = ", ".join(f"{k} {v}" for k, v in sorted(counts[key].items()))
        typer.echo(f"by {key.replace('_', ' ')}: {items or '-'}")


@kb_app.command("query")
def query(
    text: Annotated[str, typer.Argument(help="The post or question to find passages for.")],
    condition: Annotated[
        list[str] | None, typer.Option("--condition", "-c", help="Detected condition (repeatable).")
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", "-s", help="Severity level.")
    ] = None,
    risk: Annotated[str | None, typer.Option("--risk", "-r", help="Suicide-risk level.")] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="Passages to return.")] = 5,
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid, dense or lexical (for comparison).")
    ] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the passages the assistant would retrieve for a text and its labels."""
    from classifiers.labels import RISK_LEVELS, SEVERITY_LEVELS
    from knowledge_base.schema import PASSAGE_CONDITIONS
    from retrieval.base import RetrievalQuery
    from retrieval.chroma_store import StoreError
    from retrieval.hybrid import HybridRetriever

    conditions = tuple(_label(c) for c in condition or ())
    severity = _label(severity) if severity is not None else None
    risk = _label(risk) if risk is not None else None
    bad = [c for c in conditions if c not in PASSAGE_CONDITIONS]
    if bad:
        raise _fail(f"unknown condition(s) {bad}; use: {', '.join(PASSAGE_CONDITIONS)}", 2)
    if severity is not None and severity not in SEVERITY_LEVELS:
        raise _fail(f"unknown severity {severity!r}; use: {', '.join(SEVERITY_LEVELS)}", 2)
    if risk is not None and risk not in RISK_LEVELS:
        raise _fail(f"unknown risk {risk!r}; use: {', '.join(RISK_LEVELS)}", 2)
    if mode not in ("hybrid", "dense", "lexical"):
        raise _fail("mode must be hybrid, dense or lexical", 2)
    if not text.strip() and not conditions:
        raise _fail("empty query: give a text or at least one --condition", 2)
    if text.strip():
        # The assistant's own checks on a post: undecodable bytes or binary data are refused
        # (the tokenizer would crash on them, or they would "find" passages for garbage).
        from classifiers.base import InvalidTextError
        from classifiers.text_checks import validate_text

        if any("\ud800" <= ch <= "\udfff" for ch in text):  # how Python passes on bad argv bytes
            raise _fail("query text is not valid UTF-8; pass the text in UTF-8", 2)
        try:
            text = validate_text(text, max_chars=MAX_QUERY_CHARS)
        except InvalidTextError as exc:
            raise _fail(f"query {exc}", 2) from exc

    mind = _app()
    if mode == "hybrid":
        retriever: Any = mind.retriever
    else:
        rs = mind.settings.retrieval
        retriever = HybridRetriever(
            mind.store,
            fetch_k=rs.fetch_k,
            lexical_weight=rs.lexical_weight,
            mmr_lambda=rs.mmr_lambda,
            mode=mode,  # type: ignore[arg-type]
        )
    q = RetrievalQuery(text=text, conditions=conditions, severity=severity, risk=risk, k=k)
    try:
        found = retriever.retrieve(q)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in found], indent=2))
        return
    if not found:
        typer.echo("no passages found")
    for i, p in enumerate(found, start=1):
        meta = p.metadata
        stages = ", ".join(f"{name} {value:.3f}" for name, value in p.scores.items())
        typer.secho(f"[{i}] {p.title}  ({p.id})", bold=True)
        typer.echo(
            f"    {meta.get('intervention_type', '?')} | conditions {meta.get('conditions', '')}"
            f" | severity {meta.get('severity', '')} | source {meta.get('source', '')}"
        )
        typer.echo(f"    score {p.score:.4f} ({stages})")
        typer.echo(f"    {p.citation}")
        snippet = " ".join(p.text.split())
        typer.echo(f"    {snippet[:240]}{'...' if len(snippet) > 240 else ''}")


@kb_app.command("eval")
def evaluate(
    queries: Annotated[
        str | None,
        typer.Option(
            "--queries", help="Glob of query files. Default: knowledge_base/eval/queries_*.jsonl"
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Report folder. Default: <data_dir>/reports/retrieval"),
    ] = None,
    judgments: Annotated[
        str | None,
        typer.Option(
            "--judgments",
            help="Glob of pooled graded judgment files, scored beside the original labels. "
            "Default, with the default queries: knowledge_base/eval/judgments_*.jsonl",
        ),
    ] = None,
) -> None:
    """Recall@5, MRR@5 and nDCG@5 for dense, lexical and hybrid retrieval; JSON + Markdown."""
    from assistant.settings import PROJECT_ROOT
    from retrieval.chroma_store import StoreError
    from retrieval.evaluation import evaluate_store, load_judgments, load_queries

    pattern = queries or str(PROJECT_ROOT / "knowledge_base" / "eval" / "queries_*.jsonl")
    loaded = load_queries(pattern)
    if not loaded.queries:
        raise _fail(f"no usable queries in {pattern} ({len(loaded.errors)} malformed rows)")
    # The shipped judgments belong to the shipped queries: only default to them together.
    jpattern = judgments or (
        None if queries else str(PROJECT_ROOT / "knowledge_base" / "eval" / "judgments_*.jsonl")
    )
    graded = load_judgments(jpattern) if jpattern else None
    if judgments and graded is not None and not graded.grades:
        raise _fail(f"no usable judgments in {jpattern} ({len(graded.errors)} malformed rows)")
    mind = _app()
    rs = mind.settings.retrieval
    try:
        report = evaluate_store(
            mind.store,
            loaded,
            judgments=graded if graded is not None and graded.files else None,
            fetch_k=rs.fetch_k,
            lexical_weight=rs.lexical_weight,
            mmr_lambda=rs.mmr_lambda,
        )
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    out_dir = output or mind.settings.data_dir / "reports" / "retrieval"
    json_path, md_path = report.write(out_dir)
    typer.echo(report.to_markdown().split("\n## ")[0].strip())
    typer.echo(f"\nwrote {json_path} and {md_path}")
    for err in loaded.errors:
        typer.secho(f"  skipped {err.file}:{err.line}: {err.message}", err=True, fg="yellow")


@kb_app.command("pool")
def pool(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the packets and keymap.json")],
    depth: Annotated[int, typer.Option("--depth", min=1, help="Passages per mode")] = 10,
    parts: Annotated[int, typer.Option("--parts", min=1, help="Packets (one per judge)")] = 4,
    queries: Annotated[
        str | None,
        typer.Option("--queries", help="Glob of query files. Default: the shipped ones"),
    ] = None,
) -> None:
    """Write blind judging packets: each query's pool of dense, lexical and hybrid results plus
    its labelled passages, under opaque labels (see knowledge_base/eval/JUDGING.md)."""
    from assistant.settings import PROJECT_ROOT
    from retrieval.chroma_store import StoreError
    from retrieval.evaluation import MODES, load_queries
    from retrieval.hybrid import HybridRetriever
    from retrieval.pooling import build_pools, write_packets

    pattern = queries or str(PROJECT_ROOT / "knowledge_base" / "eval" / "queries_*.jsonl")
    loaded = load_queries(pattern)
    if not loaded.queries:
        raise _fail(f"no usable queries in {pattern} ({len(loaded.errors)} malformed rows)")
    mind = _app()
    rs = mind.settings.retrieval
    retrievers = {
        mode: HybridRetriever(
            mind.store,
            mode=mode,  # type: ignore[arg-type]
            fetch_k=rs.fetch_k,
            lexical_weight=rs.lexical_weight,
            mmr_lambda=rs.mmr_lambda,
        )
        for mode in MODES
    }
    try:
        pools = build_pools(
            {m: r.retrieve for m, r in retrievers.items()},
            loaded.queries,
            depth=depth,
            lookup=retrievers["hybrid"].passages_by_id,
        )
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    paths = write_packets(pools, loaded.queries, out_dir, parts=parts)
    pairs = sum(len(c) for c in pools.candidates.values())
    typer.echo(
        f"{len(pools.candidates)} queries, {pairs} pooled pairs in {len(paths)} packets under "
        f"{out_dir}; judges write out_<n>.jsonl there, then `mindsignal kb pool-merge {out_dir}`"
    )


@kb_app.command("pool-merge")
def pool_merge(
    out_dir: Annotated[Path, typer.Argument(help="Folder written by `kb pool`")],
    judge: Annotated[str, typer.Option("--judge", help="Who judged, recorded on every row")],
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Default: knowledge_base/eval/judgments_pooled.jsonl"),
    ] = None,
) -> None:
    """Map the judges' grades (out_*.jsonl) back to passage ids; refuses partly graded pools."""
    from assistant.settings import PROJECT_ROOT
    from retrieval.pooling import KEYMAP_FILE, merge_packets

    if not (out_dir / KEYMAP_FILE).is_file():
        raise _fail(f"{out_dir / KEYMAP_FILE} not found: run `mindsignal kb pool {out_dir}` first")
    merged = merge_packets(out_dir)
    if merged.errors:
        for err in merged.errors[:30]:
            typer.secho(err, err=True, fg=typer.colors.RED)
        raise _fail(f"{len(merged.errors)} problem(s); nothing written")
    target = output or PROJECT_ROOT / "knowledge_base" / "eval" / "judgments_pooled.jsonl"
    target.write_text(merged.to_jsonl(judge), encoding="utf-8")
    typer.echo(f"wrote {len(merged.grades)} judged queries to {target}")

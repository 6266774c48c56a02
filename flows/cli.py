"""The ``storywatch`` command line.

Exit codes: 0 done; 1 unexpected error; 2 wrong usage; 3 invalid settings or story
files; 4 warehouse unavailable (missing, or locked by another process); 5 SQL error.
A cycle in which sources fail still exits 0: each failure is named in its summary and
kept in the ``run_problems`` table.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table as RichTable

from extractors.story import StoryError
from flows.settings import Settings, SettingsError, load_settings
from flows.stories import prepare_story
from warehouse import queries
from warehouse.connection import WarehouseError
from warehouse.queries import Table

EXIT_ERROR, EXIT_CONFIG, EXIT_WAREHOUSE, EXIT_SQL = 1, 3, 4, 5
# Table output shortens longer values so that a row stays readable in a terminal.
CELL_WIDTH = 60

app = typer.Typer(
    help="Follow a developing news story: who holds which position, and when it changes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


StoryOpt = Annotated[
    str | None, typer.Option("--story", "-s", help="Story name under the seeds folder, or a story folder.")
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", "-w", help="DuckDB file (default: data/storywatch.duckdb, or STORYWATCH_WAREHOUSE)."
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def _settings(warehouse: Path | None) -> Settings:
    settings = load_settings()
    if warehouse is not None:
        from dataclasses import replace

        settings = replace(settings, warehouse=warehouse)
    return settings


@app.command()
def init(story: StoryOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Create the warehouse, load the story's files and seed its original article (safe to repeat)."""
    settings = _settings(warehouse)
    loaded, seeded = prepare_story(settings, story)
    state = "seeded with its original article" if seeded else "already seeded; story files reloaded"
    console.print(f"Warehouse {settings.warehouse}: story [bold]{loaded.id}[/] {state}.")
    console.print(f"{len(loaded.actors)} actors, {len(loaded.issues)} issues, {len(loaded.feeds)} feeds.")


@app.command()
def run(
    story: StoryOpt = None,
    warehouse: WarehouseOpt = None,
    all_feeds: Annotated[
        bool, typer.Option("--all", help="Poll every feed now, not only those that are due.")
    ] = False,
) -> None:
    """Run one ingest cycle now: poll feeds, store new coverage, detect stance changes, send alerts."""
    from flows.ingest import ingest
    from flows.report import print_summary

    settings = _settings(warehouse)
    summary = ingest(story=story, warehouse=str(settings.warehouse), poll_all=all_feeds)
    print_summary(console, summary)


@app.command()
def serve(
    story: Annotated[
        list[str] | None,
        typer.Option(
            "--story", "-s", help="A story to serve (repeat for several; default: the configured one)."
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
    port: Annotated[
        int, typer.Option("--port", help="Port of the local Prefect server, when PREFECT_API_URL is not set.")
    ] = 4200,
) -> None:
    """Run each story's ingest cycle on its schedule (story.yaml), until stopped.

    With PREFECT_API_URL set, the deployments are registered with that Prefect server;
    otherwise a local one is started on 127.0.0.1 for as long as serve runs.
    """
    from flows.serve import serve as serve_stories
    from flows.server import ServerError

    settings = _settings(warehouse)
    try:
        serve_stories(settings, story or [settings.story], port, announce=console.print)
    except ServerError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from None


@app.command()
def retag(story: StoryOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Recompute mentions, stances and changes from stored text (after editing actors or issues).

    Fetches nothing and sends no alert: changes announced before keep their identity, and
    changes found only now are listed here as history.
    """
    from flows.retag import retag_story

    settings = _settings(warehouse)
    result = retag_story(settings, story)
    console.print(
        f"Retagged {result.articles} articles: {result.mentions} mentions, "
        f"{result.observations} stance observations, {result.changes} stance changes "
        f"({len(result.new_changes)} not found before, {result.withdrawn} no longer found)."
    )
    for c in result.new_changes:
        console.print(
            f"  {c.actor_name} on {c.issue_id}: {c.from_stance} -> {c.to_stance}  {c.url}", markup=False
        )


@app.command()
def learn(
    story: StoryOpt = None,
    examples: Annotated[
        list[Path] | None,
        typer.Option("--examples", "-e", help="More labelled examples (YAML) besides examples/."),
    ] = None,
) -> None:
    """Train the story's stance model from its labelled examples (needs the 'learn' extra).

    The model reads what the rules find no cue in; `storywatch retag` applies it to stored coverage.
    """
    from extractors.training import TrainingError
    from flows.learn import learn_story

    try:
        result = learn_story(_settings(None), story, tuple(examples or ()))
    except TrainingError as exc:
        errors.print(f"[red]Cannot learn:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from None
    console.print(f"Trained on {result.examples} examples from {result.files} files; wrote {result.path}.")
    console.print(
        f"A guess counts from probability {result.min_probability} "
        "(chosen on folds of the examples left out of training)."
    )
    for issue, counts in result.per_issue.items():
        console.print(f"  {issue}: " + ", ".join(f"{label} {n}" for label, n in sorted(counts.items())))
    if result.holders:
        console.print(
            f"Who holds a stance: learned from {sum(result.holders.values())} (actor, issue) pairs "
            f"named in examples that state the issue ({result.holders['holds']} of them hold it)."
        )
    else:
        console.print(
            "Who holds a stance: left to the rules (the examples never tell holders apart from "
            "other actors named)."
        )


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SQL statement; the warehouse is opened read-only.")],
    warehouse: WarehouseOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    """Query the warehouse with SQL (read-only). Tables and views: docs/warehouse.md."""
    settings = _settings(warehouse)
    with settings.open_warehouse(read_only=True) as con:
        try:
            result = queries.run_sql(con, query)
        except duckdb.Error as exc:
            errors.print(f"[red]SQL error:[/] {exc}")
            raise typer.Exit(EXIT_SQL) from None
    _emit(result, format)


@app.command()
def stances(story: StoryOpt = None, warehouse: WarehouseOpt = None, format: FormatOpt = Format.table) -> None:
    """Each actor's current stance on each issue, with the evidence sentence and link."""
    _show(queries.current_stances, story, warehouse, format)


LimitOpt = Annotated[int, typer.Option(help="Show at most this many.")]


@app.command()
def changes(
    story: StoryOpt = None,
    warehouse: WarehouseOpt = None,
    format: FormatOpt = Format.table,
    limit: LimitOpt = 50,
) -> None:
    """Recent stance changes, newest first, with the evidence sentence and link."""
    _show(queries.recent_changes, story, warehouse, format, limit)


@app.command()
def actors(
    story: StoryOpt = None,
    warehouse: WarehouseOpt = None,
    format: FormatOpt = Format.table,
    promote: Annotated[
        str | None, typer.Option("--promote", help="Add this candidate's name to the story's actors.yaml.")
    ] = None,
    actor_id: Annotated[str | None, typer.Option("--id", help="Id for the promoted actor.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="person, state or organisation.")] = "person",
    affiliation: Annotated[
        str | None, typer.Option("--affiliation", help="The actor id it speaks for (e.g. uk).")
    ] = None,
) -> None:
    """Names the coverage quotes that the story does not know yet; --promote adds one to the story."""
    if promote is None:
        _show(queries.actor_candidates, story, warehouse, format)
        return
    from flows.registry import promote_actor

    settings = _settings(warehouse)
    path, added = promote_actor(settings, story, promote, actor_id, kind, affiliation)
    console.print(
        f"Added {added.name} ({added.id}, {added.kind}) to {path}. "
        "Run `storywatch retag` to find its positions in the stored coverage.",
        markup=False,
    )


@app.command()
def feeds(story: StoryOpt = None, warehouse: WarehouseOpt = None, format: FormatOpt = Format.table) -> None:
    """Feed health: last success, failures in a row, last error, and when each is polled next."""
    _show(queries.feed_health, story, warehouse, format)


@app.command()
def alerts(
    story: StoryOpt = None,
    warehouse: WarehouseOpt = None,
    format: FormatOpt = Format.table,
    limit: LimitOpt = 50,
    retry: Annotated[
        bool,
        typer.Option(
            "--retry", help="Send every undelivered alert now (pending or given up on), then show the outbox."
        ),
    ] = False,
) -> None:
    """The alert outbox: what was sent, what is pending, and why a delivery failed."""
    if retry:
        import logging

        from flows.ingest import deliver_pending

        settings = _settings(warehouse)
        story_id = _story_id(settings, story)
        deliveries = deliver_pending(settings, story_id, logging.getLogger("storywatch.alerts"), by_hand=True)
        sent = sum(d.status in ("sent", "logged") for d in deliveries)
        errors.print(f"Retried {len(deliveries)} alert(s): {sent} delivered, {len(deliveries) - sent} not.")
    _show(queries.list_alerts, story, warehouse, format, limit)


def _show(
    query: Callable[..., Table], story: str | None, warehouse: Path | None, format: Format, *args
) -> None:
    """Run one of the story's canned queries, read-only, and print its result."""
    settings = _settings(warehouse)
    story_id = _story_id(settings, story)
    with settings.open_warehouse(read_only=True) as con:
        _emit(query(con, story_id, *args), format)


def _story_id(settings: Settings, story: str | None) -> str:
    from extractors.story import load_story

    return load_story(settings.story_dir(story)).id


def _emit(result: Table, format: Format) -> None:
    if format is Format.json:
        records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        sys.stdout.write(json.dumps(records, default=str, ensure_ascii=False, indent=2) + "\n")
    elif format is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = RichTable(show_lines=False)
        cells = [[_cell(v) for v in row] for row in result.rows]
        for n, name in enumerate(result.columns):
            # Short values stay on one line; long text (evidence, titles) wraps.
            widest = max((len(row[n]) for row in cells), default=0)
            table.add_column(name, no_wrap=widest <= 30, overflow="fold")
        for row in cells:
            table.add_row(*row)
        console.print(table)
        note = (
            " (long values shortened: --format csv or json shows them whole)"
            if any(len(str(v)) > CELL_WIDTH for row in result.rows for v in row)
            else ""
        )
        console.print(f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}{note}")


def _cell(value: object) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def main() -> None:
    """Entry point: run the CLI and turn known failures into clear messages and exit codes."""
    try:
        app()
    except (StoryError, SettingsError) as exc:
        errors.print(f"[red]Configuration error:[/] {exc}")
        sys.exit(EXIT_CONFIG)
    except WarehouseError as exc:
        errors.print(f"[red]Warehouse error:[/] {exc}")
        sys.exit(EXIT_WAREHOUSE)


if __name__ == "__main__":
    main()

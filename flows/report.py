"""Console output of a cycle: the summary a user reads at the end of `storywatch run`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flows.ingest import CycleSummary


def print_summary(console: Console, summary: CycleSummary) -> None:
    """Print counts, each failed source with its reason, and the stance changes found."""
    table = Table(title=f"Cycle {summary.run_id} of story {summary.story_id}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("sources polled", summary.feeds_polled),
        ("sources failed", summary.feeds_failed),
        ("sources not modified (304)", summary.feeds_not_modified),
        ("sources not due yet", summary.feeds_not_due),
        ("feed items seen", summary.items_seen),
        ("new items", summary.items_new),
        ("new articles stored", summary.articles_added),
        ("articles given their page's text", summary.articles_upgraded),
        ("actors tagged", summary.actors_tagged),
        ("stance observations", summary.observations_added),
        ("stance changes", summary.changes_detected),
        ("alerts sent", summary.alerts_sent),
        ("alerts not delivered", summary.alerts_failed),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    if summary.feeds_polled and summary.feeds_failed == summary.feeds_polled:
        console.print("[red]Every source failed.[/] Is this machine offline? Details below.")
    if summary.problems:
        console.print(f"[yellow]{len(summary.problems)} problem(s):[/]")
        for stage, source, url, message in summary.problems:
            console.print(
                f"  [bold]{source}[/] ({stage}) {message}" + (f"\n    {url}" if url else ""), soft_wrap=True
            )
    for change in summary.changes:
        console.print(
            f"[green]Change:[/] {change.actor_name or change.actor_id} on {change.issue_id}: "
            f'{change.from_stance} -> {change.to_stance}\n  "{change.evidence}"\n  {change.url}',
            soft_wrap=True,
        )

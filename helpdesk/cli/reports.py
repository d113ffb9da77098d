"""``helpdesk stats`` and ``helpdesk report``: use of the helpdesk, counted the way the
chat's /stats and the weekly digest count it, and the gaps in the knowledge base."""

import csv
import dataclasses
import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from helpdesk.bootstrap import App
from helpdesk.cli._common import Failure, run_app
from helpdesk.domain.schedule import describe_duration
from helpdesk.services.reports import Gap, Period, Week, count_rows, find_gaps, period, weekly

__all__ = ["report", "stats"]

_WEEKS = click.IntRange(1, 520)


async def _period(app: App, weeks: int) -> Period:
    async with app.uow() as uow:
        return await period(uow, app.clock() - timedelta(weeks=weeks))


@click.command()
@click.option("--weeks", type=_WEEKS, default=13, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="One row per week, for a spreadsheet.")
def stats(weeks: int, as_json: bool, as_csv: bool) -> None:
    """Use of the helpdesk: questions per week, auto-answer, suggestion and escalation
    rates, time to the first expert answer, ratings, by language and country."""

    async def body(app: App) -> tuple[Period, dict[str, dict[str, int]]]:
        used = await _period(app, weeks)
        async with app.uow() as uow:
            return used, await count_rows(uow)

    used, counts = run_app(body)
    rows = weekly(used.questions)
    if as_csv:
        _write_csv(rows)
        return
    summary = used.summary()
    median = summary.median_first_answer
    if as_json:
        data = {
            **counts,
            "weeks": weeks,
            "questions": summary.questions,
            "answered_rate": summary.rate(summary.answered),
            "suggested_rate": summary.rate(summary.suggested),
            "escalated_rate": summary.rate(summary.escalated),
            "median_first_answer_seconds": median.total_seconds() if median else None,
            "helpful": summary.helpful,
            "not_helpful": summary.not_helpful,
            "mean_score": summary.mean_score,
            "by_language": summary.by_language,
            "by_country": summary.by_country,
        }
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for section, section_counts in counts.items():
        total = sum(section_counts.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(section_counts.items())) or "none"
        click.echo(f"{section:10} {total:6}   {detail}")
    share = summary.percent
    click.echo(
        f"last {weeks} weeks: {summary.questions} questions; answered "
        f"{share(summary.answered)}%, suggestions {share(summary.suggested)}%, "
        f"to experts {share(summary.escalated)}%"
    )
    wait = describe_duration(median) if median else "-"
    score = f"{summary.mean_score:.1f}" if summary.mean_score is not None else "-"
    click.echo(
        f"median time to the first expert answer: {wait}; ratings: {summary.helpful} "
        f"helpful, {summary.not_helpful} not helpful; mean score: {score}"
    )
    click.echo(
        "by language: " + (", ".join(f"{k} {v}" for k, v in summary.by_language.items()) or "-")
    )
    click.echo(
        "by country:  " + (", ".join(f"{k} {v}" for k, v in summary.by_country.items()) or "-")
    )
    for w in rows[-weeks:]:
        click.echo(
            f"  week of {w.start}: {w.questions:4} questions, {w.answered:4} answered, "
            f"{w.suggested:4} suggestions, {w.escalated:4} to experts"
        )


def _write_csv(rows: list[Week]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(
        [
            "week",
            "questions",
            "answered",
            "suggested",
            "escalated",
            "helpful",
            "not_helpful",
            "answered_rate",
            "escalated_rate",
        ]
    )
    for w in rows:
        out.writerow(
            [
                w.start.isoformat(),
                w.questions,
                w.answered,
                w.suggested,
                w.escalated,
                w.helpful,
                w.not_helpful,
                f"{w.rate(w.answered):.3f}",
                f"{w.rate(w.escalated):.3f}",
            ]
        )


@click.group(invoke_without_command=True)
@click.option(
    "--png",
    "png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw the weekly trends as a chart into this PNG file.",
)
@click.option("--weeks", type=_WEEKS, default=26, show_default=True)
@click.pass_context
def report(context: click.Context, png: Path | None, weeks: int) -> None:
    """Reports for the hub: the weekly chart (--png FILE) and the gaps in the base."""
    if context.invoked_subcommand is not None:
        return
    if png is None:
        click.echo(context.get_help())
        return
    used = run_app(lambda app: _period(app, weeks))
    rows = weekly(used.questions)
    if not rows:
        raise Failure("no questions in that period: nothing to draw")
    from helpdesk.charts import weekly_chart  # matplotlib loads slowly: only here

    weekly_chart(rows, png, f"Helpdesk questions per week, last {weeks} weeks")
    click.echo(f"Wrote {png} ({len(rows)} weeks, {len(used.questions)} questions).")


@report.command("gaps")
@click.option("--weeks", type=_WEEKS, default=26, show_default=True)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def report_gaps(weeks: int, limit: int, as_json: bool) -> None:
    """Escalated and "not helpful" questions grouped by similarity, biggest first:
    what to write next."""

    async def body(app: App) -> list[Gap]:
        used = await _period(app, weeks)
        embedder = app.knowledge.embedder
        embed = embedder.embed_questions if embedder is not None else None
        return find_gaps(used.questions, embed, limit)

    gaps = run_app(body)
    for number, gap in enumerate(gaps, start=1):
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(gap), ensure_ascii=False))
            continue
        languages = ", ".join(f"{k} {v}" for k, v in gap.languages.items())
        click.echo(
            f"{number:2}. {gap.count} questions ({languages}); "
            f"{gap.escalated} to experts, {gap.not_helpful} not helpful"
        )
        for example in gap.examples:
            click.echo(f"      – {example}")
    if not as_json:
        click.echo(f"{len(gaps)} gaps", err=True)

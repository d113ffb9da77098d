"""``helpdesk ask`` and ``helpdesk eval``: the matcher's decision on questions, one at a
time or measured over labelled ones."""

import json
import sys
from pathlib import Path

import click

from helpdesk.bootstrap import App
from helpdesk.cli._common import Failure, run_app
from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.questions import Match
from helpdesk.services.evaluation import EvaluationReport, evaluate, read_labelled

__all__ = ["ask", "evaluate_command"]


def _match_json(question: str, match: Match, language: str | None) -> str:
    best = match.best
    return json.dumps(
        {
            "question": question,
            "action": match.action.value,
            "entry_id": best.entry_id if best else None,
            "score": match.score,
            "candidates": [
                {"id": c.entry_id, "title": c.title, "score": c.score} for c in match.candidates
            ],
            "normalized": match.normalized,
            "lang": language,
        },
        ensure_ascii=False,
    )


def _read_batch(source: str) -> list[str]:
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise Failure(f"{source}: {error.strerror}") from None
    # One question a line, whatever the file's encoding quirks: never lose the line count.
    return data.decode("utf-8-sig", errors="replace").splitlines()


@click.command()
@click.argument("question", required=False)
@click.option("--lang", help="Language of the question (guessed when omitted).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.option("--batch", metavar="FILE|-", help="One question a line; one JSON object a line.")
def ask(question: str | None, lang: str | None, as_json: bool, batch: str | None) -> None:
    """Match QUESTION against the knowledge base and show the decision."""
    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    if lang is not None and normalize_language_code(lang) is None:
        raise click.BadParameter(f"{lang!r} is not a language code", param_hint="--lang")
    lines = _read_batch(batch) if batch is not None else [question or ""]

    async def body(app: App) -> None:
        matcher = await app.knowledge.refresh()
        if matcher.size == 0:
            click.echo("warning: the knowledge base is empty; run `helpdesk kb import`", err=True)
        for line in lines:
            match = matcher.match(line)
            language = normalize_language_code(lang) if lang else app.languages.identify(line)
            if as_json or batch is not None:
                click.echo(_match_json(line, match, language))
                continue
            click.echo(f"{match.action.value} (score {match.score:.1f})")
            for candidate in match.candidates:
                click.echo(f"  {candidate.score:5.1f}  {candidate.entry_id}  {candidate.title}")

    run_app(body)


@click.command("eval")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The whole report, mistakes included.")
@click.option("--mistakes", is_flag=True, help="Also list the questions that went wrong.")
def evaluate_command(file: Path, as_json: bool, mistakes: bool) -> None:
    """Measure answer quality on labelled questions (JSON lines, see tests/data/README.md)."""
    try:
        questions = read_labelled(file.read_text(encoding="utf-8-sig").splitlines())
    except OSError as error:
        raise Failure(f"{file}: {error.strerror}") from None
    except ValueError as error:
        raise Failure(f"{file}: {error}") from None

    async def body(app: App) -> EvaluationReport:
        matcher = await app.knowledge.refresh()
        if matcher.size == 0:
            raise Failure("the knowledge base is empty; run `helpdesk kb import` first")
        entries = {e.id: e for e in app.knowledge.entries}
        return evaluate(matcher, questions, app.languages, entries)

    report = run_app(body)
    if as_json:
        click.echo(report.to_json())
        return
    click.echo(_scores_table(report))
    if mistakes:
        for mistake in report.mistakes:
            click.echo(json.dumps(mistake, ensure_ascii=False))


def _scores_table(report: EvaluationReport) -> str:
    columns = [
        ("questions", "n"),
        ("hit_at_1", "hit@1"),
        ("hit_at_3", "hit@3"),
        ("auto_answer", "auto"),
        ("wrong_answer", "wrong"),
        ("out_of_scope_escalated", "oos esc"),
        ("reply_language", "reply lang"),
        ("reply_language_invited", "reply lang (invited)"),
        ("answer_in_language", "answer in lang"),
        ("latency_p50_ms", "p50 ms"),
        ("latency_p95_ms", "p95 ms"),
    ]
    rows = [("all", report.overall), *report.by_language.items()]
    lines = [
        "| lang | " + " | ".join(title for _, title in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, scores in rows:
        values = []
        for key, _ in columns:
            value = getattr(scores, key)
            values.append(
                str(value)
                if isinstance(value, int)
                else f"{value:.3f}"
                if not key.startswith("latency")
                else f"{value:.2f}"
            )
        lines.append(f"| {name} | " + " | ".join(values) + " |")
    return "\n".join(lines)

"""Reply language and answers in the reader's language, per language, measured.

    .venv/bin/python -m benchmarks.languages       # writes benchmarks/LANGUAGES.md

For every labelled question (tests/data/questions.jsonl against knowledge/, and the
unseen set in benchmarks/data/unseen/ when it is there): is the reply in the language the
question is written in, for a writer the bot knows nothing about and for one invited in
that language; is the matched entry's answer available in that language. The matcher is
the shipped hybrid, with vectors cached in benchmarks/.cache.
"""

from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import (
    ROOT,
    CachedEmbedder,
    embedder,
    knowledge_vectors,
    project_entries,
    project_questions,
)
from helpdesk.domain.knowledge import Entry
from helpdesk.knowledge_files import read_knowledge
from helpdesk.matching.decision import HYBRID_POLICY
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.matching.language import LanguageIdentifier
from helpdesk.services.evaluation import EvaluationReport, LabelledQuestion, evaluate, read_labelled

OUTPUT = ROOT / "benchmarks" / "LANGUAGES.md"
UNSEEN = ROOT / "benchmarks" / "data" / "unseen"


def _unseen() -> tuple[list[Entry], list[LabelledQuestion]] | None:
    questions = UNSEEN / "questions.jsonl"
    if not questions.exists():
        return None
    files = read_knowledge([UNSEEN / "kb"])
    assert files.ok, [str(p) for p in files.errors]
    return files.entries, read_labelled(questions.read_text(encoding="utf-8").splitlines())


def _table(title: str, report: EvaluationReport) -> list[str]:
    rows = [
        f"### {title}",
        "",
        "| language | questions | reply in it (unknown writer) | reply in it (invited in it) "
        "| answer in it | hit@1 |",
        "|---|---|---|---|---|---|",
    ]
    for code, s in [*sorted(report.by_language.items()), ("all", report.overall)]:
        rows.append(
            f"| {code} | {s.questions} | {s.reply_language:.3f} | "
            f"{s.reply_language_invited:.3f} | {s.answer_in_language:.3f} | {s.hit_at_1:.3f} |"
        )
    return [*rows, ""]


def main() -> None:
    model = CachedEmbedder(embedder())
    languages = LanguageIdentifier()
    languages.load()
    sets: list[tuple[str, list[Entry], list[LabelledQuestion]]] = [
        ("The project's labelled questions", project_entries(), project_questions())
    ]
    unseen = _unseen()
    if unseen is not None:
        sets.append(("The unseen set (benchmarks/data/unseen)", *unseen))
    now = datetime.now(UTC)
    lines = [
        "# Reply language, measured",
        "",
        f'Run {now:%Y-%m-%d %H:%M} UTC, `python -m benchmarks.languages`. "Answer in it": '
        "the right entry has its answer in the question's language.",
        "",
    ]
    for title, entries, questions in sets:
        matcher = HybridMatcher(entries, model, knowledge_vectors(model, entries), HYBRID_POLICY)
        report = evaluate(matcher, questions, languages, {e.id: e for e in entries})
        lines += _table(title, report)
    text = "\n".join(lines)
    print(text)
    Path(OUTPUT).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

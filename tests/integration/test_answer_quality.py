"""Answer quality on the labelled questions (tests/data/questions.jsonl) against the
project's knowledge base, through `helpdesk eval` as a user runs it. The floors sit just
under what was reached (docs/matching.md, benchmarks/RESULTS.md), so a regression fails CI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers.postgres import scratch_database

ROOT = Path(__file__).resolve().parents[2]

FLOORS = {
    # matcher: (hit@1, auto-answer, most wrong answers, out-of-scope escalated)
    "hybrid": (0.84, 0.64, 0.01, 0.93),
    "lexical": (0.61, 0.29, 0.01, 0.88),
}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("quality")
    url = scratch_database(base)
    # knowledge/vectors.npz holds the model's vectors of knowledge/: the import puts them
    # in the cache instead of embedding the nine-language base (minutes of CPU).
    run(url, "true", "kb", "import", str(ROOT / "knowledge"))
    return url


def run(url: str, semantic: str, *args: str) -> str:
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_SEMANTIC_MATCHING": semantic,
        # The test workers share two cores: a second model thread only fights them.
        "HELPDESK_EMBEDDING_THREADS": "1",
    }
    env.pop("HELPDESK_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("matcher", ["hybrid", "lexical"])
def test_quality_on_the_labelled_questions(database: str, matcher: str) -> None:
    semantic = "true" if matcher == "hybrid" else "false"
    report = json.loads(
        run(database, semantic, "eval", "--json", str(ROOT / "tests" / "data" / "questions.jsonl"))
    )
    overall = report["overall"]
    hit, auto, wrong, out = FLOORS[matcher]
    assert overall["questions"] >= 250 and overall["out_of_scope"] >= 50
    assert overall["hit_at_1"] >= hit, overall
    assert overall["auto_answer"] >= auto, overall
    assert overall["wrong_answer"] <= wrong, overall
    assert overall["out_of_scope_escalated"] >= out, overall
    assert {"en", "bs", "hr", "sr", "sr-Latn", "cnr", "mk", "sq", "fr"} <= set(
        report["by_language"]
    )


def test_the_labelled_set_is_sound() -> None:
    from helpdesk.knowledge_files import read_knowledge
    from helpdesk.services.evaluation import read_labelled

    ids = {e.id for e in read_knowledge([ROOT / "knowledge"]).entries}
    questions = read_labelled(
        (ROOT / "tests" / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    )
    assert len(questions) >= 250
    assert sum(q.expected is None for q in questions) >= 50
    assert {q.expected for q in questions if q.expected} <= ids
    assert len({q.question for q in questions}) == len(questions)

from pathlib import Path

import pytest

from helpdesk.domain.knowledge import EntryStatus
from helpdesk.knowledge_files import dump_entry, read_knowledge, write_entries

GOOD = """---
id: lsc-setup
title: Setting up a Local Safety Council
questions:
  - How do we set up a local safety council?
  - Kako osnovati lokalni savjet za bezbjednost?
topics: [multi-agency-coordination]
lang: en
city: Danilovgrad
country: Montenegro
source: "Report: Danilovgrad, July 2023"
status: published
---
Map threats first.

Then agree **terms of reference**.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file(tmp_path: Path) -> None:
    files = read_knowledge([write(tmp_path, "lsc-setup.md", GOOD)])
    assert files.ok and files.problems == []
    (entry,) = files.entries
    assert entry.id == "lsc-setup"
    assert entry.questions == (
        "How do we set up a local safety council?",
        "Kako osnovati lokalni savjet za bezbjednost?",
    )
    assert entry.topics == ("multi-agency-coordination",)
    assert entry.source == "Report: Danilovgrad, July 2023"
    assert entry.body == "Map threats first.\n\nThen agree **terms of reference**."
    assert entry.status is EntryStatus.PUBLISHED


def test_defaults_and_lenient_shapes(tmp_path: Path) -> None:
    text = "---\nid: x1\ntitle: T\nquestions: Just one question?\ntopics: a, b\n---\nBody\n"
    (entry,) = read_knowledge([write(tmp_path, "x1.md", text)]).entries
    assert entry.questions == ("Just one question?",)
    assert entry.topics == ("a", "b")
    assert entry.lang == "en" and entry.status is EntryStatus.PUBLISHED


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter at all", "no front matter"),
        ("---\ntitle: T\nquestions: [q]\n---\nB", "missing required field 'id'"),
        ("---\nid: a\nquestions: [q]\n---\nB", "missing required field 'title'"),
        ("---\nid: a\ntitle: T\n---\nB", "missing required field 'questions'"),
        ("---\nid: a\ntitle: T\nquestions: []\n---\nB", "missing required field 'questions'"),
        ("---\nid: a\ntitle: T\nquestions: [q]\nstatus: live\n---\nB", "unknown status 'live'"),
        ("---\nid: a\ntitle: [T\nquestions: [q]\n---\nB", "bad YAML"),
        ("---\nid: Not A Slug\ntitle: T\nquestions: [q]\n---\nB", "must be a slug"),
        ("---\nid: a\ntitle: T\nquestions: [q]\n---\n", "needs an answer"),
        ("---\nid: a\ntitle: T\nquestions: [q]\nlang: english please\n---\nB", "lang"),
        ("---\nid: a\ntitle: T\nquestions: [{x: 1}]\n---\nB", "questions item 1 must be text"),
        ("---\n---\nB", "front matter"),
    ],
)
def test_each_problem_is_reported_with_its_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "a.md", text)
    files = read_knowledge([path])
    assert not files.ok
    assert files.entries == []
    assert any(str(p).startswith(f"{path}: ") and problem in str(p) for p in files.errors), [
        str(p) for p in files.problems
    ]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "one.md", GOOD)
    write(tmp_path, "two.md", GOOD)
    files = read_knowledge([tmp_path])
    assert not files.ok
    assert any("duplicate id 'lsc-setup'" in str(p) for p in files.errors)


def test_not_utf8_and_missing_paths(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.md"
    bad.write_bytes("---\nid: a\ntitle: Čačak\n".encode("cp1250"))
    files = read_knowledge([bad, tmp_path / "missing.md"])
    messages = [str(p) for p in files.errors]
    assert any("not UTF-8" in m for m in messages)
    assert any("no such file" in m for m in messages)


def test_a_draft_may_have_no_body_and_unknown_fields_are_warnings(tmp_path: Path) -> None:
    text = "---\nid: d\ntitle: T\nquestions: [q]\nstatus: draft\nreviewer: Ana\n---\n"
    files = read_knowledge([write(tmp_path, "other-name.md", text)])
    assert files.ok
    assert {p.message for p in files.warnings} == {
        "unknown field 'reviewer' is ignored",
        "file name does not match id 'd' (expected d.md)",
    }


def test_folders_are_read_recursively_skipping_readmes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "lsc-setup.md", GOOD)
    write(tmp_path, "README.md", "# Our knowledge base\n")
    files = read_knowledge([tmp_path])
    assert files.ok and [e.id for e in files.entries] == ["lsc-setup"]


def test_export_reads_back_the_same(tmp_path: Path) -> None:
    original = read_knowledge([write(tmp_path, "lsc-setup.md", GOOD)]).entries
    out = tmp_path / "out"
    write_entries(original, out)
    assert read_knowledge([out]).entries == original
    assert dump_entry(original[0]).startswith("---\nid: lsc-setup\ntitle: ")


def test_the_shipped_knowledge_base_is_valid() -> None:
    folder = Path(__file__).resolve().parents[2] / "knowledge"
    files = read_knowledge([folder])
    assert files.problems == []
    assert len(files.entries) >= 5

from pathlib import Path

import pytest

from helpdesk.domain.knowledge import EntryStatus
from helpdesk.domain.limits import (
    MAX_BODY_LENGTH,
    MAX_KNOWLEDGE_FILE_BYTES,
    MAX_PHRASING_LENGTH,
    MAX_PHRASINGS,
    MAX_PLACE_LENGTH,
    MAX_TITLE_LENGTH,
)
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


def entry_text(entry_id: str, **fields: str) -> str:
    """A valid knowledge file for ``entry_id``; ``fields`` replace its front matter lines
    (a value is written as it is) and ``body`` its answer."""
    meta = {"id": entry_id, "title": "T", "questions": "[How?]", **fields}
    body = meta.pop("body", "The answer.")
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in meta.items()) + f"---\n{body}\n"


def test_links_inside_a_folder_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "stolen.md", entry_text("stolen"))
    (outside / "more").mkdir()
    write(outside / "more", "also-stolen.md", entry_text("also-stolen"))
    folder = tmp_path / "knowledge"
    folder.mkdir()
    write(folder, "alpha.md", entry_text("alpha"))
    (folder / "stolen.md").symlink_to(outside / "stolen.md")
    (folder / "more").symlink_to(outside / "more", target_is_directory=True)
    write(folder, "omega.md", entry_text("omega"))
    (folder / "notes.txt").symlink_to(outside / "stolen.md")  # not an entry's name: ignored

    files = read_knowledge([folder])

    assert [e.id for e in files.entries] == ["alpha", "omega"]
    assert sorted(str(p) for p in files.errors) == [
        f"{folder / name}: a symbolic link: links in a knowledge folder are not followed "
        "(put the file here)"
        for name in ("more", "stolen.md")
    ]
    assert not files.ok  # so an import of this folder changes nothing


def test_a_folder_or_file_the_user_names_may_itself_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    write(real, "alpha.md", entry_text("alpha"))
    (tmp_path / "knowledge").symlink_to(real, target_is_directory=True)
    (tmp_path / "alpha.md").symlink_to(real / "alpha.md")
    assert [e.id for e in read_knowledge([tmp_path / "knowledge"]).entries] == ["alpha"]
    assert [e.id for e in read_knowledge([tmp_path / "alpha.md"]).entries] == ["alpha"]


@pytest.mark.parametrize("kind", ["file", "folder", "dangling"])
def test_writing_replaces_a_link_and_leaves_what_it_points_to_alone(
    tmp_path: Path, kind: str
) -> None:
    (entry,) = read_knowledge([write(tmp_path, "lsc-setup.md", GOOD)]).entries
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "precious.txt"
    if kind == "file":
        target.write_text("precious\n")
    elif kind == "folder":
        target.mkdir()
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "lsc-setup.md").symlink_to(target)

    assert write_entries([entry], folder) == [folder / "lsc-setup.md"]

    written = folder / "lsc-setup.md"
    assert not written.is_symlink() and written.is_file()
    assert read_knowledge([folder]).entries == [entry]
    assert sorted(p.name for p in folder.iterdir()) == ["lsc-setup.md"]  # no temporary left
    if kind == "file":
        assert target.read_text() == "precious\n"
    elif kind == "folder":
        assert target.is_dir() and list(target.iterdir()) == []
    else:
        assert not target.exists()


def test_writing_into_a_folder_that_is_a_link_writes_where_it_points(tmp_path: Path) -> None:
    (entry,) = read_knowledge([write(tmp_path, "lsc-setup.md", GOOD)]).entries
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "knowledge").symlink_to(real, target_is_directory=True)
    write_entries([entry], tmp_path / "knowledge")
    assert (real / "lsc-setup.md").is_file() and not (real / "lsc-setup.md").is_symlink()


def test_rewriting_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    (entry,) = read_knowledge([write(tmp_path, "lsc-setup.md", GOOD)]).entries
    folder = tmp_path / "knowledge"
    folder.mkdir()
    existing = write(folder, "lsc-setup.md", "old\n")
    existing.chmod(0o640)
    write_entries([entry], folder)
    assert existing.stat().st_mode & 0o777 == 0o640
    assert existing.read_text(encoding="utf-8") == dump_entry(entry)


A_LOT = 10_001  # characters: over every limit on text but the file's size


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"title": "T" * (MAX_TITLE_LENGTH + 1)}, "title is 201 characters long; at most 200"),
        ({"title_sr": "Т" * (MAX_TITLE_LENGTH + 1)}, "title_sr is 201 characters long"),
        (
            {"questions": "[" + "x" * (MAX_PHRASING_LENGTH + 1) + "]"},
            "questions item 1 is 4001 characters long; at most 4000",
        ),
        (
            {"questions": "[" + ", ".join(f"q{n}" for n in range(MAX_PHRASINGS + 1)) + "]"},
            "questions lists 101 phrasings; at most 100",
        ),
        ({"body": "b" * (MAX_BODY_LENGTH + 1)}, "the answer is 10001 characters long"),
        (
            {"body": "Answer.\n\n<!-- lang: sr -->\n" + "ш" * A_LOT},
            "the sr section is 10001 characters long; at most 10000",
        ),
        ({"city": "c" * (MAX_PLACE_LENGTH + 1)}, "city is 121 characters long; at most 120"),
        ({"country": "c" * (MAX_PLACE_LENGTH + 1)}, "country is 121 characters long"),
    ],
)
def test_what_an_entry_may_hold_is_limited(
    tmp_path: Path, fields: dict[str, str], problem: str
) -> None:
    path = write(tmp_path, "big.md", entry_text("big", **fields))
    files = read_knowledge([path])
    assert files.entries == []
    (only,) = files.errors
    assert str(only).startswith(f"{path}: {problem}"), [str(p) for p in files.problems]


def test_an_entry_at_every_limit_is_read(tmp_path: Path) -> None:
    questions = ", ".join(["x" * MAX_PHRASING_LENGTH] * MAX_PHRASINGS)
    text = entry_text(
        "full",
        title="T" * MAX_TITLE_LENGTH,
        questions=f"[{questions}]",
        city="c" * MAX_PLACE_LENGTH,
        body="b" * MAX_BODY_LENGTH + "\n\n<!-- lang: sr -->\n" + "ш" * MAX_BODY_LENGTH,
    )
    files = read_knowledge([write(tmp_path, "full.md", text)])
    assert files.ok, [str(p) for p in files.problems]
    (entry,) = files.entries
    assert len(entry.questions) == MAX_PHRASINGS and len(entry.body) == MAX_BODY_LENGTH
    # ...and what is written for it reads back: exports always import again.
    write_entries([entry], tmp_path / "out")
    assert read_knowledge([tmp_path / "out"]).entries == [entry]


def test_a_file_larger_than_the_limit_is_not_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.md", entry_text("huge", body="b" * MAX_KNOWLEDGE_FILE_BYTES))
    files = read_knowledge([tmp_path])
    assert [str(p) for p in files.problems] == [f"{path}: the file is larger than 2 MiB"]

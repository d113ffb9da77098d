"""Knowledge files: ``knowledge/<id>.md``, YAML front matter, then the answer in Markdown.

Reading collects every problem of every file (``path: problem``) instead of stopping at
the first, so a curator fixes a folder in one pass; importing is all or nothing.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from helpdesk.domain.errors import InvalidEntry
from helpdesk.domain.knowledge import Entry, EntryStatus, Translation
from helpdesk.domain.languages import normalize_language_code

__all__ = ["KnowledgeFiles", "Problem", "dump_entry", "read_knowledge", "write_entries"]

_KNOWN_FIELDS = (
    "id",
    "title",
    "questions",
    "topics",
    "lang",
    "city",
    "country",
    "source",
    "status",
)
_TRANSLATED_TITLE = re.compile(r"^title_([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)$")
_LANGUAGE_MARK = re.compile(r"^\s*<!--\s*lang:\s*([A-Za-z_-]+)\s*-->\s*$", re.MULTILINE)
_SKIPPED_IN_FOLDERS = ("readme", "_", ".")  # notes beside the entries, not entries


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{self.path}: {prefix}{self.message}"


@dataclass
class KnowledgeFiles:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    @property
    def ok(self) -> bool:
        return not self.errors


def read_knowledge(paths: Iterable[Path]) -> KnowledgeFiles:
    """Read files and folders (``*.md``, recursively) into entries, collecting every problem."""
    result = KnowledgeFiles()
    seen: dict[str, Path] = {}
    for path in _expand(paths, result):
        result.files += 1
        entry = _read_file(path, result)
        if entry is None:
            continue
        if entry.id in seen:
            result.problems.append(
                Problem(path, f"duplicate id {entry.id!r} (also in {seen[entry.id]})")
            )
            continue
        seen[entry.id] = path
        result.entries.append(entry)
    return result


def _expand(paths: Iterable[Path], result: KnowledgeFiles) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*.md")
                if p.is_file() and not p.name.lower().startswith(_SKIPPED_IN_FOLDERS)
            )
            if not found:
                result.problems.append(Problem(path, "no .md files in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            result.problems.append(Problem(path, "no such file or folder"))
    return files


def _read_file(path: Path, result: KnowledgeFiles) -> Entry | None:
    def problem(message: str, warning: bool = False) -> None:
        result.problems.append(Problem(path, message, warning))

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problem(f"not UTF-8 text (byte {error.start})")
        return None
    except OSError as error:
        problem(f"cannot read: {error.strerror}")
        return None
    text = text.replace("\r\n", "\n")
    if not text.lstrip().startswith("---"):
        problem("no front matter: the file must start with a line '---'")
        return None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        problem(f"bad YAML in the front matter{where}: {reason}")
        return None
    except ValueError as error:
        problem(f"cannot read the front matter: {error}")
        return None
    meta: dict[str, Any] = dict(post.metadata)
    if not meta:
        problem("empty front matter: id, title and questions are required")
        return None

    errors_before = len(result.errors)
    entry_id = _text(meta, "id", problem, required=True)
    title = _text(meta, "title", problem, required=True)
    questions = _list(meta, "questions", problem, required=True)
    topics = _list(meta, "topics", problem)
    lang_raw = _text(meta, "lang", problem) or "en"
    lang = normalize_language_code(lang_raw)
    if lang is None:
        problem(f"lang {lang_raw!r} is not a language code such as en, sr, sr-Latn, mk")
    status_raw = _text(meta, "status", problem) or EntryStatus.PUBLISHED.value
    try:
        status = EntryStatus(status_raw.lower())
    except ValueError:
        problem(f"unknown status {status_raw!r}: use published, draft or retired")
        status = EntryStatus.DRAFT
    titles: dict[str, str] = {}
    for key in meta:
        translated = _TRANSLATED_TITLE.match(key)
        if translated:
            code = normalize_language_code(translated[1])
            title_text = _text(meta, key, problem)
            if code is None:
                problem(f"{key}: {translated[1]!r} is not a language code", warning=True)
            elif title_text:
                titles[code] = title_text
        elif key not in _KNOWN_FIELDS:
            problem(f"unknown field {key!r} is ignored", warning=True)
    body, sections = _split_languages(post.content, problem)
    if entry_id and path.stem != entry_id:
        problem(f"file name does not match id {entry_id!r} (expected {entry_id}.md)", warning=True)
    if len(result.errors) > errors_before or not (entry_id and title and questions and lang):
        return None
    try:
        return Entry(
            id=entry_id,
            title=title,
            questions=tuple(questions),
            body=body,
            topics=tuple(topics),
            lang=lang,
            city=_text(meta, "city", problem),
            country=_text(meta, "country", problem),
            source=_text(meta, "source", problem),
            status=status,
            translations=tuple(
                Translation(code, titles.get(code, title), text)
                for code, text in sections.items()
                if code != lang
            ),
        )
    except InvalidEntry as error:
        problem(str(error))
        return None


def _split_languages(content: str, problem: Any) -> tuple[str, dict[str, str]]:
    """The answer in the entry's language, and the sections after a line
    ``<!-- lang: sr -->`` (an HTML comment: it shows nothing where Markdown is rendered)."""
    parts = _LANGUAGE_MARK.split(content)
    sections: dict[str, str] = {}
    for raw, text in zip(parts[1::2], parts[2::2], strict=True):
        code = normalize_language_code(raw)
        if code is None:
            problem(f"<!-- lang: {raw} --> is not a language code", warning=True)
        elif text.strip():
            sections[code] = text.strip()
    return parts[0].strip(), sections


def _text(meta: dict[str, Any], key: str, problem: Any, required: bool = False) -> str | None:
    value = meta.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problem(f"missing required field {key!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problem(f"{key} must be text, not {type(value).__name__} (quote it)")
        return None
    return str(value).strip()


def _list(meta: dict[str, Any], key: str, problem: Any, required: bool = False) -> list[str]:
    value = meta.get(key)
    if value is None or value == [] or value == "":
        if required:
            problem(f"missing required field {key!r} (a list of one or more phrasings)")
        return []
    if isinstance(value, str):
        # "topics: a, b" is a common shorthand; a single question is one phrasing.
        items: Sequence[Any] = list(value.split(",")) if key == "topics" else [value]
    elif isinstance(value, list):
        items = value
    else:
        problem(f"{key} must be a list")
        return []
    texts = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            problem(f"{key} item {number} must be text (quote it)")
            continue
        if str(item).strip():
            texts.append(str(item).strip())
        elif key == "questions":
            problem(f"questions item {number} is empty")
    if required and not texts:
        problem(f"{key} must list at least one phrasing")
    return texts


def dump_entry(entry: Entry) -> str:
    """The file text for an entry; reading it back gives the same entry."""
    meta: dict[str, Any] = {
        "id": entry.id,
        "title": entry.title,
        "questions": list(entry.questions),
    }
    if entry.topics:
        meta["topics"] = list(entry.topics)
    meta["lang"] = entry.lang
    for key in ("city", "country", "source"):
        value = getattr(entry, key)
        if value:
            meta[key] = value
    meta["status"] = entry.status.value
    for translation in entry.translations:
        if translation.title != entry.title:
            meta[f"title_{translation.lang}"] = translation.title
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=4096)
    sections = "".join(f"\n<!-- lang: {t.lang} -->\n{t.body.strip()}\n" for t in entry.translations)
    return f"---\n{front}---\n{entry.body.strip()}\n{sections}"


def write_entries(entries: Iterable[Entry], folder: Path) -> list[Path]:
    """Write ``<id>.md`` for every entry into ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in entries:
        path = folder / f"{entry.id}.md"
        path.write_text(dump_entry(entry), encoding="utf-8")
        written.append(path)
    return written

"""Knowledge files: ``knowledge/<id>.md``, YAML front matter, then the answer in Markdown.

Reading collects every problem of every file (``path: problem``) instead of stopping at
the first, so a curator fixes a folder in one pass; importing is all or nothing.

Symbolic links inside a knowledge folder are never followed, reading or writing: the
folder may come from version control or from someone else's hands, and a link in it
must not make the bot read, or overwrite, a file elsewhere. A path named by the user
(the folder itself, or a file given on the command line) is theirs to point anywhere.
"""

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from helpdesk.domain.errors import InvalidEntry
from helpdesk.domain.knowledge import Entry, EntryStatus, Translation
from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.limits import (
    MAX_BODY_LENGTH,
    MAX_KNOWLEDGE_FILE_BYTES,
    MAX_PHRASING_LENGTH,
    MAX_PHRASINGS,
    MAX_PLACE_LENGTH,
    MAX_TITLE_LENGTH,
)

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
# unreviewed_bs: machine-assisted — a translation nobody has reviewed yet, and how it was
# made; a reviewer clears it by deleting the line.
_UNREVIEWED = re.compile(r"^unreviewed_([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)$")
_LANGUAGE_MARK = re.compile(r"^\s*<!--\s*lang:\s*([A-Za-z_-]+)\s*-->\s*$", re.MULTILINE)
_SKIPPED_IN_FOLDERS = ("readme", "_", ".")  # notes beside the entries, not entries
_LINK_PROBLEM = "a symbolic link: links in a knowledge folder are not followed (put the file here)"


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
    for path, named in _expand(paths, result):
        result.files += 1
        entry = _read_file(path, result, follow_link=named)
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


def _expand(paths: Iterable[Path], result: KnowledgeFiles) -> list[tuple[Path, bool]]:
    """The files to read, each with whether the user named it (then a link is followed)."""
    files: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            problems_before = len(result.problems)
            found = sorted(_files_in(path, result))
            if not found and len(result.problems) == problems_before:
                result.problems.append(Problem(path, "no .md files in this folder"))
            files.extend((p, False) for p in found)
        elif path.is_file():
            files.append((path, True))
        else:
            result.problems.append(Problem(path, "no such file or folder"))
    return files


def _files_in(folder: Path, result: KnowledgeFiles) -> Iterator[Path]:
    """Every entry file under ``folder``, without following links: a link to a file or a
    folder is reported and left alone."""
    try:
        with os.scandir(folder) as scan:
            found = sorted(scan, key=lambda item: item.name)
    except OSError as error:
        result.problems.append(Problem(folder, f"cannot read the folder: {error.strerror}"))
        return
    for item in found:
        path = folder / item.name
        is_entry = item.name.endswith(".md") and not item.name.lower().startswith(
            _SKIPPED_IN_FOLDERS
        )
        if item.is_symlink():
            if is_entry or item.is_dir():
                result.problems.append(Problem(path, _LINK_PROBLEM))
        elif item.is_dir(follow_symlinks=False):
            yield from _files_in(path, result)
        elif is_entry and item.is_file(follow_symlinks=False):
            yield path


def _read_file(path: Path, result: KnowledgeFiles, *, follow_link: bool) -> Entry | None:
    def problem(message: str, warning: bool = False) -> None:
        result.problems.append(Problem(path, message, warning))

    try:
        data = _read_bytes(path, follow_link)
    except OSError as error:
        link = error.errno == errno.ELOOP and not follow_link
        problem(_LINK_PROBLEM if link else f"cannot read: {error.strerror}")
        return None
    if len(data) > MAX_KNOWLEDGE_FILE_BYTES:
        problem(f"the file is larger than {MAX_KNOWLEDGE_FILE_BYTES // (1024 * 1024)} MiB")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problem(f"not UTF-8 text (byte {error.start})")
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
    unreviewed: dict[str, str] = {}
    for key in meta:
        translated = _TRANSLATED_TITLE.match(key) or _UNREVIEWED.match(key)
        if translated:
            code = normalize_language_code(translated[1])
            value = _text(meta, key, problem)
            if code is None:
                problem(f"{key}: {translated[1]!r} is not a language code", warning=True)
            elif value:
                (titles if key.startswith("title_") else unreviewed)[code] = value
        elif key not in _KNOWN_FIELDS:
            problem(f"unknown field {key!r} is ignored", warning=True)
    body, sections = _split_languages(post.content, problem)
    for code in unreviewed:
        if code not in sections:
            problem(f"unreviewed_{code}: there is no <!-- lang: {code} --> section", warning=True)
    _check_limits(title, questions, body, sections, titles, meta, problem)
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
                Translation(code, titles.get(code, title), text, unreviewed.get(code))
                for code, text in sections.items()
                if code != lang
            ),
        )
    except InvalidEntry as error:
        problem(str(error))
        return None


def _check_limits(
    title: str | None,
    questions: Sequence[str],
    body: str,
    sections: dict[str, str],
    titles: dict[str, str],
    meta: dict[str, Any],
    problem: Any,
) -> None:
    """What an entry may hold (helpdesk.domain.limits), each excess its own problem."""
    for key, text in (("title", title), *((f"title_{code}", t) for code, t in titles.items())):
        if text and len(text) > MAX_TITLE_LENGTH:
            problem(f"{key} is {len(text)} characters long; at most {MAX_TITLE_LENGTH}")
    if len(questions) > MAX_PHRASINGS:
        problem(f"questions lists {len(questions)} phrasings; at most {MAX_PHRASINGS}")
    for number, question in enumerate(questions, start=1):
        if len(question) > MAX_PHRASING_LENGTH:
            problem(
                f"questions item {number} is {len(question)} characters long; "
                f"at most {MAX_PHRASING_LENGTH}"
            )
    answers = {"the answer": body, **{f"the {code} section": t for code, t in sections.items()}}
    for name, text in answers.items():
        if len(text) > MAX_BODY_LENGTH:
            problem(f"{name} is {len(text)} characters long; at most {MAX_BODY_LENGTH}")
    for key in ("city", "country"):
        value = meta.get(key)
        if isinstance(value, str) and len(value.strip()) > MAX_PLACE_LENGTH:
            problem(f"{key} is {len(value.strip())} characters long; at most {MAX_PLACE_LENGTH}")


def _read_bytes(path: Path, follow_link: bool) -> bytes:
    """At most one byte more than a knowledge file may hold; a link is refused (ELOOP)
    unless ``follow_link``, checked when the file is opened, not before."""
    flags = os.O_RDONLY | os.O_CLOEXEC | (0 if follow_link else os.O_NOFOLLOW)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as file:
        return file.read(MAX_KNOWLEDGE_FILE_BYTES + 1)


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
    for translation in entry.translations:
        if translation.unreviewed:
            meta[f"unreviewed_{translation.lang}"] = translation.unreviewed
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=4096)
    sections = "".join(f"\n<!-- lang: {t.lang} -->\n{t.body.strip()}\n" for t in entry.translations)
    return f"---\n{front}---\n{entry.body.strip()}\n{sections}"


def write_entries(entries: Iterable[Entry], folder: Path) -> list[Path]:
    """Write ``<id>.md`` for every entry into ``folder`` (created if missing).

    Each file is written whole under a temporary name in the folder, then renamed over
    ``<id>.md``: a reader never sees half a file, and a link at ``<id>.md`` is replaced by
    the file, never followed (what it points to stays as it was)."""
    folder.mkdir(parents=True, exist_ok=True)
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        written = []
        for entry in entries:
            name = f"{entry.id}.md"
            _replace_file(directory, name, dump_entry(entry).encode("utf-8"))
            written.append(folder / name)
        os.fsync(directory)  # the renames, too, survive a crash
        return written
    finally:
        os.close(directory)


def _replace_file(directory: int, name: str, data: bytes) -> None:
    """``name`` in ``directory`` (an open folder) holds ``data``, atomically."""
    # A dot first: reading a folder skips it, should a crash leave it behind.
    temporary = f".{name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(temporary, flags, 0o666, dir_fd=directory)
    try:
        with os.fdopen(descriptor, "wb") as file:
            mode = _regular_file_mode(directory, name)
            if mode is not None:
                os.fchmod(file.fileno(), mode)  # an existing file keeps its permissions
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        raise


def _regular_file_mode(directory: int, name: str) -> int | None:
    try:
        found = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(found.st_mode) if stat.S_ISREG(found.st_mode) else None

"""The ``helpdesk`` command: knowledge base, matching, invitations, experts, tickets, stats.

Every failure a user can cause (bad URL, missing file, bad argument) is one line on
stderr and a non-zero exit code, never a traceback.
"""

import asyncio
import csv
import dataclasses
import functools
import getpass
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from helpdesk.bootstrap import App, bootstrap, entry_writer
from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.domain.curation import Proposal, ProposalStatus
from helpdesk.domain.invites import Invite, hash_code, new_code
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.limits import (
    MAX_NAME_LENGTH,
    MAX_PHRASING_LENGTH,
    MAX_PHRASINGS,
    MAX_PLACE_LENGTH,
    MAX_ROW_ID,
)
from helpdesk.domain.people import Person, Role
from helpdesk.domain.questions import AskedQuestion, Match
from helpdesk.domain.schedule import describe_duration
from helpdesk.domain.tickets import Ticket, TicketStatus
from helpdesk.knowledge_files import KnowledgeFiles, dump_entry, read_knowledge, write_entries
from helpdesk.services.audit import record
from helpdesk.services.context import Context
from helpdesk.services.curation import (
    add_phrasing,
    decide_proposal,
    promote_ticket,
    publish_entry,
    restore_version,
    retire_entry,
)
from helpdesk.services.delivery import resend
from helpdesk.services.evaluation import EvaluationReport, evaluate, read_labelled
from helpdesk.services.follow_through import overdue as overdue_tickets
from helpdesk.services.knowledge import import_entries
from helpdesk.services.ports import EntryWriter, UnitOfWork
from helpdesk.services.privacy import AlreadyErased, erase_person, export_person
from helpdesk.services.refusals import Refused
from helpdesk.services.reports import find_gaps, summarise, weekly
from helpdesk.services.tickets import assign_by_staff
from helpdesk.settings import Settings, SettingsError, load_settings, parse_span
from helpdesk.storage.database import Database, DatabaseError, backup_sqlite
from helpdesk.web_commands import web

__all__ = ["main"]

T = TypeVar("T")


class Failure(click.ClickException):
    """A one-line error for the user; exit code 1."""

    def format_message(self) -> str:
        return self.message


# Every number that names a row: the database holds no larger id (32 bits on PostgreSQL),
# and a larger one must be a usage error, not an overflow in the driver.
ROW_ID = click.IntRange(1, MAX_ROW_ID)


def _at_most(length: int) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A text option no longer than the database column it goes into."""

    def check(_context: click.Context, _option: click.Parameter, value: str | None) -> str | None:
        if value is not None and len(value) > length:
            raise click.BadParameter(f"{len(value)} characters long; at most {length}")
        return value

    return check


def _span(value: str, option: str, *, zero: bool = False) -> timedelta:
    try:
        return parse_span(value, zero=zero)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise Failure(str(error)) from None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except DatabaseError as error:
        raise Failure(f"database: {error}") from None


def with_app(function: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command body with a bootstrapped app, closed afterwards."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        settings = _settings()

        async def body() -> T:
            app = await bootstrap(settings)
            try:
                return await function(app, *args, **kwargs)
            finally:
                await app.close()

        return _run(body())

    return wrapper


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="helpdesk")
def main() -> None:
    """The hub's helpdesk: knowledge base, matching, invitations, experts and tickets.

    The database comes from HELPDESK_DATABASE_URL (default: sqlite:///helpdesk.db).
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# -- knowledge base --------------------------------------------------------------------------


@main.group()
def kb() -> None:
    """Curate the knowledge base (files in knowledge/)."""


def _read_or_fail(paths: Iterable[Path], failure: str) -> KnowledgeFiles:
    """Read knowledge files, printing every problem; fail if any is an error."""
    files = read_knowledge(paths)
    for problem in files.problems:
        click.echo(str(problem), err=True)
    if not files.ok:
        raise Failure(f"{len(files.errors)} problem(s) in {files.files} file(s){failure}")
    return files


@kb.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def kb_validate(paths: tuple[Path, ...]) -> None:
    """Check knowledge files without importing them."""
    files = _read_or_fail(paths, "")
    click.echo(f"{len(files.entries)} entries in {files.files} file(s) are valid")


@kb.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--replace/--merge",
    default=None,
    help="Retire the entries that are not in PATHS, or keep them. "
    "Default: --replace when a PATH is a folder (a folder is a whole knowledge base), "
    "--merge when every PATH is a file.",
)
def kb_import(paths: tuple[Path, ...], replace: bool | None) -> None:
    """Import knowledge files and folders, all or nothing."""
    files = _read_or_fail(paths, "; nothing imported")
    retire_others = replace if replace is not None else any(path.is_dir() for path in paths)

    @with_app
    async def run(app: App) -> None:
        report = await import_entries(app.uow, files.entries, app.clock, replace=retire_others)
        if app.knowledge.embedder is not None:
            # Embed new phrasings now, once, rather than at the next question.
            click.echo("preparing the matcher (embedding new texts)...", err=True)
            await app.knowledge.refresh()
        click.echo(
            f"imported {len(files.entries)} entries: {len(report.created)} new, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged"
            + (f", {report.retired} others retired" if report.retired else "")
            + f"; {report.published} published entries in the knowledge base"
        )

    run()


@kb.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--status",
    type=click.Choice([s.value for s in EntryStatus]),
    help="Only entries with this status (default: all).",
)
def kb_export(folder: Path, status: str | None) -> None:
    """Write every entry as FOLDER/<id>.md, ready to import again."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            entries = await uow.entries.all(EntryStatus(status) if status else None)
        try:
            written = write_entries(entries, folder)
        except OSError as error:
            raise Failure(f"{folder}: {error.strerror}") from None
        click.echo(f"wrote {len(written)} entries to {folder}")

    run()


@kb.command("list")
@click.option("--status", type=click.Choice([s.value for s in EntryStatus]))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def kb_list(status: str | None, as_json: bool) -> None:
    """List the entries in the knowledge base."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            entries = await uow.entries.all(EntryStatus(status) if status else None)
        for entry in entries:
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "id": entry.id,
                            "title": entry.title,
                            "status": entry.status.value,
                            "lang": entry.lang,
                            "topics": list(entry.topics),
                            "questions": len(entry.questions),
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                click.echo(f"{entry.id:32} {entry.status.value:9} {entry.title}")
        if not as_json:
            click.echo(f"{len(entries)} entries", err=True)

    run()


# -- curation ----------------------------------------------------------------------------


def _author() -> str:
    """Who made a change from the command line: the operating-system user."""
    try:
        return f"{getpass.getuser()} (cli)"
    except (KeyError, OSError):
        return "cli"


async def _curating(app: App, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run a curation step in one transaction; a refusal becomes a one-line failure."""
    async with app.uow() as uow:
        try:
            result = await action(uow)
        except Refused as error:
            raise Failure(app.translator.translate(error.key, "en", error.params)) from None
        await uow.commit()
    return result


@kb.command("show")
@click.argument("entry_id")
def kb_show(entry_id: str) -> None:
    """An entry as its knowledge file would read."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            entry = await uow.entries.get(entry_id)
        if entry is None:
            raise Failure(f"no entry {entry_id}")
        click.echo(dump_entry(entry))

    run()


@kb.command("promote")
@click.argument("ticket", type=ROW_ID)
def kb_promote(ticket: int) -> None:
    """Make a draft entry from answered ticket TICKET (the official's name and city out)."""

    @with_app
    async def run(app: App) -> None:
        entry = await _curating(
            app, lambda uow: promote_ticket(uow, ticket, _author(), app.clock())
        )
        click.echo(f"Draft entry {entry.id} made from ticket #{ticket}.")
        click.echo(
            f"Review it with: helpdesk kb show {entry.id}; then: helpdesk kb publish {entry.id}"
        )

    run()


@kb.command("publish")
@click.argument("entry_id")
def kb_publish(entry_id: str) -> None:
    """Publish a draft (also written to HELPDESK_KNOWLEDGE_DIR/<id>.md)."""

    @with_app
    async def run(app: App) -> None:
        write = entry_writer(app.settings.knowledge_dir)
        await _curating(
            app, lambda uow: publish_entry(uow, entry_id, _author(), app.clock(), write)
        )
        click.echo(f"Published {entry_id}; written to {app.settings.knowledge_dir / entry_id}.md")

    run()


@kb.command("retire")
@click.argument("entry_id")
def kb_retire(entry_id: str) -> None:
    """Retire an entry: it no longer answers (its file is kept, marked retired)."""

    @with_app
    async def run(app: App) -> None:
        write = entry_writer(app.settings.knowledge_dir)
        await _curating(app, lambda uow: retire_entry(uow, entry_id, _author(), app.clock(), write))
        click.echo(f"Retired {entry_id}.")

    run()


@kb.command("phrase")
@click.argument("entry_id")
@click.argument("text")
def kb_phrase(entry_id: str, text: str) -> None:
    """Add TEXT as one more way of asking for an entry (e.g. in another language)."""
    # Measured as it is stored, with its spaces tidied.
    length = len(" ".join(text.split()))
    if length > MAX_PHRASING_LENGTH:
        raise click.BadParameter(
            f"{length} characters long; a phrasing has at most {MAX_PHRASING_LENGTH}",
            param_hint="TEXT",
        )

    @with_app
    async def run(app: App) -> None:
        write = entry_writer(app.settings.knowledge_dir)

        async def phrase(uow: UnitOfWork) -> Entry:
            found = await uow.entries.get(entry_id)
            if found is not None and len(found.questions) >= MAX_PHRASINGS:
                raise Failure(
                    f"{entry_id} has {len(found.questions)} phrasings, the most an entry may have"
                )
            return await add_phrasing(uow, entry_id, text, _author(), app.clock(), write)

        entry = await _curating(app, phrase)
        click.echo(f"{entry.id} has {len(entry.questions)} ways of asking.")

    run()


@kb.command("history")
@click.argument("entry_id")
def kb_history(entry_id: str) -> None:
    """Every version of an entry: who, when, what changed."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            versions = await uow.entries.history(entry_id)
        if not versions:
            raise Failure(f"no history for {entry_id}")
        for v in versions:
            click.echo(f"v{v.version:<3} {v.at:%Y-%m-%d %H:%M} {v.author:28} {v.change}")

    run()


@kb.command("restore")
@click.argument("entry_id")
@click.argument("version", type=ROW_ID)
@click.option(
    "--status",
    type=click.Choice([s.value for s in EntryStatus]),
    help="The status it gets (default: the one it had in VERSION).",
)
def kb_restore(entry_id: str, version: int, status: str | None) -> None:
    """Bring back VERSION of an entry (as a new version); says which status it has."""

    @with_app
    async def run(app: App) -> EntryStatus:
        write = entry_writer(app.settings.knowledge_dir)
        wanted = EntryStatus(status) if status else None
        restored = await _curating(
            app,
            lambda uow: restore_version(
                uow, entry_id, version, _author(), app.clock(), write, wanted
            ),
        )
        return restored.status

    now = run()
    click.echo(f"Restored {entry_id} to version {version}; it is {now.value}.")


def _decision(
    number: int, accept: bool, app: App, write: EntryWriter
) -> Callable[[UnitOfWork], Awaitable[Proposal]]:
    async def decide(uow: UnitOfWork) -> Proposal:
        return await decide_proposal(uow, number, accept, _author(), app.clock(), write)

    return decide


@kb.command("proposals")
@click.option("--accept", "accept", type=ROW_ID, help="Accept proposal N.")
@click.option("--reject", "reject", type=ROW_ID, help="Reject proposal N.")
def kb_proposals(accept: int | None, reject: int | None) -> None:
    """Questions proposed as new phrasings of entries; accept or reject them."""

    @with_app
    async def run(app: App) -> None:
        write = entry_writer(app.settings.knowledge_dir)
        for number, yes in ((accept, True), (reject, False)):
            if number is not None:
                done = await _curating(app, _decision(number, yes, app, write))
                click.echo(f"Proposal #{number} {done.status.value}.")
        if accept is not None or reject is not None:
            return
        async with app.uow() as uow:
            pending = await uow.proposals.find(status=ProposalStatus.PENDING)
        for proposal in pending:
            language = proposal.language or "?"
            click.echo(f"#{proposal.id:<5} {proposal.entry_id:32} {language:6} {proposal.text}")
        click.echo(f"{len(pending)} pending", err=True)

    run()


# -- asking ------------------------------------------------------------------------------


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


@main.command()
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

    @with_app
    async def run(app: App) -> None:
        matcher = await app.knowledge.refresh()
        if matcher.size == 0:
            click.echo("warning: the knowledge base is empty; run `helpdesk kb import`", err=True)
        for line in lines:
            match = matcher.match(line)
            language = (
                normalize_language_code(lang) if lang else app.helpdesk.languages.identify(line)
            )
            if as_json or batch is not None:
                click.echo(_match_json(line, match, language))
                continue
            click.echo(f"{match.action.value} (score {match.score:.1f})")
            for candidate in match.candidates:
                click.echo(f"  {candidate.score:5.1f}  {candidate.entry_id}  {candidate.title}")

    run()


@main.command("eval")
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

    @with_app
    async def run(app: App) -> None:
        matcher = await app.knowledge.refresh()
        if matcher.size == 0:
            raise Failure("the knowledge base is empty; run `helpdesk kb import` first")
        entries = {e.id: e for e in app.knowledge.entries}
        report = evaluate(matcher, questions, app.helpdesk.languages, entries)
        if as_json:
            click.echo(report.to_json())
            return
        click.echo(_scores_table(report))
        if mistakes:
            for mistake in report.mistakes:
                click.echo(json.dumps(mistake, ensure_ascii=False))

    run()


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


# -- invitations and people --------------------------------------------------------------------


@main.group()
def invite() -> None:
    """Invitations: the only way to join."""


@invite.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--name",
    callback=_at_most(MAX_NAME_LENGTH),
    help="The person's name (else their chat profile name).",
)
@click.option("--city", callback=_at_most(MAX_PLACE_LENGTH))
@click.option("--country", callback=_at_most(MAX_PLACE_LENGTH))
@click.option("--languages", help="Comma-separated language codes, e.g. sr,en.")
@click.option("--topics", help="Comma-separated topics (experts), e.g. youth,returnees.")
@click.option(
    "--capacity",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Open tickets an expert takes at once.",
)
@click.option("--valid-for", help="How long the code works, e.g. 7d (default 30d).")
def invite_create(
    role: str,
    name: str | None,
    city: str | None,
    country: str | None,
    languages: str | None,
    topics: str | None,
    capacity: int,
    valid_for: str | None,
) -> None:
    """Create an invitation; the code is the last line printed."""
    codes = []
    for raw in _split(languages):
        code = normalize_language_code(raw)
        if code is None:
            raise click.BadParameter(f"{raw!r} is not a language code", param_hint="--languages")
        codes.append(code)
    lifetime = _span(valid_for, "--valid-for") if valid_for is not None else None

    @with_app
    async def run(app: App) -> str:
        code = new_code()
        now = app.clock()
        validity = app.settings.invite_valid_for if lifetime is None else lifetime
        async with app.uow() as uow:
            created = await uow.invites.add(
                Invite(
                    code_hash=hash_code(code),
                    role=Role(role),
                    created_at=now,
                    expires_at=now + validity,
                    name=name,
                    city=city,
                    country=country,
                    languages=tuple(codes),
                    topics=_split(topics),
                    capacity=capacity,
                )
            )
            await record(
                uow,
                now,
                _author(),
                AuditAction.INVITE,
                f"invite:{created.id}",
                f"{role} {name or ''}",
            )
            await uow.commit()
        click.echo(
            f"Invitation for {name or 'a new ' + role} ({role}), valid until "
            f"{(now + validity):%Y-%m-%d %H:%M} UTC. Send them: /start {code}"
        )
        if app.settings.telegram_token is not None:
            # Imported here: every other command starts faster without Telegram's library.
            from helpdesk.adapters.telegram import TelegramSettings, deep_link

            link = await deep_link(
                TelegramSettings(
                    app.settings.telegram_token.get_secret_value(), app.settings.telegram_base_url
                ),
                code,
            )
            if link:
                click.echo(f"On Telegram they can open: {link}")
        return code

    click.echo(run())


@main.group()
def expert() -> None:
    """The pool of experts."""


@expert.command("list")
@click.option("--json", "as_json", is_flag=True)
def expert_list(as_json: bool) -> None:
    """Experts with their languages, topics, load and availability."""

    @with_app
    async def run(app: App) -> None:
        now = app.clock()
        async with app.uow() as uow:
            loads = await uow.people.expert_loads()
        for load in loads:
            person = load.expert
            row = {
                "id": person.id,
                "name": person.name,
                "city": person.city,
                "country": person.country,
                "languages": list(person.languages),
                "topics": list(person.topics),
                "open_tickets": load.open_tickets,
                "capacity": person.capacity,
                "available": person.is_available(now),
            }
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(
                    f"#{person.id:<4} {person.name:24} {person.city or '-':14} "
                    f"{','.join(person.languages) or '-':12} {load.open_tickets}/{person.capacity}"
                    f" {'available' if row['available'] else 'away'}  "
                    f"{','.join(person.topics) or '-'}"
                )
        if not as_json:
            click.echo(f"{len(loads)} experts", err=True)

    run()


# -- people and their data --------------------------------------------------------------------


@main.group()
def person() -> None:
    """A person's data and role: export, erase, change role."""


@person.command("list")
@click.option("--json", "as_json", is_flag=True)
def person_list(as_json: bool) -> None:
    """Everyone registered (the erased are not listed)."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            people = await uow.people.all()
        for p in people:
            row = {"id": p.id, "name": p.name, "role": p.role.value, "city": p.city}
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(f"#{p.id:<4} {p.role.value:9} {p.name:24} {p.city or '-'}")
        if not as_json:
            click.echo(f"{len(people)} people", err=True)

    run()


@person.command("export")
@click.argument("person_id", type=ROW_ID)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (else stdout).")
def person_export(person_id: int, out: Path | None) -> None:
    """Everything stored about a person, as JSON (a subject access request)."""

    @with_app
    async def run(app: App) -> str:
        async with app.uow() as uow:
            data = await export_person(uow, person_id, _author(), app.clock())
            if data is None:
                raise Failure(f"There is no person #{person_id}.")
            await uow.commit()
        return json.dumps(data, ensure_ascii=False, indent=2, default=str)

    if out is not None and not out.parent.is_dir():
        # Checked first: the export is recorded in the audit log when it is made.
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="--out")
    text = run()
    if out is None:
        click.echo(text)
    else:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise Failure(f"{out}: {error.strerror}") from None
        click.echo(f"Wrote {out}", err=True)


@person.command("erase")
@click.argument("person_id", type=ROW_ID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def person_erase(person_id: int, yes: bool) -> None:
    """Erase a person's personal data; anonymous statistics stay. Cannot be undone."""
    if not yes:
        click.confirm(f"Erase everything personal about person #{person_id}?", abort=True)

    @with_app
    async def run(app: App) -> dict[str, int]:
        write = entry_writer(app.settings.knowledge_dir)
        async with app.uow() as uow:
            try:
                counts = await erase_person(uow, person_id, _author(), app.clock(), write)
            except AlreadyErased as erased:
                raise Failure(f"Nothing to do: {erased}.") from None
            if counts is None:
                raise Failure(f"There is no person #{person_id}.")
            await uow.commit()
        return counts

    counts = run()
    changed = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    click.echo(f"Erased person #{person_id}: {changed or 'nothing was stored'}.")


@person.command("role")
@click.argument("person_id", type=ROW_ID)
@click.argument("role", type=click.Choice([r.value for r in Role]))
def person_role(person_id: int, role: str) -> None:
    """Make a person an official, an expert or staff."""

    @with_app
    async def run(app: App) -> str:
        async with app.uow() as uow:
            found = await uow.people.get(person_id)
            if found is None or found.erased_at is not None:
                raise Failure(f"There is no person #{person_id}.")
            before = found.role.value
            found.role = Role(role)
            await uow.people.save(found)
            await record(
                uow,
                app.clock(),
                _author(),
                AuditAction.ROLE,
                f"person:{person_id}",
                f"{before} → {role}",
            )
            await uow.commit()
        return before

    before = run()
    click.echo(f"Person #{person_id}: {before} → {role}.")


@main.command("audit")
@click.option("--since", help="Only this recent, e.g. 7d.")
@click.option("--action", type=click.Choice([a.value for a in AuditAction]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def audit_list(since: str | None, action: str | None, limit: int, as_json: bool) -> None:
    """Staff actions, newest first: who did what, and when."""
    window = _span(since, "--since", zero=True) if since is not None else None

    @with_app
    async def run(app: App) -> list[AuditEvent]:
        async with app.uow() as uow:
            return await uow.audit.find(
                since=app.clock() - window if window else None,
                action=AuditAction(action) if action else None,
                limit=limit,
            )

    events = run()
    for event in events:
        if as_json:
            row = {
                "at": event.at.isoformat(),
                "actor": event.actor,
                "action": event.action.value,
                "subject": event.subject,
                "detail": event.detail,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            detail = f"  {event.detail}" if event.detail else ""
            click.echo(
                f"{event.at:%Y-%m-%d %H:%M}  {event.actor:28} {event.action.value:9} "
                f"{event.subject}{detail}"
            )
    if not as_json:
        click.echo(f"{len(events)} events", err=True)


# -- tickets -------------------------------------------------------------------------------------


@main.group()
def ticket() -> None:
    """Tickets: questions handed to experts."""


@ticket.command("list")
@click.option("--status", type=click.Choice([s.value for s in TicketStatus]))
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option(
    "--overdue",
    is_flag=True,
    help="Only active tickets unanswered for longer than HELPDESK_EXPERT_REMINDER_AFTER.",
)
@click.option("--json", "as_json", is_flag=True)
def ticket_list(status: str | None, limit: int, overdue: bool, as_json: bool) -> None:
    """The newest tickets first."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            if overdue:
                active = [s for s in TicketStatus if s.is_active]
                tickets = overdue_tickets(
                    await uow.tickets.find(statuses=active, limit=100_000),
                    app.clock(),
                    app.helpdesk.timings,
                )[:limit]
            else:
                tickets = await uow.tickets.find(
                    statuses=[TicketStatus(status)] if status else None, limit=limit
                )
        for t in tickets:
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "id": t.id,
                            "status": t.status.value,
                            "official_id": t.official_id,
                            "assignee_id": t.assignee_id,
                            "language": t.language,
                            "topics": list(t.topics),
                            "created_at": t.created_at.isoformat(),
                            "text": t.text,
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                preview = " ".join(t.text.split())[:60]
                click.echo(
                    f"#{t.id:<5} {t.status.value:9} {t.created_at:%Y-%m-%d %H:%M}  "
                    f"expert={t.assignee_id or '-'}  {preview}"
                )
        if not as_json:
            click.echo(f"{len(tickets)} tickets", err=True)

    run()


@ticket.command("assign")
@click.argument("number", type=ROW_ID)
@click.argument("expert_id", type=ROW_ID)
def ticket_assign(number: int, expert_id: int) -> None:
    """Give ticket NUMBER to the expert EXPERT_ID (see `expert list`), over routing."""

    @with_app
    async def run(app: App) -> str:
        async with app.uow() as uow:
            context = Context(uow, app.clock(), app.helpdesk.timings)
            try:
                expert = await assign_by_staff(context, number, expert_id, _author())
            except Refused as refused:
                raise Failure(app.translator.translate(refused.key, "en", refused.params)) from None
            await uow.commit()
        return expert.name

    name = run()
    click.echo(f"Ticket #{number} is now with {name} (#{expert_id}); they have been told.")


@ticket.command("show")
@click.argument("number", type=ROW_ID)
def ticket_show(number: int) -> None:
    """A ticket with its whole history."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            t = await uow.tickets.get(number)
            if t is None:
                raise Failure(f"no ticket #{number}")
            people = {p.id: p for p in await uow.people.all()}
            upcoming = await uow.schedule.pending(ticket_id=number)

        def who(person_id: int | None) -> str:
            person = people.get(person_id) if person_id is not None else None
            return f"{person.name} (#{person.id})" if person else "-"

        click.echo(f"Ticket #{t.id}: {t.status.value}")
        click.echo(f"Official: {who(t.official_id)}   Expert: {who(t.assignee_id)}")
        click.echo(f"Language: {t.language or '-'}   Topics: {', '.join(t.topics) or '-'}")
        click.echo(f"Question:\n  {t.text}")
        if t.answer:
            click.echo(f"Answer by {who(t.answered_by)}:\n  {t.answer}")
        if t.rating:
            click.echo(f"Rating: {t.rating.value}")
        if t.score:
            click.echo(f"Score: {t.score}/5" + (f" – {t.comment}" if t.comment else ""))
        if t.follow_up:
            click.echo(f"Follow-up: {t.follow_up.value}")
        click.echo("Scheduled:" if upcoming else "Scheduled: nothing")
        for action in upcoming:
            when = f"{action.due_at:%Y-%m-%d %H:%M:%S} UTC"
            click.echo(f"  {when} {action.kind.value} for {who(action.person_id)}")
        click.echo("History:")
        for event in t.events:
            subject = f" expert={who(event.expert_id)}" if event.expert_id else ""
            detail = f" – {event.detail}" if event.detail else ""
            click.echo(
                f"  {event.at:%Y-%m-%d %H:%M:%S} {event.kind.value:10} by "
                f"{who(event.actor_id)}{subject}{detail}"
            )

    run()


# -- the outbox ----------------------------------------------------------------------------------


@main.group()
def outbox() -> None:
    """Messages waiting to be delivered, and those that could not be."""


@outbox.command("list")
@click.option("--failed", is_flag=True, help="The messages given up on (the default).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def outbox_list(failed: bool, limit: int, as_json: bool) -> None:
    """Messages that could not be delivered, newest first, with why (`resend` sends one
    again once the cause is fixed)."""

    @with_app
    async def run(app: App) -> None:
        async with app.uow() as uow:
            items = await uow.outbox.failed(limit)
            people = {p.id: p for p in await uow.people.all()}
        for item in items:
            person = people.get(item.person_id) if item.person_id is not None else None
            row = {
                "id": item.id,
                "platform": item.identity.platform,
                "person_id": item.person_id,
                "person": person.name if person else None,
                "ref": item.reply.ref,
                "created_at": item.created_at.isoformat(),
                "failed_at": item.failed_at.isoformat() if item.failed_at else None,
                "attempts": item.attempts,
                "error": item.last_error,
            }
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
                continue
            to = f"{person.name} (#{person.id})" if person else "someone not registered"
            failed_at = f"{item.failed_at:%Y-%m-%d %H:%M}" if item.failed_at else "-"
            click.echo(
                f"#{item.id:<6} {item.identity.platform:9} {failed_at}  to {to}"
                + (f"  [{item.reply.ref}]" if item.reply.ref else "")
            )
            click.echo(f"        {item.last_error or '-'}")
        if not as_json:
            click.echo(f"{len(items)} messages could not be delivered", err=True)

    run()


@outbox.command("resend")
@click.argument("item_ids", nargs=-1, required=True, type=ROW_ID)
def outbox_resend(item_ids: tuple[int, ...]) -> None:
    """Queue messages that could not be delivered again, after fixing the cause."""

    @with_app
    async def run(app: App) -> list[int]:
        missing = []
        async with app.uow() as uow:
            for item_id in item_ids:
                if not await resend(uow, item_id, _author(), app.clock()):
                    missing.append(item_id)
            if missing:
                listed = ", ".join(f"#{n}" for n in missing)
                raise Failure(f"not a message that could not be delivered: {listed}")
            await uow.commit()
        return list(item_ids)

    done = run()
    click.echo(
        f"Queued again: {', '.join(f'#{n}' for n in done)}; the running bot sends them within "
        "seconds."
    )


# -- statistics and database -------------------------------------------------------------------


async def _history(
    app: App, weeks: int
) -> tuple[list[AskedQuestion], list[Ticket], dict[int, Person]]:
    since = app.clock() - timedelta(weeks=weeks)
    async with app.uow() as uow:
        questions = await uow.questions.since(since)
        tickets = await uow.tickets.changed_since(since)
        people = {p.id: p for p in await uow.people.all() if p.id is not None}
    return questions, tickets, people


@main.command()
@click.option("--weeks", type=click.IntRange(1, 520), default=13, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="One row per week, for a spreadsheet.")
def stats(weeks: int, as_json: bool, as_csv: bool) -> None:
    """Use of the helpdesk: questions per week, auto-answer, suggestion and escalation
    rates, time to the first expert answer, ratings, by language and country."""

    @with_app
    async def run(app: App) -> None:
        questions, tickets, people = await _history(app, weeks)
        async with app.uow() as uow:
            counts = {
                "entries": {s.value: len(await uow.entries.all(s)) for s in EntryStatus},
                "people": {r.value: sum(1 for p in people.values() if p.role is r) for r in Role},
                "tickets": await uow.tickets.count_by_status(),
            }
        rows = weekly(questions)
        if as_csv:
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
            return
        summary = summarise(questions, tickets, people, app.clock() - timedelta(weeks=weeks))
        median = summary.median_first_answer
        data = {
            **counts,
            "weeks": weeks,
            "questions": summary.questions,
            "answered_rate": round(summary.answered / summary.questions, 3)
            if summary.questions
            else 0,
            "suggested_rate": round(summary.suggested / summary.questions, 3)
            if summary.questions
            else 0,
            "escalated_rate": round(summary.escalated / summary.questions, 3)
            if summary.questions
            else 0,
            "median_first_answer_seconds": median.total_seconds() if median else None,
            "helpful": summary.helpful,
            "not_helpful": summary.not_helpful,
            "mean_score": summary.mean_score,
            "by_language": summary.by_language,
            "by_country": summary.by_country,
        }
        if as_json:
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

    run()


@main.group(invoke_without_command=True)
@click.option(
    "--png",
    "png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw the weekly trends as a chart into this PNG file.",
)
@click.option("--weeks", type=click.IntRange(1, 520), default=26, show_default=True)
@click.pass_context
def report(context: click.Context, png: Path | None, weeks: int) -> None:
    """Reports for the hub: the weekly chart (--png FILE) and the gaps in the base."""
    if context.invoked_subcommand is not None:
        return
    if png is None:
        click.echo(context.get_help())
        return

    @with_app
    async def run(app: App) -> None:
        questions, _, _ = await _history(app, weeks)
        rows = weekly(questions)
        if not rows:
            raise Failure("no questions in that period: nothing to draw")
        from helpdesk.charts import weekly_chart  # matplotlib loads slowly: only here

        weekly_chart(rows, png, f"Helpdesk questions per week, last {weeks} weeks")
        click.echo(f"Wrote {png} ({len(rows)} weeks, {len(questions)} questions).")

    run()


@report.command("gaps")
@click.option("--weeks", type=click.IntRange(1, 520), default=26, show_default=True)
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def report_gaps(weeks: int, limit: int, as_json: bool) -> None:
    """Escalated and "not helpful" questions grouped by similarity, biggest first:
    what to write next."""

    @with_app
    async def run(app: App) -> None:
        questions, _, _ = await _history(app, weeks)
        embedder = app.knowledge.embedder
        embed = embedder.embed_questions if embedder is not None else None
        gaps = find_gaps(questions, embed, limit)
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

    run()


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the bot and every command also do this on start)."""
    settings = _settings()

    async def run() -> None:
        database = Database.connect(settings.database_url)
        try:
            await database.upgrade()
        finally:
            await database.close()

    _run(run())
    click.echo("database schema is up to date")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Copy a SQLite database while the bot runs (SQLite's online backup).

    PostgreSQL: use pg_dump (see "Backup and restore" in the README)."""
    try:
        source = backup_sqlite(_settings().database_url, target)
    except DatabaseError as error:
        raise Failure(str(error)) from None
    click.echo(f"backed up {source} to {target}")


# The web console's commands live with its wiring.
main.add_command(web)

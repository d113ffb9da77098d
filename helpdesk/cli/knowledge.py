"""``helpdesk kb``: the knowledge base, its files, its curation and its history."""

import json
from collections.abc import Iterable
from pathlib import Path

import click

from helpdesk.bootstrap import App, entry_writer, seed_vectors
from helpdesk.cli._common import ROW_ID, Failure, author, in_transaction, run_app
from helpdesk.domain.curation import EntryVersion, Proposal, ProposalStatus
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.limits import MAX_PHRASING_LENGTH, MAX_PHRASINGS
from helpdesk.knowledge_files import KnowledgeFiles, dump_entry, read_knowledge, write_entries
from helpdesk.knowledge_vectors import write_vectors
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.services.context import Context
from helpdesk.services.curation import (
    add_phrasing,
    decide_proposal,
    promote_ticket,
    publish_entry,
    restore_version,
    retire_entry,
)
from helpdesk.services.knowledge import import_entries

__all__ = ["kb"]

_STATUSES = click.Choice([s.value for s in EntryStatus])


@click.group()
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


async def _entries(app: App, status: str | None) -> list[Entry]:
    async with app.uow() as uow:
        return await uow.entries.all(EntryStatus(status) if status else None)


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

    async def body(app: App) -> None:
        report = await import_entries(app.uow, files.entries, app.clock, replace=retire_others)
        if app.settings.semantic_matching and app.knowledge.embedder is not None:
            await seed_vectors(app, [path for path in paths if path.is_dir()])
            # Embed new phrasings now, once, rather than at the next question.
            click.echo("preparing the matcher (embedding new texts)...", err=True)
            await app.knowledge.refresh()
        click.echo(
            f"imported {len(files.entries)} entries: {len(report.created)} new, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged"
            + (f", {report.retired} others retired" if report.retired else "")
            + f"; {report.published} published entries in the knowledge base"
        )

    run_app(body)


@kb.command("vectors")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
def kb_vectors(folder: Path) -> None:
    """Write FOLDER/vectors.npz: the model's vectors of FOLDER's entries, so that
    importing FOLDER elsewhere does not embed them again. Import FOLDER first."""
    files = _read_or_fail([folder], "; nothing written")

    async def body(app: App) -> Path:
        embedder = app.knowledge.embedder
        if not app.settings.semantic_matching or embedder is None:
            raise Failure("semantic matching is off or its model is not installed")
        vectors = await app.knowledge.cached_vectors(files.entries)
        wanted = len(HybridMatcher.vectors_needed(files.entries))
        if wanted == 0:
            raise Failure(f"{folder} has no published entry: no vectors to write")
        if len(vectors) < wanted:
            raise Failure(
                f"{wanted - len(vectors)} of {wanted} texts of {folder} are not embedded "
                f"yet: run `helpdesk kb import {folder}` first"
            )
        try:
            return write_vectors(folder, embedder.model, vectors)
        except OSError as error:
            raise Failure(f"{folder}: {error.strerror}") from None

    written = run_app(body)
    click.echo(f"wrote {written}")


@kb.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--status", type=_STATUSES, help="Only entries with this status (default: all).")
def kb_export(folder: Path, status: str | None) -> None:
    """Write every entry as FOLDER/<id>.md, ready to import again."""
    entries = run_app(lambda app: _entries(app, status))
    try:
        written = write_entries(entries, folder)
    except OSError as error:
        raise Failure(f"{folder}: {error.strerror}") from None
    click.echo(f"wrote {len(written)} entries to {folder}")


@kb.command("list")
@click.option("--status", type=_STATUSES)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def kb_list(status: str | None, as_json: bool) -> None:
    """List the entries in the knowledge base."""
    entries = run_app(lambda app: _entries(app, status))
    for entry in entries:
        if as_json:
            row = {
                "id": entry.id,
                "title": entry.title,
                "status": entry.status.value,
                "lang": entry.lang,
                "topics": list(entry.topics),
                "questions": len(entry.questions),
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"{entry.id:32} {entry.status.value:9} {entry.title}")
    if not as_json:
        click.echo(f"{len(entries)} entries", err=True)


@kb.command("show")
@click.argument("entry_id")
def kb_show(entry_id: str) -> None:
    """An entry as its knowledge file would read."""

    async def body(app: App) -> Entry | None:
        async with app.uow() as uow:
            return await uow.entries.get(entry_id)

    entry = run_app(body)
    if entry is None:
        raise Failure(f"no entry {entry_id}")
    click.echo(dump_entry(entry))


@kb.command("promote")
@click.argument("ticket", type=ROW_ID)
def kb_promote(ticket: int) -> None:
    """Make a draft entry from answered ticket TICKET (the official's name and city out)."""
    entry = run_app(
        lambda app: in_transaction(
            app, lambda ctx: promote_ticket(ctx.uow, ticket, author(), ctx.now)
        )
    )
    click.echo(f"Draft entry {entry.id} made from ticket #{ticket}.")
    click.echo(f"Review it with: helpdesk kb show {entry.id}; then: helpdesk kb publish {entry.id}")


@kb.command("publish")
@click.argument("entry_id")
def kb_publish(entry_id: str) -> None:
    """Publish a draft (also written to HELPDESK_KNOWLEDGE_DIR/<id>.md)."""

    async def body(app: App) -> Path:
        folder = app.settings.knowledge_dir
        write = entry_writer(folder)
        await in_transaction(
            app, lambda ctx: publish_entry(ctx.uow, entry_id, author(), ctx.now, write)
        )
        return folder

    folder = run_app(body)
    click.echo(f"Published {entry_id}; written to {folder / entry_id}.md")


@kb.command("retire")
@click.argument("entry_id")
def kb_retire(entry_id: str) -> None:
    """Retire an entry: it no longer answers (its file is kept, marked retired)."""

    async def body(app: App) -> None:
        write = entry_writer(app.settings.knowledge_dir)
        await in_transaction(
            app, lambda ctx: retire_entry(ctx.uow, entry_id, author(), ctx.now, write)
        )

    run_app(body)
    click.echo(f"Retired {entry_id}.")


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

    async def body(app: App) -> Entry:
        write = entry_writer(app.settings.knowledge_dir)

        async def phrase(ctx: Context) -> Entry:
            found = await ctx.uow.entries.get(entry_id)
            if found is not None and len(found.questions) >= MAX_PHRASINGS:
                raise Failure(
                    f"{entry_id} has {len(found.questions)} phrasings, the most an entry may have"
                )
            return await add_phrasing(ctx.uow, entry_id, text, author(), ctx.now, write)

        return await in_transaction(app, phrase)

    entry = run_app(body)
    click.echo(f"{entry.id} has {len(entry.questions)} ways of asking.")


@kb.command("history")
@click.argument("entry_id")
def kb_history(entry_id: str) -> None:
    """Every version of an entry: who, when, what changed."""

    async def body(app: App) -> list[EntryVersion]:
        async with app.uow() as uow:
            return await uow.entries.history(entry_id)

    versions = run_app(body)
    if not versions:
        raise Failure(f"no history for {entry_id}")
    for v in versions:
        click.echo(f"v{v.version:<3} {v.at:%Y-%m-%d %H:%M} {v.author:28} {v.change}")


@kb.command("restore")
@click.argument("entry_id")
@click.argument("version", type=ROW_ID)
@click.option(
    "--status",
    type=_STATUSES,
    help="The status it gets (default: the one it had in VERSION).",
)
def kb_restore(entry_id: str, version: int, status: str | None) -> None:
    """Bring back VERSION of an entry (as a new version); says which status it has."""
    wanted = EntryStatus(status) if status else None

    async def body(app: App) -> Entry:
        write = entry_writer(app.settings.knowledge_dir)
        return await in_transaction(
            app,
            lambda ctx: restore_version(
                ctx.uow, entry_id, version, author(), ctx.now, write, wanted
            ),
        )

    restored = run_app(body)
    click.echo(f"Restored {entry_id} to version {version}; it is {restored.status.value}.")


@kb.command("proposals")
@click.option("--accept", "accept", type=ROW_ID, help="Accept proposal N.")
@click.option("--reject", "reject", type=ROW_ID, help="Reject proposal N.")
def kb_proposals(accept: int | None, reject: int | None) -> None:
    """Questions proposed as new phrasings of entries; accept or reject them."""

    async def body(app: App) -> None:
        write = entry_writer(app.settings.knowledge_dir)
        decisions = [(n, yes) for n, yes in ((accept, True), (reject, False)) if n is not None]
        for number, yes in decisions:

            async def decide(ctx: Context, number: int = number, yes: bool = yes) -> Proposal:
                return await decide_proposal(ctx.uow, number, yes, author(), ctx.now, write)

            done = await in_transaction(app, decide)
            click.echo(f"Proposal #{number} {done.status.value}.")
        if decisions:
            return
        async with app.uow() as uow:
            pending = await uow.proposals.find(status=ProposalStatus.PENDING)
        for proposal in pending:
            language = proposal.language or "?"
            click.echo(f"#{proposal.id:<5} {proposal.entry_id:32} {language:6} {proposal.text}")
        click.echo(f"{len(pending)} pending", err=True)

    run_app(body)

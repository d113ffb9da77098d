"""The knowledge base in the browser: the list, the editor (with its translations side by
side), history with a diff and restore, proposals, and the gaps an entry could fill.
Everything is written back to ``knowledge/`` by the same writer as the chat commands."""

import difflib
from datetime import timedelta
from typing import Any

from aiohttp import web

from helpdesk.domain.curation import ProposalStatus
from helpdesk.domain.errors import InvalidEntry
from helpdesk.domain.knowledge import Entry, EntryStatus, Translation
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.i18n import Msg
from helpdesk.knowledge_files import dump_entry
from helpdesk.matching.language import guess_language
from helpdesk.matching.normalize import normalize_text
from helpdesk.services.audit import actor
from helpdesk.services.curation import decide_proposal, restore_version, retire_entry, save_entry
from helpdesk.services.reports import find_gaps
from helpdesk.web.app import (
    CONSOLE_KEY,
    Page,
    flash_redirect,
    render,
    signed_person,
    staff_only,
)

__all__ = ["add_routes", "entry_from_form"]

_GAP_WINDOW = timedelta(days=90)


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _commas(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def entry_from_form(form: Any, status: EntryStatus, before: Entry | None) -> Entry:
    """The entry as the editor's fields say; ``InvalidEntry`` says what is wrong."""

    def field(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    lang = field("lang") or "en"
    old = {t.lang: t for t in before.translations} if before else {}
    translations = []
    for code in SUPPORTED_LANGUAGES:
        title, body = field(f"title_{code}"), field(f"body_{code}")
        if code == lang or not (title or body):
            continue
        if not (title and body):
            raise InvalidEntry(f"{code}: a translation needs a title and an answer")
        kept = old.get(code)
        # An unchanged machine-assisted translation stays marked; an edited one was read.
        unreviewed = kept.unreviewed if kept and (kept.title, kept.body) == (title, body) else None
        translations.append(Translation(code, title, body, unreviewed))
    return Entry(
        id=field("id"),
        title=field("title"),
        questions=_lines(field("questions")),
        body=field("body"),
        topics=_commas(field("topics")),
        lang=lang,
        city=field("city") or None,
        country=field("country") or None,
        source=field("source") or None,
        status=status,
        translations=tuple(translations),
    )


@staff_only
async def entries(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    wanted = request.query.get("status", "")
    search = normalize_text(request.query.get("q", "").strip())
    status = EntryStatus(wanted) if wanted in {s.value for s in EntryStatus} else None
    async with console.uow() as uow:
        found = await uow.entries.all(status)
        pending = await uow.proposals.find(status=ProposalStatus.PENDING)
    if search:
        found = [e for e in found if any(search in normalize_text(text) for text in e.phrasings)]
    found.sort(key=lambda e: (e.status is not EntryStatus.DRAFT, e.title.casefold()))
    proposals: dict[str, int] = {}
    for proposal in pending:
        proposals[proposal.entry_id] = proposals.get(proposal.entry_id, 0) + 1
    return render(
        request,
        Page(
            "entries.html",
            {
                "entries": found,
                "statuses": [s.value for s in EntryStatus],
                "status": wanted,
                "q": request.query.get("q", ""),
                "languages": SUPPORTED_LANGUAGES,
                "proposals": proposals,
            },
        ),
    )


def _by_language(phrasings: tuple[str, ...]) -> dict[str, list[str]]:
    """Phrasings grouped by the language they seem to be in (a cheap guess from telltale
    words and letters: enough to see which languages have none)."""
    groups: dict[str, list[str]] = {}
    for text in phrasings:
        groups.setdefault(guess_language(text) or "?", []).append(text)
    return dict(sorted(groups.items()))


def _editor(entry: Entry | None, *, new: bool, error: str = "", preview: bool = False) -> Page:
    versions = entry.versions if entry is not None else {}
    return Page(
        "entry.html",
        {
            "entry": entry,
            "new": new,
            "error": error,
            "preview": preview,
            "languages": SUPPORTED_LANGUAGES,
            "versions": versions,
            "missing": [c for c in SUPPORTED_LANGUAGES if c not in versions],
            "phrasings": _by_language(entry.questions) if entry is not None else {},
        },
        400 if error else 200,
    )


@staff_only
async def new_entry(request: web.Request) -> web.StreamResponse:
    """An empty editor; from a gap, its questions already there as phrasings."""
    examples = tuple(q for q in request.query.getall("q", []) if q.strip())[:10]
    draft = None
    if examples:
        draft = Entry(
            id="new-entry",
            title=" ".join(examples[0].split())[:90],
            questions=examples,
            body="",
            status=EntryStatus.DRAFT,
        )
    return render(request, _editor(draft, new=True))


@staff_only
async def edit_entry(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    async with console.uow() as uow:
        entry = await uow.entries.get(request.match_info["entry"])
    if entry is None:
        return render(request, Page("not_found.html", {}, 404))
    return render(request, _editor(entry, new=False))


@staff_only
async def save(request: web.Request) -> web.StreamResponse:
    """Save as draft, publish, retire, or just preview: the buttons of the editor."""
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    form = await request.post()
    action = str(form.get("action", "draft"))
    new = form.get("new") == "1"
    entry_id = str(form.get("id", "")).strip()
    async with console.uow() as uow:
        before = await uow.entries.get(entry_id) if entry_id else None
    if new and before is not None:
        return render(request, _editor(None, new=True, error=f"{entry_id}: exists already"))
    status = {
        "publish": EntryStatus.PUBLISHED,
        "draft": EntryStatus.DRAFT,
        "preview": before.status if before else EntryStatus.DRAFT,
    }.get(action)
    if action == "retire":
        async with console.uow() as uow:
            await retire_entry(uow, entry_id, actor(me), console.clock(), console.write_entry)
            await uow.commit()
        raise flash_redirect(request, f"/kb/{entry_id}", Msg.WEB_FLASH_RETIRED)
    if status is None:
        raise web.HTTPBadRequest()
    try:
        entry = entry_from_form(form, status, before)
    except InvalidEntry as invalid:
        draft = _loose_entry(form, before)
        return render(request, _editor(draft, new=new, error=str(invalid)))
    if action == "preview":
        return render(request, _editor(entry, new=new, preview=True))
    async with console.uow() as uow:
        await save_entry(uow, entry, actor(me), console.clock(), console.write_entry)
        await uow.commit()
    done = Msg.WEB_FLASH_PUBLISHED if status is EntryStatus.PUBLISHED else Msg.WEB_FLASH_SAVED
    raise flash_redirect(request, f"/kb/{entry.id}", done)


def _loose_entry(form: Any, before: Entry | None) -> Entry | None:
    """What was typed, shown again after a mistake (drafts may lack an answer)."""
    try:
        return entry_from_form(form, EntryStatus.DRAFT, before)
    except InvalidEntry:
        return before


@staff_only
async def history(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    entry_id = request.match_info["entry"]
    async with console.uow() as uow:
        versions = await uow.entries.history(entry_id)
        entry = await uow.entries.get(entry_id)
    if entry is None or not versions:
        return render(request, Page("not_found.html", {}, 404))
    by_number = {v.version: v for v in versions}
    newest = max(by_number)

    def chosen(name: str, default: int) -> int:
        try:
            wanted = int(request.query.get(name, default))
        except ValueError:
            return default
        return wanted if wanted in by_number else default

    right = chosen("b", newest)
    left = chosen("a", max((n for n in by_number if n < right), default=right))
    diff = list(
        difflib.unified_diff(
            dump_entry(by_number[left].entry).splitlines(),
            dump_entry(by_number[right].entry).splitlines(),
            f"v{left}",
            f"v{right}",
            lineterm="",
            n=2,
        )
    )
    return render(
        request,
        Page(
            "history.html",
            {
                "entry": entry,
                "versions": sorted(versions, key=lambda v: v.version, reverse=True),
                "left": left,
                "right": right,
                "diff": diff[2:],
                "statuses": [s.value for s in EntryStatus],
            },
        ),
    )


@staff_only
async def restore(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    entry_id = request.match_info["entry"]
    form = await request.post()
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        raise web.HTTPBadRequest() from None
    wanted = str(form.get("status", ""))
    status = EntryStatus(wanted) if wanted in {s.value for s in EntryStatus} else None
    async with console.uow() as uow:
        await restore_version(
            uow, entry_id, version, actor(me), console.clock(), console.write_entry, status
        )
        await uow.commit()
    raise flash_redirect(request, f"/kb/{entry_id}/history", Msg.WEB_FLASH_RESTORED)


@staff_only
async def proposals(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    async with console.uow() as uow:
        pending = await uow.proposals.find(status=ProposalStatus.PENDING)
        shown = []
        for proposal in pending[:100]:
            shown.append((proposal, await uow.entries.get(proposal.entry_id)))
    return render(request, Page("proposals.html", {"proposals": shown, "count": len(pending)}))


@staff_only
async def decide(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    form = await request.post()
    accept = form.get("decision") == "accept"
    try:
        number = int(request.match_info["proposal"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with console.uow() as uow:
        await decide_proposal(uow, number, accept, actor(me), console.clock(), console.write_entry)
        await uow.commit()
    done = Msg.WEB_FLASH_ACCEPTED if accept else Msg.WEB_FLASH_REJECTED
    raise flash_redirect(request, "/proposals", done)


@staff_only
async def gaps(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    async with console.uow() as uow:
        asked = await uow.questions.since(console.clock() - _GAP_WINDOW)
    found = find_gaps([q for q in asked if q.text.strip()])
    return render(request, Page("gaps.html", {"gaps": found, "days": _GAP_WINDOW.days}))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/kb", entries)
    app.router.add_get("/kb/new", new_entry)
    app.router.add_post("/kb/save", save)
    app.router.add_get("/kb/{entry}", edit_entry)
    app.router.add_get("/kb/{entry}/history", history)
    app.router.add_post("/kb/{entry}/restore", restore)
    app.router.add_get("/proposals", proposals)
    app.router.add_post("/proposals/{proposal}", decide)
    app.router.add_get("/gaps", gaps)

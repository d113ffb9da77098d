"""The web console over real HTTP on a real database: signing in by link, sessions, CSRF,
who may open what, and markup shown as text. The browser scenarios are in
tests/e2e/test_web_console.py; these run without a browser, on both engines."""

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from helpdesk.bootstrap import App, bootstrap, ensure_local_people
from helpdesk.cli import main as cli
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Msg
from helpdesk.runner import open_console
from helpdesk.services.context import Context
from helpdesk.services.knowledge import import_entries
from helpdesk.services.privacy import erase_person
from helpdesk.services.refusals import Refused
from helpdesk.services.tickets import open_ticket
from helpdesk.services.web_access import issue_link, sign_in_url
from helpdesk.settings import Settings
from helpdesk.web.app import Console, console_app
from tests.fakes import FakeClock
from tests.integration.test_console_loop import Console as ConsoleChat
from tests.support import ENTRIES

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE_LINK = "[click me](javascript:alert(1))"


@pytest.fixture
async def app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(
        database_url=database_url,
        knowledge_dir=tmp_path / "knowledge",
        semantic_matching=False,
        web_url="http://console.test",
    )
    running = await bootstrap(settings, clock=clock)
    await import_entries(running.uow, ENTRIES, clock)
    yield running
    await running.close()


@dataclass
class Site:
    app: App
    server: TestServer
    clock: FakeClock

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def person(self, role: Role, name: str, **fields: object) -> Person:
        async with self.app.uow() as uow:
            person = await uow.people.add(
                Person(
                    name=name,
                    role=role,
                    created_at=self.clock(),
                    identities=[ChatIdentity("console", name.lower())],
                    **fields,  # type: ignore[arg-type]
                )
            )
            await uow.commit()
        return person

    async def link(self, person: Person) -> str:
        async with self.app.uow() as uow:
            token = await issue_link(Context(uow, self.clock()), person)
            await uow.commit()
        return sign_in_url(self.url("/"), token)

    async def browser(self) -> aiohttp.ClientSession:
        # unsafe: the test server is an IP address, whose cookies aiohttp drops otherwise
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def sign_in(self, session: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
        form = await session.get(link)
        token = _csrf(await form.text())
        return await session.post(link, data={"csrf": token})


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


@pytest.fixture
async def site(app: App, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Site]:
    console = Console(
        uow=app.uow,
        clock=clock,
        translator=app.translator,
        public_url="http://console.test",
        timings=app.helpdesk.timings,
        write_entry=app.helpdesk.write_entry,
        knowledge_changed=app.helpdesk.knowledge.changed,
    )
    server = TestServer(console_app(console))
    await server.start_server()
    # Links point at the real address of this server, not the public name.
    console.public_url = str(server.make_url("/")).rstrip("/")
    yield Site(app, server, clock)
    await server.close()


async def test_a_link_signs_in_once(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    link = await site.link(staff)
    async with await site.browser() as first:
        # A link preview (GET) does not use the link up.
        await first.get(link)
        opened = await site.sign_in(first, link)
        assert opened.status == 200 and opened.url.path == "/queue"
        assert "Mila" in await opened.text()
    async with await site.browser() as second:
        again = await site.sign_in(second, link)
        assert again.status == 403
        assert "not valid any more" in await again.text()


async def test_an_expired_link_is_refused(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    link = await site.link(staff)
    site.clock.advance(minutes=16)
    async with await site.browser() as browser:
        response = await site.sign_in(browser, link)
        assert response.status == 403


async def test_the_session_cookie_is_http_only_and_same_site(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    async with await site.browser() as browser:
        form = await browser.get(await site.link(staff))
        response = await browser.post(
            form.url, data={"csrf": _csrf(await form.text())}, allow_redirects=False
        )
        cookie = response.cookies["helpdesk_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert not cookie["secure"]  # http here; https URLs make it Secure
        assert response.headers["Location"] == "/"


async def test_sessions_end_when_idle_too_long_or_after_a_day(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    async with await site.browser() as browser:
        await site.sign_in(browser, await site.link(staff))
        site.clock.advance(minutes=110)
        assert (await browser.get(site.url("/queue"))).url.path == "/queue"
        site.clock.advance(minutes=121)
        assert (await browser.get(site.url("/queue"))).url.path == "/signed-out"
    async with await site.browser() as browser:
        await site.sign_in(browser, await site.link(staff))
        for _ in range(13):  # busy all day, never idle for long
            site.clock.advance(minutes=59)
            await browser.get(site.url("/queue"))
        assert (await browser.get(site.url("/queue"))).url.path == "/signed-out"


async def test_a_new_role_or_erasure_ends_the_sessions(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    other = await site.person(Role.STAFF, "Vesna")
    async with await site.browser() as mila, await site.browser() as vesna:
        await site.sign_in(mila, await site.link(staff))
        await site.sign_in(vesna, await site.link(other))
        async with site.app.uow() as uow:
            found = await uow.people.get(staff.id or 0)
            assert found is not None
            found.role = Role.OFFICIAL
            await uow.people.save(found)
            await uow.commit()
        assert (await mila.get(site.url("/queue"))).url.path == "/signed-out"
        async with site.app.uow() as uow:
            await erase_person(uow, other.id or 0, "test", site.clock())
            await uow.commit()
        assert (await vesna.get(site.url("/queue"))).url.path == "/signed-out"


async def test_sign_out(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    async with await site.browser() as browser:
        page = await site.sign_in(browser, await site.link(staff))
        out = await browser.post(site.url("/sign-out"), data={"csrf": _csrf(await page.text())})
        assert out.url.path == "/signed-out"
        assert (await browser.get(site.url("/queue"))).url.path == "/signed-out"


async def test_a_post_without_its_csrf_token_is_refused(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    async with await site.browser() as browser:
        page = await site.sign_in(browser, await site.link(staff))
        token = _csrf(await page.text())
        form = {"action": "retire", "id": "lsc-setup", "new": "0"}
        assert (await browser.post(site.url("/kb/save"), data=form)).status == 403
        wrong = {**form, "csrf": token[::-1]}
        assert (await browser.post(site.url("/kb/save"), data=wrong)).status == 403
        async with site.app.uow() as uow:
            entry = await uow.entries.get("lsc-setup")
        assert entry is not None and entry.status is EntryStatus.PUBLISHED
        done = await browser.post(site.url("/kb/save"), data={**form, "csrf": token})
        assert done.status == 200
        async with site.app.uow() as uow:
            entry = await uow.entries.get("lsc-setup")
            events = await uow.audit.find()
        assert entry is not None and entry.status is EntryStatus.RETIRED
        assert events[0].actor == f"Mila (#{staff.id})" and events[0].subject == "entry:lsc-setup"


async def test_a_form_a_use_case_refuses_says_why_and_changes_nothing(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    async with await site.browser() as browser:
        page = await site.sign_in(browser, await site.link(staff))
        form = {"action": "retire", "id": "lsc-setup", "new": "0", "csrf": _csrf(await page.text())}
        assert (await browser.post(site.url("/kb/save"), data=form)).status == 200
        async with site.app.uow() as uow:
            events_before = len(await uow.audit.find())
        # Retired already (in another tab, by someone else): the page says so.
        again = await browser.post(site.url("/kb/save"), data=form)
        assert again.status == 409
        assert "lsc-setup" in await again.text() and "retired" in await again.text()
        async with site.app.uow() as uow:
            assert len(await uow.audit.find()) == events_before


async def test_experts_see_their_own_view_and_never_staff_pages(site: Site) -> None:
    expert = await site.person(Role.EXPERT, "Petar", languages=("en",))
    async with await site.browser() as browser:
        page = await site.sign_in(browser, await site.link(expert))
        assert page.url.path == "/mine"
        token = _csrf(await page.text())
        for path in ("/queue", "/kb", "/kb/lsc-setup", "/people", "/audit", "/reports"):
            response = await browser.get(site.url(path))
            assert response.status == 403, path
        refused = await browser.post(
            site.url("/kb/save"), data={"csrf": token, "action": "retire", "id": "lsc-setup"}
        )
        assert refused.status == 403


async def test_officials_get_no_link(site: Site) -> None:
    official = await site.person(Role.OFFICIAL, "Jovana")
    async with site.app.uow() as uow:
        with pytest.raises(Refused) as refused:
            await issue_link(Context(uow, site.clock()), official)
    assert refused.value.key is Msg.WEB_NOT_FOR_YOU


async def test_sign_in_attempts_are_limited(site: Site) -> None:
    async with await site.browser() as browser:
        form = await browser.get(site.url("/sign-in/guess"))
        token = _csrf(await form.text())
        statuses = [
            (await browser.post(site.url(f"/sign-in/guess{i}"), data={"csrf": token})).status
            for i in range(11)
        ]
    assert statuses[:10] == [403] * 10 and statuses[10] == 429


async def test_every_page_has_a_strict_content_security_policy(site: Site) -> None:
    async with await site.browser() as browser:
        response = await browser.get(site.url("/signed-out"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_markup_in_questions_names_and_entries_is_shown_as_text(site: Site) -> None:
    staff = await site.person(Role.STAFF, f"Mila {HOSTILE}")
    official = await site.person(Role.OFFICIAL, f"Ana {HOSTILE}", city=HOSTILE)
    await site.person(Role.EXPERT, f"Petar {HOSTILE}", languages=("en",), topics=(HOSTILE,))
    async with site.app.uow() as uow:
        await open_ticket(
            Context(uow, site.clock()), official, f"Help {HOSTILE} {HOSTILE_LINK}", language="en"
        )
        await uow.entries.upsert(
            Entry(
                id="hostile",
                title=f"Title {HOSTILE}",
                questions=(f"Question {HOSTILE}",),
                body=f"Body {HOSTILE} {HOSTILE_LINK}",
                city=HOSTILE,
                status=EntryStatus.DRAFT,
            ),
            site.clock(),
            author=f"Mila {HOSTILE}",
        )
        await uow.commit()
    async with await site.browser() as browser:
        page = await site.sign_in(browser, await site.link(staff))
        token = _csrf(await page.text())
        pages = ["/queue", "/tickets/1", "/kb", "/kb/hostile", "/kb/hostile/history"]
        pages += ["/people", "/audit", "/reports", "/gaps"]
        preview = await browser.post(
            site.url("/kb/save"),
            data={
                "csrf": token,
                "action": "preview",
                "id": "hostile",
                "title": "T",
                "questions": "Q",
                "body": f"Body {HOSTILE} {HOSTILE_LINK}",
            },
        )
        texts = [await preview.text()]
        for path in pages:
            response = await browser.get(site.url(path))
            assert response.status == 200, path
            texts.append(await response.text())
    for path, html in zip(["preview", *pages], texts, strict=True):
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert 'href="javascript:' not in html, path
    assert "&lt;script&gt;alert" in texts[2]  # the queue shows the question as text


async def test_an_entry_published_in_the_browser_answers_the_next_question(site: Site) -> None:
    staff = await site.person(Role.STAFF, "Mila")
    knowledge = site.app.helpdesk.knowledge
    await knowledge.refresh()  # the matcher was just checked: its next check is seconds away
    question = "How do we register a community garden plot?"
    async with await site.browser() as browser:
        page = await site.sign_in(browser, await site.link(staff))
        saved = await browser.post(
            site.url("/kb/save"),
            data={
                "csrf": _csrf(await page.text()),
                "action": "publish",
                "new": "1",
                "id": "garden-plots",
                "title": "Community garden plots",
                "questions": question,
                "body": "Apply at the municipal land office with a sketch of the plot.",
            },
        )
        assert saved.status == 200 and saved.url.path == "/kb/garden-plots"
    found = (await knowledge.refresh()).match(question)
    assert found.best is not None and found.best.entry_id == "garden-plots"


async def test_every_page_speaks_each_language_the_bot_speaks(site: Site) -> None:
    official = await site.person(Role.OFFICIAL, "Ana", city="Tuzla")
    await site.person(Role.EXPERT, "Petar", languages=("en",), topics=("youth",))
    async with site.app.uow() as uow:
        await open_ticket(Context(uow, site.clock()), official, "Youth council?", language="bs")
        await uow.commit()
    await import_entries(site.app.uow, ENTRIES, site.clock)
    entry = ENTRIES[0].id
    pages = ["/queue", "/tickets/1", "/kb", "/kb/new", f"/kb/{entry}", f"/kb/{entry}/history"]
    pages += ["/proposals", "/gaps", "/people", "/audit", "/reports", "/mine"]
    english: dict[str, str] = {}
    for code in SUPPORTED_LANGUAGES:
        staff = await site.person(Role.STAFF, f"Staff {code}", languages=(code,))
        async with await site.browser() as browser:
            await site.sign_in(browser, await site.link(staff))
            for path in pages:
                response = await browser.get(site.url(path))
                html = await response.text()
                assert response.status == 200, (code, path)
                assert f'<html lang="{code}">' in html, (code, path)
                # No message key shown in place of its text.
                assert not re.search(r">\s*web\.[a-z_.]+\s*<", html), (code, path)
                if code == "en":
                    english[path] = html
                else:
                    assert html != english[path], (code, path)


async def test_web_in_chat_answers_with_a_link(app: App, clock: FakeClock) -> None:
    await ensure_local_people(app)
    out = io.StringIO()
    chat = ConsoleChat(await open_console(app, out=out), out)
    await chat.type("/as staff")
    printed = await chat.type("/web")
    assert printed.count("http://console.test/sign-in/") == 1 and "15 minutes" in printed
    # The link alone on its line, where a phone makes it a tap target.
    assert re.search(r"^http://console\.test/sign-in/\S+$", printed, re.MULTILINE)
    await chat.type("/as official")
    assert "sign-in" not in await chat.type("/web")


def test_helpdesk_web_link_prints_a_link_last(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("HELPDESK_KNOWLEDGE_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HELPDESK_WEB_URL", "https://hub.example.org/console")
    monkeypatch.setenv("HELPDESK_SEMANTIC_MATCHING", "false")

    async def add_staff() -> int:
        app = await bootstrap(Settings(database_url=database_url, semantic_matching=False))
        try:
            async with app.uow() as uow:
                person = await uow.people.add(
                    Person(name="Mila", role=Role.STAFF, created_at=app.clock())
                )
                await uow.commit()
        finally:
            await app.close()
        assert person.id is not None
        return person.id

    staff_id = asyncio.run(add_staff())
    runner = CliRunner()
    printed = runner.invoke(cli, ["web", "link", str(staff_id)])
    assert printed.exit_code == 0, printed.output
    last = printed.output.strip().splitlines()[-1]
    assert re.fullmatch(r"https://hub\.example\.org/console/sign-in/[A-Za-z0-9_-]{40,}", last)
    missing = runner.invoke(cli, ["web", "link", "99"])
    assert missing.exit_code != 0 and "no person #99" in missing.output

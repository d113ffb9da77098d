"""The web console in a real browser: Debian's Chromium driven by Playwright, against the
console served on a real port by the same code as ``python bot.py``, on a real database.
The official is on the console chat's test transport, so what reaches them is what the
bot would send.

One browser and one server for the module (each test opens a fresh browser context, so
its own cookies): the suite stays quick on two cores. The server runs in a thread with its
own event loop; the tests drive Playwright's synchronous API and hand coroutines to that
loop.

Each scenario takes a screenshot; with HELPDESK_UPDATE_SCREENSHOTS=1 they are written to
docs/screenshots/ (the ones the docs show), otherwise to a temporary folder."""

import asyncio
import io
import os
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image

from helpdesk.bootstrap import App, bootstrap
from helpdesk.domain.curation import Proposal
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.services.context import Context
from helpdesk.services.conversation import Inbound
from helpdesk.services.delivery import deliver_pending
from helpdesk.services.knowledge import import_entries
from helpdesk.services.web_access import issue_link, sign_in_url
from helpdesk.settings import Settings
from helpdesk.web.server import HttpServers
from helpdesk.web_commands import http_servers
from tests.servers.browser import find_chromium
from tests.servers.net import free_port
from tests.support import ENTRIES, Delivered, RecordingTransport

playwright_sync = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
UNMATCHED = "Who pays for the night bus between Nikšić and the villages in winter?"
T = TypeVar("T")


class Served:
    """The helpdesk and its console in a thread of their own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.transport = RecordingTransport("console")
        self.people: dict[str, Person] = {}
        self.port = free_port()
        self._messages = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=60)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        settings = Settings(
            database_url=f"sqlite:///{self.folder / 'helpdesk.db'}",
            knowledge_dir=self.folder / "knowledge",
            semantic_matching=False,
            web_port=self.port,
            web_listen="127.0.0.1",
        )
        self.app: App = await bootstrap(settings)
        await import_entries(self.app.uow, ENTRIES, self.app.clock)
        for address, role, name in (
            ("official", Role.OFFICIAL, "Jovana Petrović"),
            ("expert", Role.EXPERT, "Petar Marković"),
            ("staff", Role.STAFF, "Mila Hub"),
        ):
            async with self.app.uow() as uow:
                self.people[address] = await uow.people.add(
                    Person(
                        name=name,
                        role=role,
                        city="Nikšić" if role is Role.OFFICIAL else "Skopje",
                        languages=("en",),
                        identities=[ChatIdentity("console", address)],
                        created_at=self.app.clock(),
                    )
                )
                await uow.commit()
        self.servers: HttpServers = await http_servers(self.app, settings, lambda: None, [])

    def stop(self) -> None:
        async def close() -> None:
            await self.servers.close()
            await self.app.close()

        self.run(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def say(self, address: str, text: str) -> list[Delivered]:
        """A chat message from ``address``; what the bot sent to anyone because of it."""
        self._messages += 1
        before = len(self.transport.sent)

        async def turn() -> None:
            await self.app.helpdesk.handle(
                Inbound("console", address, text, message_id=f"m{self._messages}")
            )
            await self.deliver()

        self.run(turn())
        return self.transport.sent[before:]

    async def deliver(self) -> None:
        await deliver_pending(self.app.uow, {"console": self.transport}, self.app.clock)

    def delivered(self) -> list[Delivered]:
        """Whatever the console wrote since (an answer from the web, say)."""
        before = len(self.transport.sent)
        self.run(self.deliver())
        return self.transport.sent[before:]

    def link(self, address: str) -> str:
        async def issue() -> str:
            async with self.app.uow() as uow:
                token = await issue_link(Context(uow, self.app.clock()), self.people[address])
                await uow.commit()
            return token

        return sign_in_url(self.url, self.run(issue()))

    def entry(self, entry_id: str) -> Entry:
        async def get() -> Entry | None:
            async with self.app.uow() as uow:
                return await uow.entries.get(entry_id)

        found = self.run(get())
        assert found is not None
        return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("web"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (python -m tests.prepare installs it)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@dataclass
class Tab:
    page: Any
    shots: Path

    def shot(self, name: str) -> None:
        """A screenshot, in 256 colours: small enough to keep in the repository."""
        data = self.page.screenshot(full_page=True)
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        self.shots.mkdir(parents=True, exist_ok=True)
        image.save(self.shots / f"{name}.png", optimize=True)


@pytest.fixture
def tab(browser: Any, tmp_path: Path) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    shots = SHOTS if os.environ.get("HELPDESK_UPDATE_SCREENSHOTS") else tmp_path
    yield Tab(page, shots)
    context.close()
    assert not dialogs, f"a script ran in the page: {dialogs}"


def sign_in(tab: Tab, link: str) -> None:
    tab.page.goto(link)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_load_state()


def test_staff_signs_in_by_link_and_sees_a_new_ticket(served: Served, tab: Tab) -> None:
    sent = served.say("official", UNMATCHED)
    assert any("ticket #" in d.text for d in sent if d.address == "official")
    tab.page.goto(served.link("staff"))
    tab.shot("sign-in")
    tab.page.get_by_role("button", name="Sign in").click()
    assert tab.page.url.endswith("/queue")
    assert tab.page.get_by_role("link", name=UNMATCHED).is_visible()
    tab.shot("queue")


def test_staff_answer_reaches_the_official_in_chat(served: Served, tab: Tab) -> None:
    served.say("official", "How do municipalities share data with the police on youth at risk?")
    sign_in(tab, served.link("staff"))
    tab.page.get_by_role("link", name="How do municipalities share data").first.click()
    answer = "Agree a protocol first; the Danilovgrad council's template is a good start."
    tab.page.get_by_label("Your answer").fill(answer)
    tab.page.get_by_role("button", name="Preview").click()
    assert tab.page.locator(".preview").inner_text().endswith(answer)
    tab.shot("ticket")
    tab.page.get_by_role("button", name="Send the answer").click()
    assert "Answer sent" in tab.page.locator(".flash").inner_text()
    to_official = [d for d in served.delivered() if d.address == "official"]
    assert len(to_official) == 1 and answer in to_official[0].text


def test_edit_and_publish_an_entry_and_the_chat_answers_with_it(served: Served, tab: Tab) -> None:
    sign_in(tab, served.link("staff"))
    tab.page.goto(served.url + "/kb")
    tab.shot("knowledge-base")
    tab.page.get_by_role("link", name="Setting up a Local Safety Council").click()
    new_body = "Start with a map of local threats, then **agree terms of reference** (2026)."
    tab.page.get_by_label("Answer (Markdown)").first.fill(new_body)
    tab.page.get_by_role("button", name="Preview").click()
    assert tab.page.locator(".preview strong").inner_text() == "agree terms of reference"
    tab.shot("entry-editor")
    tab.page.get_by_role("button", name="Save and publish").click()
    assert "Published" in tab.page.locator(".flash").inner_text()
    replies = served.say("official", "How do we set up a local safety council?")
    assert any("agree terms of reference" in d.text for d in replies)
    written = (served.folder / "knowledge" / "lsc-setup.md").read_text()
    assert "agree terms of reference" in written


def test_restore_an_older_version(served: Served, tab: Tab) -> None:
    sign_in(tab, served.link("staff"))
    original = ENTRIES[1].body
    tab.page.goto(served.url + "/kb/youth-engagement")
    tab.page.get_by_label("Answer (Markdown)").first.fill("A worse answer, written in haste.")
    tab.page.get_by_role("button", name="Save and publish").click()
    tab.page.get_by_role("link", name="History").click()
    assert tab.page.locator(".diff .add").first.inner_text().startswith("+A worse answer")
    tab.shot("history")
    tab.page.get_by_role("button", name="Restore v1").click()
    assert "Version restored" in tab.page.locator(".flash").inner_text()
    restored = served.entry("youth-engagement")
    assert restored.body == original and restored.status is EntryStatus.PUBLISHED


def test_accept_a_proposal(served: Served, tab: Tab) -> None:
    async def propose() -> None:
        async with served.app.uow() as uow:
            await uow.proposals.add(
                Proposal(
                    entry_id="returnee-reintegration",
                    text="What should we tell neighbours before families of fighters return?",
                    created_at=served.app.clock(),
                    language="en",
                )
            )
            await uow.commit()

    served.run(propose())
    sign_in(tab, served.link("staff"))
    tab.page.goto(served.url + "/proposals")
    tab.shot("proposals")
    tab.page.get_by_role("button", name="Accept").first.click()
    assert "Proposal accepted" in tab.page.locator(".flash").inner_text()
    entry = served.entry("returnee-reintegration")
    assert entry.questions[-1].startswith("What should we tell neighbours")


def test_invite_an_expert(served: Served, tab: Tab) -> None:
    sign_in(tab, served.link("staff"))
    tab.page.goto(served.url + "/people")
    tab.shot("people")
    form = tab.page.locator("form[action='/invites']")
    form.locator("select[name=role]").select_option("expert")
    form.locator("input[name=name]").fill("Arta Krasniqi")
    form.locator("input[name=city]").fill("Prishtina")
    form.locator("input[name=languages]").fill("sq, en")
    tab.page.get_by_role("button", name="Create the invitation").click()
    code = tab.page.locator("code.code").inner_text().removeprefix("/start ").strip()
    assert tab.page.locator(".qr svg").count() == 1
    tab.shot("invitation")
    welcome = served.say("arta", f"/start {code}")
    assert welcome and "expert" in welcome[0].text.lower()


def test_experts_see_their_tickets_and_no_staff_page(served: Served, tab: Tab) -> None:
    served.say("official", "Is there a checklist for opening a youth centre in a small town?")
    sign_in(tab, served.link("expert"))
    assert tab.page.url.endswith("/mine")
    tab.shot("expert-view")
    for path in ("/queue", "/kb", "/people", "/audit"):
        response = tab.page.goto(served.url + path)
        assert response is not None and response.status == 403, path
    assert "for the hub's staff" in tab.page.content()


def test_a_used_or_expired_link_is_refused(served: Served, tab: Tab, browser: Any) -> None:
    link = served.link("staff")
    sign_in(tab, link)
    other = browser.new_context().new_page()
    try:
        other.goto(link)
        other.get_by_role("button", name="Sign in").click()
        assert "not valid any more" in other.content()
        Tab(other, tab.shots).shot("link-refused")
    finally:
        other.context.close()


def test_a_post_without_its_csrf_token_is_refused(served: Served, tab: Tab) -> None:
    sign_in(tab, served.link("staff"))
    response = tab.page.context.request.post(
        served.url + "/kb/save", form={"action": "retire", "id": "lsc-setup"}
    )
    assert response.status == 403
    assert served.entry("lsc-setup").status is EntryStatus.PUBLISHED


def test_markup_and_script_are_shown_as_text(served: Served, tab: Tab) -> None:
    async def hostile() -> None:
        async with served.app.uow() as uow:
            await uow.people.add(
                Person(
                    name=f"Eve {HOSTILE}",
                    role=Role.OFFICIAL,
                    city=HOSTILE,
                    identities=[ChatIdentity("console", "eve")],
                    created_at=served.app.clock(),
                )
            )
            await uow.entries.upsert(
                Entry(
                    id="hostile-entry",
                    title=f"Entry {HOSTILE}",
                    questions=(f"Question {HOSTILE}",),
                    body=f"Body {HOSTILE} [click me](javascript:alert(1))",
                    status=EntryStatus.DRAFT,
                ),
                served.app.clock(),
            )
            await uow.commit()

    served.run(hostile())
    replies = served.say("eve", f"Help with {HOSTILE} please, nobody in our city knows")
    assert any("ticket #" in d.text for d in replies), [d.text for d in replies]
    sign_in(tab, served.link("staff"))
    tab.page.goto(served.url + "/queue")
    shown = tab.page.locator("td.question", has_text='<script>alert("x")</script>')
    assert shown.first.is_visible()
    tab.shot("markup-as-text")
    tab.page.get_by_role("link", name="Help with").first.click()
    tab.page.goto(served.url + "/kb/hostile-entry")
    tab.page.get_by_role("button", name="Preview").click()
    assert tab.page.locator(".preview a[href^='javascript']").count() == 0
    for path in ("/people", "/audit", "/gaps", "/reports"):
        tab.page.goto(served.url + path)
    assert tab.page.locator("script:not([src])").count() == 0


def test_reports_gaps_and_audit(served: Served, tab: Tab) -> None:
    sign_in(tab, served.link("staff"))
    for path, name in (("/reports", "reports"), ("/gaps", "gaps"), ("/audit", "audit")):
        response = tab.page.goto(served.url + path)
        assert response is not None and response.status == 200, path
        tab.shot(name)
    tab.page.goto(served.url + "/reports")
    assert tab.page.locator("svg.chart").count() >= 2
    csv = tab.page.context.request.get(served.url + "/reports.csv")
    assert csv.status == 200 and csv.text().startswith("week,questions,answered")


def test_the_queue_fits_a_phone(served: Served, browser: Any, tab: Tab) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        phone = Tab(context.new_page(), tab.shots)
        sign_in(phone, served.link("staff"))
        phone.shot("queue-phone")
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()

"""One bot process on Matrix and Telegram at once: an expert on one platform answers an
official on the other, and the adapters know nothing of each other."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import BotProcess, MatrixUser, People
from tests.e2e.test_telegram import TOKEN, buttons
from tests.servers.synapse import Homeserver
from tests.servers.telegram import BotApiServer, SimUser

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

QUESTION = "Who decides the budget line for street lighting in rural villages?"


class BothBot(BotProcess):
    def __init__(self, server: Homeserver, api: BotApiServer, base: Path) -> None:
        self.api = api
        password = secrets.token_hex(8)
        self.user_id = server.register(f"helpdesk-{secrets.token_hex(3)}", password)
        super().__init__(
            base,
            {
                "HELPDESK_MATRIX_HOMESERVER": server.url,
                "HELPDESK_MATRIX_USER_ID": self.user_id,
                "HELPDESK_MATRIX_PASSWORD": password,
                "HELPDESK_MATRIX_STORE_PATH": str(base / "matrix-store"),
                "HELPDESK_TELEGRAM_TOKEN": TOKEN,
                "HELPDESK_TELEGRAM_BASE_URL": api.url,
            },
        )

    async def on_telegram(self, name: str, role: str, *extra: str) -> SimUser:
        user = self.api.user(name.title())
        code = await self.invite(role, "--name", name.title(), *extra)
        self.api.send(user, f"/start {code}")
        await self.api.expect(user.id, f"Welcome, {name.title()}")
        return user

    async def on_matrix(self, people: People, name: str, role: str, *extra: str) -> MatrixUser:
        user = people.make(name)
        await user.login()
        await user.open_chat(self.user_id)
        code = await self.invite(role, "--name", name.title(), *extra)
        await user.say(f"/start {code}")
        await user.expect(f"Welcome, {name.title()}")
        return user


@pytest.fixture
def both(homeserver: Homeserver, tmp_path: Path, engine: str) -> Iterator[BothBot]:
    with BotApiServer(TOKEN) as api:
        running = BothBot(homeserver, api, tmp_path / "bot")
        running.start()
        yield running
        running.stop()


async def test_an_expert_on_matrix_answers_an_official_on_telegram(
    both: BothBot, people: People
) -> None:
    vesna = await both.on_matrix(people, "vesna", "expert", "--languages", "en")
    ana = await both.on_telegram("ana", "official", "--languages", "en")
    both.api.send(ana, QUESTION)
    await both.api.expect(ana.id, "passed your question to an expert (ticket #1)")
    notice = await vesna.expect("New question for you: ticket #1")
    await vesna.say("The municipal council adopts it.", reply_to=notice.event_id)
    answer = await both.api.expect(ana.id, "An expert answered your question (ticket #1)")
    assert "The municipal council adopts it." in answer.text


async def test_an_expert_on_telegram_answers_an_official_on_matrix(
    both: BothBot, people: People
) -> None:
    goran = await both.on_telegram("goran", "expert", "--languages", "en")
    boris = await both.on_matrix(people, "boris", "official", "--languages", "en")
    await boris.say(QUESTION)
    await boris.expect("passed your question to an expert (ticket #1)")
    notice = await both.api.expect(goran.id, "New question for you: ticket #1")
    assert buttons(notice) == {"I can't take it": "/decline 1"}
    both.api.send(goran, "Ask the finance department first.", reply_to=notice.message_id)
    answer = await boris.expect("An expert answered your question (ticket #1)")
    assert "Ask the finance department first." in answer.body

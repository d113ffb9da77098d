"""What one message costs the bot: SQL statements and transactions per question, and CPU
per message, for lexical and hybrid matching on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.per_message [--messages 300] [--engine sqlite]
        [--matching lexical] [--kinds] [--storage-only]

In one process, as the bot runs them: ``Helpdesk.handle`` for each question of the
labelled set (tests/data/questions.jsonl, in order, from 50 officials in turn, with 5
experts to route tickets to), and the outbox relay delivering the replies to a transport
that takes them at once. Statements and transactions are counted by SQLAlchemy's engine
events (every statement sent to the driver, every transaction begun), CPU by
``time.process_time`` (every thread of the process: the embedding model's too) over the
whole run, divided by the messages. The rows split the questions by what became of them:
answered from the base, offered suggestions, or passed to an expert. ``--kinds`` lists
the statements by kind; ``--storage-only`` runs only the statements of an answered
question through the repositories (``storage_only``), for the storage layer's share.
"""

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.common import ROOT, project_questions
from helpdesk.adapters.contract import Inbound
from helpdesk.bootstrap import App, bootstrap, import_knowledge_if_empty
from helpdesk.domain.actions import GiveFeedback
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Action, AskedQuestion, Feedback
from helpdesk.i18n import Button, Msg, Reply, Text
from helpdesk.services.choices import offered
from helpdesk.services.delivery import OutboxRelay
from helpdesk.settings import Settings

OFFICIALS = 50
# Experts to route tickets to, as a hub has: an escalation then costs what it costs in
# use (the expert chosen, told, and reminded later), not only an alert to nobody.
EXPERTS = 5
_PATIENCE = 20.0  # seconds to wait for a reply before counting a message as unanswered
PLATFORM = "telegram"


class Counting:
    """Statements and transactions sent to the database, from the engine's events."""

    def __init__(self, app: App) -> None:
        self.statements = 0
        self.transactions = 0
        self.kinds: Counter[str] = Counter()
        engine = app.database.work_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        self.kinds[" ".join(statement.split()[:3])[:60]] += 1

    def _begin(self, _conn: Any) -> None:
        self.transactions += 1


@dataclass
class Instant:
    """A transport that takes every message at once (what the relay does around it is
    measured, not the network)."""

    platform: str = PLATFORM
    sent: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    last: str = ""  # what the last reply was: an answer, suggestions, or anything else

    @property
    def ready(self) -> bool:
        return True

    async def send(self, address: str, reply: Reply, language: str | None, key: str) -> str:
        self.sent += 1
        actions = {type(b.action).__name__ for b in reply.buttons}
        self.last = (
            "answer"
            if "GiveFeedback" in actions
            else "suggestions"
            if "PickSuggestion" in actions
            else "ticket or other"
        )
        self.arrived.set()
        return f"{address}:{self.sent}"


@dataclass
class Figures:
    messages: int = 0
    statements: int = 0
    transactions: int = 0
    by_action: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)
    cpu: float = 0.0
    model_share: float | None = None
    kinds: Counter[str] = field(default_factory=Counter)


async def _officials(app: App, now: datetime) -> list[ChatIdentity]:
    """The officials who ask (their identities), and the experts who answer them."""
    identities = [ChatIdentity(PLATFORM, str(1000 + i)) for i in range(OFFICIALS)]
    async with app.uow() as uow:
        for i, identity in enumerate(identities):
            await uow.people.add(
                Person(
                    f"Official {i}",
                    Role.OFFICIAL,
                    languages=("en",),
                    identities=[identity],
                    created_at=now,
                )
            )
        for i in range(EXPERTS):
            await uow.people.add(
                Person(
                    f"Expert {i}",
                    Role.EXPERT,
                    languages=SUPPORTED_LANGUAGES,
                    # Nobody answers here: room for every ticket, as if they kept up.
                    capacity=100_000,
                    identities=[ChatIdentity(PLATFORM, str(2000 + i))],
                    created_at=now,
                )
            )
        await uow.commit()
    return identities


async def measure(database_url: str, semantic: bool, messages: int, folder: Path) -> Figures:
    """Handle ``messages`` questions and deliver their replies; the counts per question."""
    settings = Settings(
        database_url=database_url,
        knowledge_dir=ROOT / "knowledge",
        semantic_matching=semantic,
        max_messages_per_minute=100_000,
        _env_file=None,  # type: ignore[call-arg]
    )
    os.chdir(folder)  # where the bot would write published entries; none are
    app = await bootstrap(settings)
    try:
        await import_knowledge_if_empty(app)
        await app.knowledge.refresh()
        await asyncio.to_thread(app.helpdesk.languages.load)
        identities = await _officials(app, app.clock())
        questions = project_questions()
        transport = Instant()
        relay = OutboxRelay(app.uow, {PLATFORM: transport}, app.clock)
        if hasattr(relay, "hand"):  # as the runner wires them (older versions: wake)
            app.helpdesk.on_queued = relay.hand
        stop = asyncio.Event()
        delivering = asyncio.create_task(relay.run(stop))
        # One warm-up question per official: the first of anything compiles statements.
        for n, identity in enumerate(identities):
            await _one(app, relay, transport, identity, f"warm-{n}", questions[n].question)
        counting = Counting(app)
        figures = Figures(messages=messages)
        model_calls = _count_model_calls(app)
        started = time.process_time()
        for n in range(messages):
            identity = identities[n % len(identities)]
            before = (counting.statements, counting.transactions, time.process_time())
            text = questions[n % len(questions)].question
            await _one(app, relay, transport, identity, str(n), text)
            figures.by_action.setdefault(transport.last, []).append(
                (
                    counting.statements - before[0],
                    counting.transactions - before[1],
                    time.process_time() - before[2],
                )
            )
        figures.cpu = (time.process_time() - started) / messages
        figures.statements = counting.statements
        figures.transactions = counting.transactions
        figures.kinds = counting.kinds
        if model_calls is not None:
            figures.model_share = model_calls[0] / messages
        stop.set()
        relay.wake()
        await delivering
        return figures
    finally:
        await app.close()


async def _one(
    app: App, relay: OutboxRelay, transport: Instant, who: ChatIdentity, key: str, text: str
) -> None:
    """One message handled as the runner handles it, and waited for until delivered."""
    transport.arrived.clear()
    sent = transport.sent
    await app.helpdesk.handle(
        Inbound(PLATFORM, who.address, text, message_id=f"{who.address}:{key}")
    )
    if not hasattr(relay, "hand"):
        relay.wake()
    deadline = asyncio.get_running_loop().time() + _PATIENCE
    while transport.sent == sent:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            transport.last = "no reply"
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(transport.arrived.wait(), left)
        transport.arrived.clear()


async def storage_only(database_url: str, messages: int, folder: Path) -> Figures:
    """The statements of a question answered from the base, and nothing else: the person,
    the inbound claim, the question, the reply and its menu (read, then written), one
    commit; then the reply taken for delivery and marked delivered, another commit. What
    the storage layer costs of a message, beside what the whole message costs."""
    settings = Settings(
        database_url=database_url,
        knowledge_dir=ROOT / "knowledge",
        semantic_matching=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    os.chdir(folder)
    app = await bootstrap(settings)
    try:
        identities = await _officials(app, app.clock())
        questions = project_questions()

        async def one(n: int) -> None:
            who = identities[n % len(identities)]
            asked = questions[n % len(questions)].question
            now = app.clock()
            async with app.uow() as uow:
                person = await uow.people.by_identity(who)
                assert person is not None and person.id is not None
                await uow.inbound.claim(PLATFORM, f"storage-{n}", person.id, now)
                await uow.people.touch(who, now)
                question = AskedQuestion(
                    person.id, asked, asked.lower(), Action.ANSWER, created_at=now
                )
                await uow.questions.add(question)
                assert question.id is not None
                rate = GiveFeedback(question.id, Feedback.HELPFUL)
                reply = Reply(
                    (Text(Msg.DIGEST_TOP),), buttons=(Button(Text(Msg.BUTTON_HELPFUL), rate),)
                )
                item = await uow.outbox.add(who, person.id, "en", reply, now)
                menus = await uow.menus.get(person.id)
                await uow.menus.set(person.id, offered(menus, reply), now)
                await uow.commit()
            async with app.uow() as uow:
                for taken in await uow.outbox.take([item], [PLATFORM], now):
                    await uow.outbox.mark_all_delivered([(taken.id, f"sent-{n}")], now)
                await uow.commit()

        for n in range(OFFICIALS):  # the first of anything compiles statements
            await one(n)
        counting = Counting(app)
        started = time.process_time()
        for n in range(OFFICIALS, OFFICIALS + messages):
            await one(n)
        return Figures(
            messages=messages,
            statements=counting.statements,
            transactions=counting.transactions,
            cpu=(time.process_time() - started) / messages,
            kinds=counting.kinds,
        )
    finally:
        await app.close()


def _count_model_calls(app: App) -> list[int] | None:
    """Count the questions the embedding model is asked to embed (hybrid only)."""
    embedder = app.knowledge.embedder
    if embedder is None:
        return None
    calls = [0]
    original = embedder.embed_questions

    def counted(texts: Any) -> Any:
        calls[0] += len(texts)
        return original(texts)

    embedder.embed_questions = counted  # type: ignore[method-assign]
    return calls


def _mean(values: list[int] | list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(engine: str, matching: str, figures: Figures) -> list[str]:
    lines = []
    total = figures.messages
    share = (
        f"{figures.model_share:.0%}" if figures.model_share is not None else "–"
    )  # of questions that needed the model
    lines.append(
        f"| {engine} | {matching} | all ({total}) | {figures.statements / total:.1f} | "
        f"{figures.transactions / total:.2f} | {figures.cpu * 1000:.1f} | {share} |"
    )
    for action, costs in sorted(figures.by_action.items()):
        lines.append(
            f"| {engine} | {matching} | {action} ({len(costs)}) | "
            f"{_mean([s for s, _, _ in costs]):.1f} | {_mean([t for _, t, _ in costs]):.2f} | "
            f"{_mean([c for _, _, c in costs]) * 1000:.1f} | |"
        )
    return lines


def _database(engine: str, folder: Path) -> tuple[str, Any]:
    if engine == "sqlite":
        return f"sqlite:///{folder / 'helpdesk.db'}", None
    from tests.servers.postgres import PostgresServer

    server = PostgresServer.create()
    server.start()
    return server.new_database(), server


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--matching", choices=["lexical", "hybrid", "both"], default="both")
    parser.add_argument("--kinds", action="store_true", help="list the statements by kind")
    parser.add_argument(
        "--storage-only",
        action="store_true",
        help="only the statements of an answered question, through the repositories",
    )
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    matchings = ["lexical", "hybrid"] if args.matching == "both" else [args.matching]
    lines = [
        "| engine | matching | questions | statements | transactions | CPU ms/message "
        "| needed the model |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for engine in engines:
        for matching in matchings:
            folder = Path(tempfile.mkdtemp(prefix="per-message-"))
            url, server = _database(engine, folder)
            try:
                if args.storage_only:
                    figures = await storage_only(url, args.messages, folder)
                else:
                    figures = await measure(url, matching == "hybrid", args.messages, folder)
            finally:
                if server is not None:
                    server.stop()
            if args.storage_only:
                rows = report(engine, "storage only", figures)[:1]
                print("\n".join(rows), flush=True)
                lines += rows
                break  # matching plays no part
            rows = report(engine, matching, figures)
            print("\n".join(rows), flush=True)
            if args.kinds:
                for kind, count in figures.kinds.most_common():
                    print(f"    {count / figures.messages:6.2f}  {kind}")
            lines += rows


if __name__ == "__main__":
    asyncio.run(main())

"""A realistic history to look at the reports with: months of officials asking, through
the real helpdesk (matching, tickets, experts answering, feedback), on a clock that runs
fast.

    .venv/bin/python -m benchmarks.history --db /tmp/history.db [--questions 3000]
    HELPDESK_DATABASE_URL=sqlite:////tmp/history.db .venv/bin/python -m helpdesk report gaps
    HELPDESK_DATABASE_URL=sqlite:////tmp/history.db .venv/bin/python -m helpdesk report --png c.png

Questions come from tests/data/questions.jsonl (every language, out-of-scope ones too),
some with typos; use grows over the weeks; experts answer tickets hours later; officials
give feedback on some answers.
"""

import argparse
import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpdesk.bootstrap import bootstrap, import_knowledge_if_empty
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Action
from helpdesk.domain.tickets import TicketStatus
from helpdesk.services.conversation import Inbound
from helpdesk.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "history"
COUNTRIES = {
    "Bosnia and Herzegovina": ("bs", "en"),
    "Serbia": ("sr", "en"),
    "Montenegro": ("cnr", "en"),
    "North Macedonia": ("mk", "en"),
    "Albania": ("sq", "en"),
    "Kosovo": ("sq", "sr-Latn"),
    "Croatia": ("hr", "en"),
}


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def typo(text: str, rng: random.Random) -> str:
    """One swapped or dropped letter: what people type on phones."""
    if len(text) < 12:
        return text
    i = rng.randrange(1, len(text) - 2)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]


async def generate(database: Path, questions: int, weeks: int, seed: int) -> None:
    rng = random.Random(seed)
    labelled = [
        json.loads(line)
        for line in (ROOT / "tests/data/questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(weeks=weeks)
    clock = Clock(start)
    settings = Settings(
        database_url=f"sqlite:///{database}",
        knowledge_dir=ROOT / "knowledge",
        semantic_matching=False,
    )
    app = await bootstrap(settings, clock=clock)
    try:
        await import_knowledge_if_empty(app)
        async with app.uow() as uow:
            officials = []
            for i in range(42):
                country = list(COUNTRIES)[i % len(COUNTRIES)]
                person = Person(
                    f"Official {i}",
                    Role.OFFICIAL,
                    city=f"Town {i}",
                    country=country,
                    languages=COUNTRIES[country],
                    identities=[ChatIdentity(PLATFORM, f"official-{i}")],
                    created_at=start,
                )
                officials.append(await uow.people.add(person))
            for i in range(8):
                await uow.people.add(
                    Person(
                        f"Expert {i}",
                        Role.EXPERT,
                        languages=("en", "bs", "sr", "mk", "sq", "hr", "cnr", "sr-Latn", "fr"),
                        capacity=500,
                        identities=[ChatIdentity(PLATFORM, f"expert-{i}")],
                        created_at=start,
                    )
                )
            await uow.commit()
        await app.knowledge.refresh()
        span = timedelta(weeks=weeks).total_seconds()
        # Use grows over the months: the n-th question comes at (n/N)^0.7 of the span.
        times = sorted(
            start + timedelta(seconds=span * (n / questions) ** 0.7) for n in range(questions)
        )
        answers: list[tuple[datetime, int]] = []
        for n, at in enumerate(times):
            clock.now = at
            while answers and answers[0][0] <= at:
                _, number = answers.pop(0)
                await _answer(app, number)
            item = rng.choice(labelled)
            text = typo(item["question"], rng) if rng.random() < 0.2 else item["question"]
            official = rng.choice(officials)
            address = official.identities[0].address
            await app.helpdesk.handle(Inbound(PLATFORM, address, text, f"q{n}"))
            async with app.uow() as uow:
                recorded = await uow.questions.since(at)
            if not recorded:
                continue  # small talk or gibberish: answered, but not a question
            asked = recorded[-1]
            if asked.action is Action.ANSWER and rng.random() < 0.5:
                verdict = "helpful" if rng.random() < 0.8 else "not_helpful"
                await app.helpdesk.handle(
                    Inbound(PLATFORM, address, f"/feedback {asked.id} {verdict}", f"f{n}")
                )
            if asked.ticket_id is not None and rng.random() < 0.85:
                delay = timedelta(hours=rng.lognormvariate(2.5, 0.8))
                answers.append((at + delay, asked.ticket_id))
                answers.sort()
        print(f"{questions} questions over {weeks} weeks written to {database}")
    finally:
        await app.close()


async def _answer(app: object, number: int) -> None:
    from helpdesk.bootstrap import App

    assert isinstance(app, App)
    async with app.uow() as uow:
        ticket = await uow.tickets.get(number)
        expert = await uow.people.get(ticket.assignee_id) if ticket and ticket.assignee_id else None
    if ticket is None or expert is None or ticket.status is not TicketStatus.ASSIGNED:
        return
    await app.helpdesk.handle(
        Inbound(
            PLATFORM,
            expert.identities[0].address,
            f"/answer {number} Thank you for the question; here is what worked elsewhere.",
            f"a{number}",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.db.exists():
        raise SystemExit(f"{args.db} exists: give a new file")
    asyncio.run(generate(args.db, args.questions, args.weeks, args.seed))


if __name__ == "__main__":
    main()

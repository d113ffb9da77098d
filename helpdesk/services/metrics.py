"""Counters for Prometheus: what the helpdesk does, per process.

Module-level, as Prometheus clients are: every worker exposes its own figures and
Prometheus adds them up. Nothing here does I/O; ``helpdesk.observability`` serves them.
Counted where the work is decided; a turn that then rolls back is rare enough (a crash)
that the figures stay honest.
"""

from prometheus_client import Counter, Histogram

__all__ = [
    "count_escalation",
    "count_question",
    "count_sent",
    "count_statement",
    "count_transaction",
    "observe_first_answer",
]

QUESTIONS = Counter(
    "helpdesk_questions", "Questions asked, by the matcher's decision", ["decision"]
)
ESCALATIONS = Counter("helpdesk_escalations", "Questions handed to the expert pool as tickets")
FIRST_ANSWER = Histogram(
    "helpdesk_time_to_first_answer_seconds",
    "From a ticket's creation to its first expert answer",
    buckets=(60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400),
)
SENT = Counter("helpdesk_messages_sent", "Messages delivered, by platform", ["platform"])
SEND_FAILURES = Counter(
    "helpdesk_send_failures", "Failed delivery attempts (retried later), by platform", ["platform"]
)
# What the database is asked: over the questions counted above, the cost of each.
STATEMENTS = Counter("helpdesk_database_statements", "SQL statements sent by units of work")
TRANSACTIONS = Counter("helpdesk_database_transactions", "Transactions begun by units of work")


def count_question(decision: str) -> None:
    QUESTIONS.labels(decision=decision).inc()


def count_escalation() -> None:
    ESCALATIONS.inc()


def observe_first_answer(seconds: float) -> None:
    FIRST_ANSWER.observe(max(seconds, 0.0))


def count_sent(platform: str, ok: bool) -> None:
    (SENT if ok else SEND_FAILURES).labels(platform=platform).inc()


def count_statement() -> None:
    STATEMENTS.inc()


def count_transaction() -> None:
    TRANSACTIONS.inc()

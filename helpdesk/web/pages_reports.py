"""Reports: the figures of ``helpdesk stats`` as charts, each linking to the tickets
behind it, and the weekly figures as CSV."""

import csv
import io
from collections import Counter
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from helpdesk.domain.questions import Feedback
from helpdesk.domain.schedule import describe_duration
from helpdesk.domain.tickets import TicketStatus
from helpdesk.i18n import Msg
from helpdesk.services.reports import summarise, weekly
from helpdesk.web.app import CONSOLE_KEY, Page, render, signed_person, staff_only
from helpdesk.web.svg import Bar, Segment, bars, stacked_bars

__all__ = ["add_routes"]

_WAITS = (  # how long the first answer took, in buckets staff think in
    (timedelta(hours=1), "< 1h"),
    (timedelta(days=1), "< 1d"),
    (timedelta(days=3), "< 3d"),
    (timedelta(days=7), "< 7d"),
    (timedelta.max, "≥ 7d"),
)


def _days(request: web.Request) -> int:
    try:
        return min(max(int(request.query.get("days", "90")), 7), 3650)
    except ValueError:
        return 90


@staff_only
async def reports(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    language = me.ui_language or me.last_language or "en"

    def t(key: Msg) -> str:
        return console.translator.translate(key, language, {})

    def queue(**query: str) -> str:
        return f"{console.root}/queue?{urlencode({'status': 'all', **query})}"

    days = _days(request)
    now = console.clock()
    since = now - timedelta(days=days)
    async with console.uow() as uow:
        questions = await uow.questions.since(since)
        tickets = await uow.tickets.changed_since(since)
        people = {p.id: p for p in await uow.people.all() if p.id is not None}
    summary = summarise(questions, tickets, people, since)
    weeks = weekly(questions)
    week_chart = stacked_bars(
        [
            Bar(
                f"{w.start:%d %b}",
                (
                    Segment(w.answered, "answered", t(Msg.WEB_REPORT_ANSWERED)),
                    Segment(w.suggested, "suggested", t(Msg.WEB_REPORT_SUGGESTED)),
                    Segment(w.escalated, "escalated", t(Msg.WEB_REPORT_ESCALATED)),
                ),
                queue(week=w.start.isoformat()),
            )
            for w in weeks
        ],
        t(Msg.WEB_REPORT_WEEKLY),
    )
    waits: Counter[str] = Counter()
    for ticket in tickets:
        first = ticket.first_answered_at
        if first is None:
            continue
        took = first - ticket.created_at
        waits[next(label for limit, label in _WAITS if took < limit)] += 1
    wait_chart = bars([(label, waits[label], None) for _, label in _WAITS], t(Msg.WEB_REPORT_WAITS))
    rating_chart = bars(
        [
            (t(Msg.WEB_REPORT_HELPFUL), summary.helpful, queue(rating=Feedback.HELPFUL.value)),
            (
                t(Msg.WEB_REPORT_NOT_HELPFUL),
                summary.not_helpful,
                queue(rating=Feedback.NOT_HELPFUL.value),
            ),
        ],
        t(Msg.WEB_REPORT_RATINGS),
    )
    language_chart = bars(
        [(code, count, queue(language=code)) for code, count in summary.by_language.items()],
        t(Msg.WEB_REPORT_LANGUAGES),
    )
    topics = Counter(topic for ticket in tickets for topic in ticket.topics)
    topic_chart = bars(
        [(topic, count, queue(topic=topic)) for topic, count in topics.most_common(12)],
        t(Msg.WEB_REPORT_TOPICS),
    )
    statuses = Counter(ticket.status for ticket in tickets)
    return render(
        request,
        Page(
            "reports.html",
            {
                "days": days,
                "summary": summary,
                "median": describe_duration(summary.median_first_answer)
                if summary.median_first_answer
                else "–",
                "week_chart": week_chart,
                "wait_chart": wait_chart,
                "rating_chart": rating_chart,
                "language_chart": language_chart,
                "topic_chart": topic_chart,
                "open_tickets": sum(n for s, n in statuses.items() if s.is_active),
                "closed_tickets": statuses[TicketStatus.CLOSED],
            },
        ),
    )


@staff_only
async def reports_csv(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    since = console.clock() - timedelta(days=_days(request))
    async with console.uow() as uow:
        questions = await uow.questions.since(since)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["week", "questions", "answered", "suggested", "escalated", "helpful", "not_helpful"]
    )
    for w in weekly(questions):
        writer.writerow(
            [
                w.start.isoformat(),
                w.questions,
                w.answered,
                w.suggested,
                w.escalated,
                w.helpful,
                w.not_helpful,
            ]
        )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="helpdesk-weekly.csv"'},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/reports", reports)
    app.router.add_get("/reports.csv", reports_csv)

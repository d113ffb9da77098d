"""Pieces of the web console that need no server: the charts, the sign-in limit, the
editor's reading of its form, and sessions' expiry."""

from datetime import UTC, datetime, timedelta

import pytest
from multidict import MultiDict

from helpdesk.domain.errors import InvalidEntry
from helpdesk.domain.knowledge import Entry, EntryStatus, Translation
from helpdesk.domain.people import Role
from helpdesk.domain.web_access import SESSION_IDLE, SESSION_LIFETIME, WebSession, hash_token
from helpdesk.web.app import Attempts, csrf_token
from helpdesk.web.pages_knowledge import entry_from_form
from helpdesk.web.svg import Bar, Segment, bars, stacked_bars

HOSTILE = '<script>alert(1)</script>"'


def test_chart_labels_and_links_are_escaped() -> None:
    drawn = str(
        stacked_bars(
            [Bar(HOSTILE, (Segment(3, "answered", HOSTILE),), href=f"/queue?x={HOSTILE}")],
            HOSTILE,
        )
    ) + str(bars([(HOSTILE, 2, f'javascript:"{HOSTILE}')], HOSTILE))
    assert "<script>" not in drawn
    assert '"javascript:"' not in drawn and "&lt;script&gt;" in drawn


def test_no_chart_without_figures() -> None:
    assert str(stacked_bars([], "t")) == "" and str(bars([], "t")) == ""


def test_only_failed_sign_ins_count() -> None:
    attempts = Attempts(limit=2, window=60)
    assert attempts.allow("a")
    attempts.failed("a")
    assert attempts.allow("a")
    attempts.failed("a")
    assert not attempts.allow("a")
    assert attempts.allow("b")


def test_csrf_token_depends_on_the_session() -> None:
    assert csrf_token("one") != csrf_token("two") and len(csrf_token("one")) == 64
    assert hash_token("one") != hash_token("two")


def test_sessions_expire_when_idle_or_old() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    session = WebSession("h", 1, Role.STAFF, created_at=start, last_seen_at=start)
    assert session.is_live(start + SESSION_IDLE - timedelta(seconds=1))
    assert not session.is_live(start + SESSION_IDLE)
    session.last_seen_at = start + SESSION_LIFETIME - timedelta(minutes=1)
    assert not session.is_live(start + SESSION_LIFETIME)


def _form(**fields: str) -> MultiDict[str]:
    base = {"id": "e1", "title": "T", "questions": "How?\n\n  Kako?  ", "body": "B", "lang": "en"}
    return MultiDict({**base, **fields})


def test_the_editor_reads_phrasings_topics_and_translations() -> None:
    before = Entry(
        "e1",
        "T",
        ("How?",),
        "B",
        translations=(Translation("fr", "T fr", "B fr", "machine-assisted"),),
    )
    with pytest.raises(InvalidEntry, match="sq: a translation needs a title and an answer"):
        entry_from_form(
            _form(title_fr="T fr", body_fr="B fr", title_sq="T sq"), EntryStatus.DRAFT, before
        )
    entry = entry_from_form(
        _form(topics="youth, , trust", title_fr="T fr", body_fr="B fr", title_sq="T", body_sq="S"),
        EntryStatus.PUBLISHED,
        before,
    )
    assert entry.questions == ("How?", "Kako?") and entry.topics == ("youth", "trust")
    by_code = {t.lang: t for t in entry.translations}
    fr, sq = by_code["fr"], by_code["sq"]
    # Untouched, a machine-assisted translation stays marked; a new one was written by hand.
    assert fr.unreviewed == "machine-assisted" and sq.unreviewed is None


def test_a_published_entry_needs_an_answer() -> None:
    with pytest.raises(InvalidEntry):
        entry_from_form(_form(body=""), EntryStatus.PUBLISHED, None)
    assert entry_from_form(_form(body=""), EntryStatus.DRAFT, None).body == ""

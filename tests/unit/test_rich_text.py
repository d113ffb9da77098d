from helpdesk.adapters.rich_text import render_rich
from helpdesk.domain.actions import EscalateQuestion
from helpdesk.i18n import Button, Msg, Quote, QuoteStyle, Reply, Text, Translator


def test_everything_from_people_and_the_knowledge_base_is_escaped() -> None:
    reply = Reply(
        (
            Quote("<img src=x onerror=alert(1)>", QuoteStyle.TITLE),
            Quote(
                "**Map** first. <script>alert(1)</script> [x](javascript:alert(1))",
                QuoteStyle.MARKDOWN,
            ),
            Quote("a question with <b>markup</b> & ampersands\nand a second line"),
            Text(
                Msg.TICKETS_LINE,
                {"ticket": 1, "status": Text(Msg.STATUS_OPEN), "text": Quote("<i>x</i>")},
            ),
        )
    )
    html = render_rich(Translator(), reply, "en").html
    assert "<script>" not in html and "<img" not in html and "<i>x</i>" not in html
    assert 'href="javascript' not in html
    assert "<strong>Map</strong>" in html
    assert "&lt;b&gt;markup&lt;/b&gt; &amp; ampersands<br>and a second line" in html


def test_buttons_become_a_numbered_list_in_both_forms() -> None:
    reply = Reply(
        (Text(Msg.ANSWER_DID_IT_HELP),),
        buttons=(
            Button(Text(Msg.BUTTON_HELPFUL), EscalateQuestion(1)),
            Button(Quote("A & B"), EscalateQuestion(2)),
        ),
    )
    rich = render_rich(Translator(), reply, "en")
    assert rich.plain.endswith("Answer with a number to choose:\n1. Helpful\n2. A & B")
    assert "<ol><li>Helpful</li><li>A &amp; B</li></ol>" in rich.html

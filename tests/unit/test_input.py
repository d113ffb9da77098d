import pytest

from helpdesk.i18n import Msg
from helpdesk.services.commands import parse_command
from helpdesk.services.input import InputLimits, check_question, clean_text

LIMITS = InputLimits(max_length=100)


def key(raw: str | None) -> Msg | None:
    text = clean_text(raw) if raw is not None else ""
    problem = check_question(raw, text, LIMITS)
    if problem is None:
        return None
    part = problem.parts[0]
    assert hasattr(part, "key")
    return part.key  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Msg.INPUT_NOT_TEXT),
        ("", Msg.INPUT_EMPTY),
        ("   \n\t  ", Msg.INPUT_EMPTY),
        ("\u200b\u200b\u202e", Msg.INPUT_EMPTY),
        ("x" * 101, Msg.INPUT_TOO_LONG),
        ("12345 ?!", Msg.INPUT_NO_WORDS),
        ("🙂🙂🙂", Msg.INPUT_NO_WORDS),
        ("a", Msg.INPUT_TOO_SHORT),
        ("bin\x00ary", Msg.INPUT_NOT_TEXT),
        ("\ufffd\ufffd\ufffd\ufffd\ufffd", Msg.INPUT_NOT_TEXT),
        ("How do we start?", None),
        ("Како да почнеме?", None),
        ("<b>bold</b> **markdown** and 'quotes'; DROP TABLE people;--", None),
    ],
)
def test_check_question(raw: str | None, expected: Msg | None) -> None:
    assert key(raw) is expected


def test_clean_text_keeps_scripts_and_drops_invisible_and_control_characters() -> None:
    raw = "  Kako\u200b da\u202e počnemo?\r\n\r\n\r\n\r\nА\tсад\x07?  "
    assert clean_text(raw) == "Kako da počnemo?\n\nА сад?"


def test_clean_text_composes_decomposed_letters() -> None:
    assert clean_text("c\u030c") == "č"


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/start K7QX-M2PA-9TRD", "start", "K7QX-M2PA-9TRD"),
        ("!start code", "start", "code"),
        ("/HELP", "help", ""),
        ("/start@HubHelpdeskBot abc", "start", "abc"),
        ("/answer 12 First line\nsecond line", "answer", "12 First line\nsecond line"),
        ("/as expert", "as", "expert"),
    ],
)
def test_commands(text: str, name: str, args: str) -> None:
    command = parse_command(text)
    assert command is not None
    assert (command.name, command.args) == (name, args)


@pytest.mark.parametrize("text", ["hello /start", "!!! urgent", "/ 12", "/", "", "//x", "/123"])
def test_not_commands(text: str) -> None:
    assert parse_command(text) is None


def test_command_split() -> None:
    command = parse_command("/answer 12 some  long answer")
    assert command is not None
    assert command.split(2) == ["12", "some  long answer"]

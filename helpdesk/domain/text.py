"""Texts shown shorter than they are."""

__all__ = ["preview"]


def preview(text: str, length: int) -> str:
    """``text`` on one line, cut to ``length`` characters with an ellipsis if longer."""
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"

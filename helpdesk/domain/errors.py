"""Errors raised by domain rules."""

__all__ = ["DomainError", "IllegalTransition", "InvalidEntry"]


class DomainError(Exception):
    """A rule of the helpdesk was broken."""


class IllegalTransition(DomainError):
    """A ticket was asked to move to a state its current state does not allow."""

    def __init__(self, ticket_id: int | None, current: str, action: str) -> None:
        super().__init__(f"ticket {ticket_id}: cannot {action} when {current}")
        self.ticket_id = ticket_id
        self.current = current
        self.action = action


class InvalidEntry(DomainError):
    """A knowledge entry does not satisfy the knowledge file format."""

"""Inviting someone: the only way to join. The code is shown once, to whoever made the
invitation; only its hash is stored, and the audit trail records who invited whom."""

from dataclasses import dataclass
from datetime import timedelta

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.invites import Invite, hash_code, new_code
from helpdesk.domain.people import Role
from helpdesk.services.audit import record
from helpdesk.services.context import Context

__all__ = ["CreatedInvite", "create_invite"]


@dataclass(frozen=True)
class CreatedInvite:
    """The stored invitation and its code, which exists nowhere else."""

    invite: Invite
    code: str


async def create_invite(
    ctx: Context,
    who: str,
    role: Role,
    valid_for: timedelta,
    *,
    name: str | None = None,
    city: str | None = None,
    country: str | None = None,
    languages: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    capacity: int = 3,
) -> CreatedInvite:
    """An invitation for ``role`` that works for ``valid_for``, made by ``who``."""
    code = new_code()
    invite = await ctx.uow.invites.add(
        Invite(
            code_hash=hash_code(code),
            role=role,
            created_at=ctx.now,
            expires_at=ctx.now + valid_for,
            name=name,
            city=city,
            country=country,
            languages=languages,
            topics=topics,
            capacity=capacity,
        )
    )
    await record(
        ctx.uow,
        ctx.now,
        who,
        AuditAction.INVITE,
        f"invite:{invite.id}",
        f"{role.value} {name or ''}",
    )
    return CreatedInvite(invite, code)

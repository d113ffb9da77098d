"""``helpdesk invite``: invitations, the only way to join."""

import click

from helpdesk.bootstrap import App
from helpdesk.cli._common import at_most, author, in_transaction, run_app, span, split
from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.limits import MAX_NAME_LENGTH, MAX_PLACE_LENGTH
from helpdesk.domain.people import Role
from helpdesk.services.invitations import create_invite

__all__ = ["invite"]


@click.group()
def invite() -> None:
    """Invitations: the only way to join."""


@invite.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option(
    "--name",
    callback=at_most(MAX_NAME_LENGTH),
    help="The person's name (else their chat profile name).",
)
@click.option("--city", callback=at_most(MAX_PLACE_LENGTH))
@click.option("--country", callback=at_most(MAX_PLACE_LENGTH))
@click.option("--languages", help="Comma-separated language codes, e.g. sr,en.")
@click.option("--topics", help="Comma-separated topics (experts), e.g. youth,returnees.")
@click.option(
    "--capacity",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Open tickets an expert takes at once.",
)
@click.option("--valid-for", help="How long the code works, e.g. 7d (default 30d).")
def invite_create(
    role: str,
    name: str | None,
    city: str | None,
    country: str | None,
    languages: str | None,
    topics: str | None,
    capacity: int,
    valid_for: str | None,
) -> None:
    """Create an invitation; the code is the last line printed."""
    codes = []
    for raw in split(languages):
        code = normalize_language_code(raw)
        if code is None:
            raise click.BadParameter(f"{raw!r} is not a language code", param_hint="--languages")
        codes.append(code)
    lifetime = span(valid_for, "--valid-for") if valid_for is not None else None

    async def body(app: App) -> str:
        created = await in_transaction(
            app,
            lambda ctx: create_invite(
                ctx,
                author(),
                Role(role),
                app.settings.invite_valid_for if lifetime is None else lifetime,
                name=name,
                city=city,
                country=country,
                languages=tuple(codes),
                topics=split(topics),
                capacity=capacity,
            ),
        )
        click.echo(
            f"Invitation for {name or 'a new ' + role} ({role}), valid until "
            f"{created.invite.expires_at:%Y-%m-%d %H:%M} UTC. Send them: /start {created.code}"
        )
        if app.settings.telegram_token is not None:
            # Imported here: every other command starts faster without Telegram's library.
            from helpdesk.adapters.telegram import TelegramSettings, deep_link

            link = await deep_link(
                TelegramSettings(
                    app.settings.telegram_token.get_secret_value(), app.settings.telegram_base_url
                ),
                created.code,
            )
            if link:
                click.echo(f"On Telegram they can open: {link}")
        return created.code

    click.echo(run_app(body))

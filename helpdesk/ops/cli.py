"""``flask backup PATH`` and ``flask restore PATH``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from helpdesk.ops import backup as service


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Back up the database, the stores and the secret key file into the new folder PATH
    (safe while the app runs)."""
    try:
        manifest = service.backup(path)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up to {path}: {_summary(manifest)}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore the backup in PATH into this installation (stop the app first)."""
    try:
        manifest = service.restore(path, force=force)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored from {path}: {_summary(manifest)}")
    if service.needs_upgrade(manifest):
        click.echo("the schema is older than this code's: run flask --app helpdesk db upgrade")


def _summary(manifest: dict[str, Any]) -> str:
    counts, figures = manifest["counts"], manifest["stores"]
    stored = ", ".join(
        f"{name} store {figures[name]['objects']} ({figures[name]['bytes']:,} bytes)"
        for name in service.STORE_NAMES
    )
    return (
        f"{manifest['database']} at {', '.join(manifest['revisions']) or 'no revision'}; "
        f"tickets {counts.get('ticket', 0)}, messages {counts.get('message', 0)}, "
        f"attachments {counts.get('attachment', 0)}; {stored}"
    )

"""Command-line tasks: thin wrappers over operations."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.auth.operations import AccountError, create_user
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import Patient, User
from tracker.passwords import password_problem


@click.command("create-user")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--email", required=True)
@click.option("--name", default=None, help="Display name (defaults to the email's local part).")
@click.option("--chart-number", default=None, help="For --role patient: the patient's chart.")
@click.password_option(prompt="Password", confirmation_prompt=True)
@with_appcontext
def create_user_command(role: str, email: str, name: str | None, chart_number: str | None,
                        password: str) -> None:
    """Create an account; the password is asked for, never passed on the command line."""
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    patient = None
    if role == Role.PATIENT.value:
        if not chart_number:
            raise click.ClickException("A patient account needs --chart-number.")
        patient = db.session.scalar(select(Patient).where(Patient.chart_number == chart_number))
        if patient is None:
            raise click.ClickException(f"No patient has chart number {chart_number}.")
    elif chart_number:
        raise click.ClickException("--chart-number is only for --role patient.")
    try:
        user = create_user(email=email, name=name or email.split("@")[0], role=Role(role),
                           password=password, patient=patient)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.email}.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo clinic (idempotent) and print its sign-ins."""
    from tracker import demo

    if not current_app.config["ALLOW_DEMO_DATA"]:
        raise click.ClickException("Demo data is disabled in this configuration (production).")
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("The database already has accounts; demo data not loaded.")
    else:
        created = demo.seed_demo()
        db.session.commit()
        click.echo("Demo clinic loaded." if created else "Demo clinic already present.")
    click.echo(demo.sign_in_help())


@click.command("seed-scale")
@click.option("--patients", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True,
              help="How many patients to add, each with about 2.5 series and 20 sessions.")
@click.option("--seed", type=int, default=15, show_default=True, help="Random seed.")
@click.option("--manifest", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the benchmark's sign-ins and record ids here as JSON.")
@with_appcontext
def seed_scale_command(patients: int, seed: int, manifest: str | None) -> None:
    """Add a synthetic clinic of PATIENTS patients, to measure the pages at that size."""
    import json

    from tracker import scale

    if not current_app.config["ALLOW_DEMO_DATA"]:
        raise click.ClickException("Synthetic data is refused in this configuration (production).")
    with click.progressbar(length=patients, label="Patients", show_pos=True) as bar:
        written = 0

        def advance(done: int) -> None:
            nonlocal written
            bar.update(done - written)
            written = done

        result = scale.seed_scale(patients, seed=seed, progress=advance)
        db.session.commit()
    click.echo("Added " + ", ".join(f"{count:,} {table}"
                                     for table, count in result.counts.items()) + ".")
    click.echo(f"Sign in as {result.practitioner_email} or {result.patient_email}"
               f" with the password {result.password}.")
    if manifest:
        with open(manifest, "w", encoding="utf-8") as handle:
            json.dump(result.as_dict(), handle, indent=2)


@click.command("rebuild-schedules")
@with_appcontext
def rebuild_schedules_command() -> None:
    """Recompute every series' stored schedule (sessions done, next window, lapse day)
    from its sessions, e.g. after rows were written outside the app. Says how many rows
    were out of date; safe to run at any time."""
    from tracker.series.schedule import rebuild_schedules

    changed = rebuild_schedules()
    db.session.commit()
    click.echo(f"Rebuilt the schedules: {changed:,} series were out of date."
               if changed else "Every series' schedule was up to date.")


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: instance/backups/tracker-<UTC time>.sqlite|.dump).")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Back up the database while the app runs; writes FILE (mode 600) and FILE.sha256."""
    from tracker import backup

    destination = output or backup.default_backup_path(
        Path(current_app.instance_path) / "backups", db.engine)
    try:
        result = backup.backup(db.engine, destination)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {result.path}\nsha256 {result.sha256} "
               f"(in {result.checksum_path.name})")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace the contents of a database that already holds tables.")
@with_appcontext
def restore_command(backup_file: Path, force: bool) -> None:
    """Restore BACKUP_FILE after checking it against BACKUP_FILE.sha256. Stop the app first."""
    from tracker import backup

    try:
        backup.restore(db.engine, backup_file, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {backup_file}. Run `flask --app wsgi db upgrade` if the backup "
               "is older than this version of tracker.")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_scale_command)
    app.cli.add_command(rebuild_schedules_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

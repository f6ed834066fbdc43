"""The `mobility` command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(help="EV charging payment engine.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """EV charging payment engine: OCPP central system, payment channels, tangle ledger."""


@app.command()
def demo(
    seed: int = typer.Option(7, help="Seed of the simulated city: the same seed, the same run."),
    hours: Annotated[float | None, typer.Option(help="Simulated hours (default: the scenario's).")] = None,
    speed: Annotated[
        float | None,
        typer.Option(help="At most this many simulated seconds per real second (default: the scenario's)."),
    ] = None,
    chargers: Annotated[
        int | None,
        typer.Option(help="Charge points in all, spread over the sites (default: the scenario's)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the engine's data here (default: a temporary folder).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the run record and the report (plots, HTML) here.")
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="A scenario TOML file (default: sims/scenarios/default_city.toml).")
    ] = None,
) -> None:
    """Run the engine on its defaults, driven by a simulated city; exit 1 if it does not reconcile."""
    from mobility.demo import run_demo

    code = run_demo(
        seed=seed,
        hours=hours,
        speed=speed,
        chargers=chargers,
        data_dir=data_dir,
        report_dir=report,
        scenario_file=scenario,
    )
    if code:
        raise typer.Exit(code)


@app.command("pow-demo")
def pow_demo(
    seed: int = typer.Option(7, help="Seed for the demonstration's keys and blocks."),
    target_score: float = typer.Option(4000.0, help="Proof-of-work score each block must reach."),
) -> None:
    """The Rust core at work: mine, sign and verify a few blocks."""
    from mobility.demo_pow import run_pow_demo

    run_pow_demo(seed=seed, target_score=target_score)


@app.command()
def serve(
    allow_token: Annotated[
        list[str] | None, typer.Option(help="An ID token allowed to charge (repeatable).")
    ] = None,
    accept_all_tokens: bool = typer.Option(False, help="Accept every ID token (development)."),
    response_timeout: float = typer.Option(30.0, help="Seconds to wait for a charge point's answer."),
    heartbeat_interval: int = typer.Option(300, help="Heartbeat interval given to charge points (s)."),
    tls_cert: str | None = typer.Option(None, help="PEM certificate: serve wss:// (security profile 2)."),
    tls_key: str | None = typer.Option(None, help="PEM private key for --tls-cert."),
) -> None:
    """Start the engine: OCPP central system, HTTP API with the ledger, embedded node and coordinator."""
    import asyncio
    import contextlib
    import logging

    from mobility.engine import EngineOptions, run_engine
    from mobility.settings import Settings

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = EngineOptions(
        allowed_tokens=tuple(allow_token or ()),
        accept_all_tokens=accept_all_tokens,
        response_timeout=response_timeout,
        heartbeat_interval=heartbeat_interval,
        tls_cert=tls_cert,
        tls_key=tls_key,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_engine(settings, options))


db = typer.Typer(help="The engine's database.", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to migrate to.")) -> None:
    """Apply the migrations to the configured database (the engine also does it on start)."""
    from mobility.migrate import upgrade
    from mobility.settings import Settings

    url = Settings().resolved_database_url
    upgrade(url, revision)
    typer.echo(f"database at revision {revision}")


ledger = typer.Typer(help="The tangle ledger.", no_args_is_help=True)
app.add_typer(ledger, name="ledger")


@ledger.command("node")
def ledger_node() -> None:
    """Run a ledger node alone (with its coordinator when a key file is configured)."""
    from mobility.ledger.__main__ import main as run_node

    run_node()


chargers = typer.Typer(help="Charge point registry.", no_args_is_help=True)
app.add_typer(chargers, name="chargers")


@chargers.command("add")
def chargers_add(
    charge_point_id: str = typer.Argument(
        ..., help="The ID the charge point uses in its URL: 1 to 48 of A-Z a-z 0-9 . _ @ + -"
    ),
    operator: str = typer.Option(..., help="The operator who owns it (`mobility operators add`)."),
    password: str = typer.Option(..., help="Its Basic-auth password, 16 to 40 characters."),
    disabled: bool = typer.Option(False, help="Register it disabled (BootNotification Rejected)."),
) -> None:
    """Register a charge point for an operator, under the rules of `POST /operator/chargers`.

    A charge point registered already is refused (its operator changes it through the API); one
    that connected unknown and waits for approval is approved. The password is stored as a
    salted scrypt hash.
    """
    from mobility.api.operator_store import OperatorStore
    from mobility.api.store import ApiStore
    from mobility.charging.charger_rules import id_problem, password_problem
    from mobility.charging.passwords import hash_password
    from mobility.charging.store import ChargerSpec

    if problem := id_problem(charge_point_id):
        raise typer.BadParameter(problem, param_hint="CHARGE_POINT_ID")
    if problem := password_problem(password):
        raise typer.BadParameter(problem, param_hint="--password")
    database = _migrated_database()
    if ApiStore(database).operator(operator) is None:
        raise typer.BadParameter(f"no operator {operator!r}", param_hint="--operator")
    store = OperatorStore(database)
    if store.register_charger(operator, ChargerSpec(charge_point_id, hash_password(password))) is None:
        typer.echo(
            f"charge point {charge_point_id!r} is registered already; "
            "its operator changes it through the API (PUT /operator/chargers/{id}/password)",
            err=True,
        )
        raise typer.Exit(1)
    if disabled:
        store.update_charger(operator, charge_point_id, {"enabled": False})
    typer.echo(f"registered {charge_point_id} for {operator}")


def _migrated_database() -> Engine:
    from mobility.db import create_db_engine
    from mobility.migrate import upgrade
    from mobility.settings import Settings

    url = Settings().resolved_database_url
    upgrade(url)
    return create_db_engine(url)


operators = typer.Typer(help="Charge-point operators (tenants of the operator API).", no_args_is_help=True)
app.add_typer(operators, name="operators")


@operators.command("add")
def operators_add(
    operator_id: str = typer.Argument(..., help="The operator's ID."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Register an operator and print a new API key with every operator scope (shown once)."""
    from mobility.api.auth import OPERATOR_SCOPES
    from mobility.api.store import ApiStore

    store = ApiStore(_migrated_database())
    store.add_operator(operator_id, name)
    typer.echo(store.add_api_key("operator", operator_id, OPERATOR_SCOPES).key)


admins = typer.Typer(help="Whoever runs the engine (engine-wide figures).", no_args_is_help=True)
app.add_typer(admins, name="admins")


@admins.command("add")
def admins_add(admin_id: str = typer.Argument(..., help="Who holds the key (for your records).")) -> None:
    """Print a new engine-admin API key (shown once): `/metrics` for the whole engine, where an
    operator's key reads its own figures only."""
    from mobility.api.auth import ADMIN_ROLE, ADMIN_SCOPES
    from mobility.api.store import ApiStore

    typer.echo(ApiStore(_migrated_database()).add_api_key(ADMIN_ROLE, admin_id, ADMIN_SCOPES).key)


fleets = typer.Typer(help="Fleet operators (tenants of the fleet API).", no_args_is_help=True)
app.add_typer(fleets, name="fleets")


@fleets.command("add")
def fleets_add(
    account_id: str = typer.Argument(..., help="The fleet's account ID."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Register a fleet account and print a new API key with every fleet scope (shown once)."""
    from mobility.api.auth import FLEET_SCOPES
    from mobility.api.store import ApiStore
    from mobility.payments.store import PaymentStore

    database = _migrated_database()
    PaymentStore(database).add_account(account_id, "fleet", name)
    typer.echo(ApiStore(database).add_api_key("fleet", account_id, FLEET_SCOPES).key)


if __name__ == "__main__":
    app()

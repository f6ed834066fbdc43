"""The `mobility` command line."""

from __future__ import annotations

import typer

from mobility.demo_pow import run_pow_demo

app = typer.Typer(help="EV charging payment engine.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """EV charging payment engine: OCPP central system, payment channels, tangle ledger."""


@app.command()
def demo(
    seed: int = typer.Option(7, help="Seed for the demonstration's keys and blocks."),
    target_score: float = typer.Option(4000.0, help="Proof-of-work score each block must reach."),
) -> None:
    """Show the engine's core at work: mine, sign and verify a few blocks."""
    run_pow_demo(seed=seed, target_score=target_score)


if __name__ == "__main__":
    app()

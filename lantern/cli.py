"""The ``lantern`` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from lantern.stack import DEFAULT_KAFKA_PORT, DEFAULT_PORTS, Stack, StackOptions

app = typer.Typer(help="Lantern: the back office of a human-trafficking hotline.", no_args_is_help=True)
HOME = Path(".lantern")


@app.command()
def up(
    intake_port: Annotated[int, typer.Option(help="Port of intake's HTTP edge.")] = DEFAULT_PORTS["intake"],
    triage_port: int = DEFAULT_PORTS["triage"],
    disclosure_port: int = DEFAULT_PORTS["disclosure"],
    referral_port: int = DEFAULT_PORTS["referral"],
    kafka_port: Annotated[int, typer.Option(help="Port of the local broker.")] = DEFAULT_KAFKA_PORT,
    home: Annotated[Path, typer.Option(help="Where data, logs and endpoints.json live.")] = HOME,
) -> None:
    """Start PostgreSQL and the broker unless configured, then all four services."""
    ports = {
        "intake": intake_port,
        "triage": triage_port,
        "disclosure": disclosure_port,
        "referral": referral_port,
    }
    raise typer.Exit(Stack(StackOptions(home=home, ports=ports, kafka_port=kafka_port)).run())


@app.command()
def demo(
    home: Annotated[Path, typer.Option(help="Where `lantern up` wrote endpoints.json.")] = HOME,
) -> None:
    """Submit sample tips to a running stack and print each one's journey."""
    from lantern.demo import load_endpoints, run_demo

    endpoints = load_endpoints(home / "endpoints.json")
    raise typer.Exit(1 if endpoints is None else asyncio.run(run_demo(endpoints)))


def main() -> None:
    app()

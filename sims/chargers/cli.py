"""`python -m sims.chargers`: run a fleet against a central system and print what happened."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict

from sims.chargers.clock import AcceleratedClock
from sims.chargers.fleet import DEFAULT_MIX, Fleet, FleetConfig, FleetSummary


def parse_mix(text: str) -> dict[str, float]:
    """ "1.6=0.5,2.0.1=0.3,2.1=0.2" -> {"1.6": 0.5, ...}."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        version, _, weight = part.partition("=")
        if not weight:
            raise argparse.ArgumentTypeError(f"expected VERSION=WEIGHT, got {part!r}")
        mix[version.strip()] = float(weight)
    return mix


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sims.chargers",
        description="Simulated OCPP charge points (1.6, 2.0.1, 2.1) driving a central system.",
    )
    parser.add_argument("--url", default="ws://127.0.0.1:9000/ocpp", help="base URL; /<id> is appended")
    parser.add_argument("--count", type=int, default=10, help="charge points")
    parser.add_argument("--seed", type=int, default=0, help="makes the plan reproducible")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    parser.add_argument("--duration-s", type=float, default=3_600.0, help="simulated seconds to run")
    parser.add_argument("--password", default=None, help="Basic-auth password of every charge point")
    parser.add_argument(
        "--mix", type=parse_mix, default=dict(DEFAULT_MIX), help="e.g. 1.6=0.5,2.0.1=0.3,2.1=0.2"
    )
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--id-token", action="append", dest="id_tokens", help="token(s) drivers badge with")
    parser.add_argument("--prefix", default=None, help="charge point ID prefix (default SIM<seed>)")
    parser.add_argument("--meter-interval-s", type=float, default=60.0)
    parser.add_argument("--mean-idle-s", type=float, default=1_800.0)
    parser.add_argument("--mean-dwell-s", type=float, default=3 * 3_600.0)
    parser.add_argument("--faults-per-hour", type=float, default=0.0, help="per charge point")
    parser.add_argument(
        "--power-on-spread-s", type=float, default=60.0, help="stations boot at random within this"
    )
    parser.add_argument(
        "--drain-limit-s", type=float, default=10.0, help="real seconds to deliver at the end"
    )
    parser.add_argument("--no-validate", action="store_true", help="skip the library's schema checks")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


async def run(arguments: argparse.Namespace) -> FleetSummary:
    """Build the fleet from the arguments and run it in accelerated time."""
    config = FleetConfig(
        url=arguments.url,
        count=arguments.count,
        seed=arguments.seed,
        mix=arguments.mix,
        connectors=arguments.connectors,
        password=arguments.password,
        id_tokens=tuple(arguments.id_tokens or ("SIMTOKEN",)),
        prefix=arguments.prefix or f"SIM{arguments.seed}",
        meter_interval_s=arguments.meter_interval_s,
        mean_idle_s=arguments.mean_idle_s,
        mean_dwell_s=arguments.mean_dwell_s,
        faults_per_hour=arguments.faults_per_hour,
        power_on_spread_s=arguments.power_on_spread_s,
        validate_messages=not arguments.no_validate,
    )
    fleet = Fleet(config, AcceleratedClock(arguments.speed))
    return await fleet.run(arguments.duration_s, limit=arguments.drain_limit_s)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print; exit status 1 if transaction messages were left undelivered."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if arguments.verbose else logging.WARNING)
    began = time.perf_counter()
    summary = asyncio.run(run(arguments))
    elapsed = time.perf_counter() - began
    rate = summary.messages_sent / elapsed if elapsed > 0 else 0.0
    if arguments.json:
        print(json.dumps({**asdict(summary), "real_seconds": round(elapsed, 3)}, indent=2, sort_keys=True))
    else:
        print("\n".join(summary.lines()))
        print(f"real time         {elapsed:.1f} s ({rate:.0f} transaction messages answered per second)")
    return 1 if summary.undelivered else 0


if __name__ == "__main__":
    sys.exit(main())

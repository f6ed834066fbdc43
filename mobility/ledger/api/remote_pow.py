"""Who the node mines for (`POST /ledger/blocks/pow`), how big, how often, how many at once.

Mining is the most CPU a single request can ask for: twelve 32 KB requests took the engine's
API from 8 ms to 1.6 s. So remote PoW is off unless configured, except on the development
network (`DEVELOPMENT_NETWORK`, where wallets of the simulator and the demo use it); where on,
a block is at most `max_bytes`, a client address gets `per_minute` requests, and `concurrent`
blocks are mined at a time, each on one thread (a busy miner answers 503, a limited client 429).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from mobility.clock import Clock, utc_now
from mobility.offload import BoundedExecutor
from mobility.ratelimit import RateLimiter

DEVELOPMENT_NETWORK = "mobility-dev"  # the network `mobility serve` runs when nothing else is set


@dataclass
class RemotePow:
    """The remote-PoW policy of one node's API."""

    enabled: bool
    max_bytes: int = 4096  # a block without its nonce: transfers and claims are a few hundred bytes
    per_minute: int = 10  # per client address
    concurrent: int = 1
    clock: Clock = utc_now
    limiter: RateLimiter = field(init=False)
    miners: BoundedExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.per_minute, timedelta(minutes=1), self.clock)
        self.miners = BoundedExecutor("remote-pow", max(self.concurrent, 1), 0)

    @classmethod
    def default_for(cls, network_name: str) -> RemotePow:
        """On for the development network only."""
        return cls(enabled=network_name == DEVELOPMENT_NETWORK)

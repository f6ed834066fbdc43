"""The tip pool under uniform random tip selection, measured against Popov's L = 2 lambda h.

Model ("The Tangle", v1.4.3, section 3): transactions arrive as a Poisson process of rate
lambda; a transaction needs time h to attach, so it selects its tips from the tangle as it
was h ago; it picks `parents` distinct tips uniformly among those visible tips. L(t) counts
the tips of the true tangle at time t (transactions approved by nobody yet). Popov's
stationary estimate is L0 = 2 lambda h for two parents.

Run: `python -m sims.tangle_tips [--arrivals N] [--seed S] [--plot reports/tangle_tips.png]`.
Because every approval takes effect with the same delay h, the visible tangle is simply the
true tangle lagged by h; the simulation replays the true tangle's events h late.
"""

from __future__ import annotations

import argparse
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path


class TipPool:
    """A set of tips with O(1) insert, remove and uniform random choice."""

    def __init__(self) -> None:
        self._items: list[int] = []
        self._index: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, tx: int) -> bool:
        return tx in self._index

    def add(self, tx: int) -> None:
        self._index[tx] = len(self._items)
        self._items.append(tx)

    def discard(self, tx: int) -> None:
        position = self._index.pop(tx, None)
        if position is None:
            return
        last = self._items.pop()
        if position < len(self._items):
            self._items[position] = last
            self._index[last] = position

    def sample(self, rng: random.Random, count: int) -> list[int]:
        """`count` distinct tips (fewer if the pool is smaller)."""
        return rng.sample(self._items, min(count, len(self._items)))


@dataclass(frozen=True, slots=True)
class Measurement:
    """Time-averaged tip count of one run beside Popov's prediction."""

    arrival_rate: float
    delay: float
    parents: int
    mean_tips: float
    predicted: float

    @property
    def ratio(self) -> float:
        return self.mean_tips / self.predicted


def simulate(
    arrival_rate: float,
    delay: float,
    arrivals: int,
    rng: random.Random,
    parents: int = 2,
    warmup_fraction: float = 0.2,
) -> Measurement:
    """Run `arrivals` transactions and time-average L(t) after the warm-up (parents >= 2)."""
    true_tips = TipPool()
    visible_tips = TipPool()
    pending: deque[tuple[float, int, list[int]]] = deque()  # (arrival, tx, approved), not yet visible
    genesis = -1
    true_tips.add(genesis)
    visible_tips.add(genesis)
    now = 0.0
    warmup_end = arrivals * warmup_fraction / arrival_rate
    weighted_tips = 0.0
    measured_time = 0.0
    for tx in range(arrivals):
        gap = rng.expovariate(arrival_rate)
        if now + gap > warmup_end:
            counted = now + gap - max(now, warmup_end)
            weighted_tips += len(true_tips) * counted
            measured_time += counted
        now += gap
        while pending and pending[0][0] <= now - delay:
            _, seen, approved = pending.popleft()
            for tip in approved:
                visible_tips.discard(tip)
            visible_tips.add(seen)
        chosen = visible_tips.sample(rng, parents)
        for tip in chosen:
            true_tips.discard(tip)
        true_tips.add(tx)
        pending.append((now, tx, chosen))
    # Popov's mean-field argument with k parents gives k / (k - 1) * lambda h (2 lambda h for k = 2).
    predicted = parents / (parents - 1) * arrival_rate * delay
    return Measurement(arrival_rate, delay, parents, weighted_tips / measured_time, predicted)


def sweep(arrivals: int, seed: int) -> list[Measurement]:
    """Several (lambda, h) pairs spanning lambda h from 0.5 to 200."""
    rng = random.Random(seed)
    pairs = [
        (0.5, 1.0),
        (1.0, 1.0),
        (2.0, 1.0),
        (5.0, 1.0),
        (10.0, 1.0),
        (25.0, 1.0),
        (50.0, 2.0),
        (100.0, 2.0),
    ]
    return [simulate(rate, delay, arrivals, rng) for rate, delay in pairs]


def plot(measurements: list[Measurement], path: Path) -> None:
    """Measured mean tips against lambda h, with the line L = 2 lambda h."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lh = [m.arrival_rate * m.delay for m in measurements]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    top.loglog(lh, [m.mean_tips for m in measurements], "o", label="simulated mean L")
    top.loglog(lh, [m.predicted for m in measurements], "-", label="Popov: L = 2 lambda h")
    top.set_ylabel("tips")
    top.legend()
    bottom.semilogx(lh, [m.ratio for m in measurements], "o-")
    bottom.axhline(1.0, color="grey", linewidth=0.8)
    bottom.set_xlabel("lambda h (arrivals per attachment delay)")
    bottom.set_ylabel("simulated / predicted")
    fig.suptitle("Tip pool under uniform random tip selection (2 parents)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrivals", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", type=Path, default=Path("reports/tangle_tips.png"))
    args = parser.parse_args()
    measurements = sweep(args.arrivals, args.seed)
    print(f"{'lambda':>7} {'h':>5} {'lambda h':>9} {'mean L':>9} {'2 lambda h':>11} {'ratio':>6}")
    for m in measurements:
        print(
            f"{m.arrival_rate:>7g} {m.delay:>5g} {m.arrival_rate * m.delay:>9g} "
            f"{m.mean_tips:>9.2f} {m.predicted:>11.2f} {m.ratio:>6.3f}"
        )
    plot(measurements, args.plot)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()

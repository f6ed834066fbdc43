"""Enforcement commands: in order per charge point, never stuck behind another charger."""

from __future__ import annotations

import asyncio

from mobility.payments.delivery import ChargerOutbox, Delivery

NO_PAUSE = (0.0, 0.0, 0.0)


async def test_commands_to_one_charger_go_in_order_and_a_silent_one_holds_up_no_other() -> None:
    outbox = ChargerOutbox(NO_PAUSE)
    sent: list[str] = []
    silent = asyncio.Event()

    async def never_answers() -> bool:
        await silent.wait()
        return True

    def record(what: str) -> Delivery:
        async def send() -> bool:
            sent.append(what)
            return True

        return Delivery("CP-B", what, send, lambda: True)

    outbox.put(Delivery("CP-A", "stuck", never_answers, lambda: True))
    for what in ("limit", "clear", "stop"):
        outbox.put(record(what))
    await asyncio.sleep(0.05)
    assert sent == ["limit", "clear", "stop"]
    silent.set()
    await asyncio.wait_for(outbox.idle(), 5)


async def test_a_command_no_longer_wanted_is_skipped() -> None:
    outbox = ChargerOutbox(NO_PAUSE)
    sent: list[str] = []

    async def send() -> bool:
        sent.append("cap")
        return True

    outbox.put(Delivery("CP1", "cap", send, lambda: False))
    await asyncio.wait_for(outbox.idle(), 5)
    assert sent == []

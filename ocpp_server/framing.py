"""OCPP-J framing on top of the `ocpp` library: parsing, validation, errors, retransmissions.

The library's `route_message` drops unparseable frames silently, answers 1.6 with 2.x error
spellings, reports missing fields as ProtocolError, and sends nothing at all for an unknown
action on 2.1. `FramedConnection.route_message` replaces it: every CALL gets exactly one
answer with the code its version specifies, and the connection stays up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mobility import bounded_json
from mobility.charging.authorization import RegistrationStatus
from mobility.charging.service import ChargingService
from ocpp_server._ocpp import CallError, CallResult, OCPPError, known_actions, request_validator
from ocpp_server.bounds import MAX_MESSAGE_ID, value_violation
from ocpp_server.call_times import CallTimes
from ocpp_server.commands import CommandRejectedError, CommandResult, CommandTimeoutError
from ocpp_server.errors import CallErrorFrame, Problem, error_code, problem_for_schema_keyword
from ocpp_server.frame_log import clip
from ocpp_server.keys import payload_of, to_snake
from ocpp_server.schema import Check, compile_schema

LOGGER = logging.getLogger(__name__)
# Every frame in and out, at DEBUG only: at INFO a chatty or hostile charger fills the log.
FRAMES = logging.getLogger("ocpp_server.frames")
MAX_LOGGED_CHARS = 1_000  # of a frame quoted in a warning or error
ANSWER_CACHE_SIZE = 64

Answers = OrderedDict[str, tuple[str, str]]


@dataclass
class ConnectionContext:
    """What every connection of one server shares."""

    service: ChargingService
    heartbeat_interval: int = 300
    boot_retry_interval: int = 60
    response_timeout: float = 30.0
    log_frame: Callable[[str, str, str], None] = lambda _cp, _direction, _frame: None
    call_times: CallTimes = field(default_factory=CallTimes)

    def boot_interval(self, status: RegistrationStatus) -> int:
        """A BootNotification's interval: heartbeats once accepted, else when to boot again."""
        return self.heartbeat_interval if status is RegistrationStatus.ACCEPTED else self.boot_retry_interval


class FramedConnection:
    """Mixin placed before a library `ChargePoint` class; see the module docstring."""

    ocpp_version: ClassVar[str]
    # Actions whose answer gives the charge point a transaction's ID (1.6 StartTransaction) or
    # acknowledges its start (2.x TransactionEvent). A command naming a transaction goes out only
    # once such an answer is sent: a stop decided while handling the start reached the charger
    # before the answer, which rejected it for a transaction it did not know yet.
    transaction_answers: ClassVar[frozenset[str]] = frozenset()

    if TYPE_CHECKING:
        id: str
        route_map: dict[str, dict[str, Any]]
        _connection: Any
        _response_queue: Any
        _call_lock: asyncio.Lock

        async def _handle_call(self, msg: Any) -> Any: ...

    def __init__(self, charge_point_id: str, connection: Any, context: ConnectionContext) -> None:
        super().__init__(  # type: ignore[call-arg]
            charge_point_id, connection, response_timeout=context.response_timeout
        )
        self.context = context
        self.service = context.service
        # Answers to this connection's CALLs, for retransmissions. Per connection: OCPP-J message
        # IDs are unique within a connection only, and a rebooted charger's counter starts over,
        # so a cache kept across reconnections answered its new StartTransaction with an old one.
        self._answers: Answers = OrderedDict()
        self._answering: tuple[str, str] | None = None
        # Commands leave one at a time in the order they were issued (the library's own lock is
        # taken only after an await, so two commands issued in order could swap).
        self._command_turn = asyncio.Lock()
        self._transaction_answered = asyncio.Event()
        self._transaction_answered.set()

    async def start(self) -> None:
        """Read and handle frames until the connection closes (the library's own loop logs
        every frame at INFO)."""
        while True:
            await self.route_message(await self._connection.recv())

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Parse one frame and answer, route or drop it as OCPP-J says."""
        received = time.perf_counter()
        if isinstance(raw_msg, bytes):
            try:
                raw_msg = raw_msg.decode()
            except UnicodeDecodeError:
                await self._send_error("-1", Problem.UNPARSEABLE, "frame is not UTF-8")
                return
        FRAMES.debug("%s <- %s", self.id, raw_msg)
        self.context.log_frame(self.id, "in", raw_msg)
        try:
            frame = bounded_json.loads(raw_msg)
        except bounded_json.TooDeepError as error:
            await self._send_error("-1", Problem.UNPARSEABLE, str(error))
            return
        except ValueError:
            await self._send_error("-1", Problem.UNPARSEABLE, "frame is not valid JSON")
            return
        if not isinstance(frame, list) or not frame or type(frame[0]) is not int:
            await self._send_error(_message_id(frame), Problem.BAD_FRAME, "not an OCPP-J message array")
            return
        if frame[0] == 2:
            await self._route_call(frame, received)
        elif frame[0] in (3, 4):
            self._route_response(frame)
        elif frame[0] in (5, 6) and self.ocpp_version == "2.1":
            # 2.1 CALLRESULTERROR and SEND: never answered; no SEND handlers yet (kept in the log).
            LOGGER.info("%s: unanswered 2.1 message type %s", self.id, frame[0])
        else:
            await self._send_error(
                _message_id(frame), Problem.UNKNOWN_MESSAGE_TYPE, f"message type {frame[0]} not supported"
            )

    async def _route_call(self, frame: list[Any], received: float) -> None:
        message_id = _message_id(frame)
        if len(frame) != 4 or not isinstance(frame[1], str) or not isinstance(frame[2], str):
            await self._send_error(message_id, Problem.BAD_FRAME, "a CALL is [2, id, action, payload]")
            return
        _, message_id, action, payload = frame
        if len(message_id) > MAX_MESSAGE_ID:
            # Not answered under an ID the charge point may not send, and never cached.
            await self._send_error("-1", Problem.BAD_FRAME, f"message ID over {MAX_MESSAGE_ID} characters")
            return
        if not isinstance(payload, dict):
            await self._send_error(message_id, Problem.FORMAT, "payload must be a JSON object")
            return
        answered = self._answers.get(message_id)
        if answered is not None and answered[0] == action:
            # A retransmission of a CALL we answered: same answer, applied once.
            await self._send_raw(answered[1])
            return
        if "_on_action" not in self.route_map.get(action, {}):
            if action in known_actions(self.ocpp_version):
                await self._send_error(message_id, Problem.NOT_SUPPORTED, f"{action} is not supported")
            else:
                await self._send_error(message_id, Problem.NOT_IMPLEMENTED, f"{action} is not implemented")
            return
        violation = _first_violation(action, self.ocpp_version, payload) or value_violation(
            action, self.ocpp_version, payload
        )
        if violation is not None:
            problem, cause = violation
            await self._send_error(message_id, problem, cause)
            return
        self._answering = (message_id, action)
        carries_transaction = action in self.transaction_answers
        if carries_transaction:
            self._transaction_answered.clear()
        try:
            await self._dispatch(message_id, action, payload)
        finally:
            self._answering = None
            if carries_transaction:
                self._transaction_answered.set()
        # Only actions with a handler: an unknown action's name is the charger's to choose, and
        # a label per name would let it grow the metrics without bound.
        self.context.call_times.observe(action, time.perf_counter() - received)

    async def _dispatch(self, message_id: str, action: str, payload: dict[str, Any]) -> None:
        """Run the `@on` handler and answer; the library's `_handle_call`, minus its per-call
        `inspect.signature` and regex key conversion (and without `@after` hooks, unused here).
        """
        handler = self.route_map[action]["_on_action"]
        try:
            response = handler(**to_snake(payload))
            if inspect.isawaitable(response):
                response = await response
            answer = json.dumps([3, message_id, payload_of(response)], separators=(",", ":"))
        except Exception as error:
            LOGGER.exception("%s: %s handler failed", self.id, action)
            await self._send_error(message_id, Problem.INTERNAL, f"{type(error).__name__}")
            return
        await self._send(answer)

    def _route_response(self, frame: list[Any]) -> None:
        """Hand a CALLRESULT/CALLERROR to the waiting `call()`; malformed ones are dropped.

        OCPP-J forbids answering a response, so a broken one can only be logged.
        """
        if not self._call_lock.locked():
            # No command is waiting: queued, it would wait for the next command (and grow the
            # queue without bound meanwhile).
            LOGGER.warning("%s: dropping a response no command waits for: %s", self.id, _clipped(frame))
        elif frame[0] == 3 and len(frame) == 3 and isinstance(frame[1], str) and isinstance(frame[2], dict):
            self._response_queue.put_nowait(CallResult(frame[1], frame[2]))
        elif frame[0] == 4 and len(frame) in (4, 5) and all(isinstance(item, str) for item in frame[1:4]):
            details = frame[4] if len(frame) == 5 and isinstance(frame[4], dict) else {}
            self._response_queue.put_nowait(CallError(frame[1], frame[2], frame[3], details))
        else:
            LOGGER.warning("%s: dropping malformed response %s", self.id, _clipped(frame))

    async def send_command(self, payload: Any, names_transaction: bool = False) -> CommandResult:
        """Send one command CALL and wrap its answer; commands leave in the order issued, and one
        naming a transaction waits until the answer that tells the charge point its ID is sent."""
        async with self._command_turn:
            if names_transaction:
                await self._transaction_answered.wait()
            return await _call(self, payload)

    async def _send_error(self, message_id: str, problem: Problem, description: str) -> None:
        code = error_code(problem, self.ocpp_version)
        if not code:
            LOGGER.warning("%s: ignoring message (%s)", self.id, description)
            return
        await self._send(CallErrorFrame(message_id, code, description, {}).to_json())

    async def _send(self, message: str) -> None:
        """Send a frame; remember the answer to the CALL being handled, for retransmissions."""
        if self._answering is not None and message.startswith(("[3", "[4")):
            message_id, action = self._answering
            self._answers[message_id] = (action, message)
            while len(self._answers) > ANSWER_CACHE_SIZE:
                self._answers.popitem(last=False)
        await self._send_raw(message)

    async def _send_raw(self, message: str) -> None:
        FRAMES.debug("%s -> %s", self.id, message)
        self.context.log_frame(self.id, "out", message)
        await self._connection.send(message)


def _clipped(frame: Any) -> str:
    """A frame as a log line shows it: at most `MAX_LOGGED_CHARS` of it."""
    return clip(repr(frame), MAX_LOGGED_CHARS)


class _ClipFrames(logging.Filter):
    """Cuts the ocpp library's log lines, which carry whole frames (a charger's CALLERROR at
    WARNING, a response to no call at ERROR), to `MAX_LOGGED_CHARS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if len(message) > MAX_LOGGED_CHARS:
            record.msg, record.args = clip(message, MAX_LOGGED_CHARS), None
        return True


logging.getLogger("ocpp").addFilter(_ClipFrames())


def _message_id(frame: Any) -> str:
    """The frame's message ID if it can be read, else "-1" as OCPP-J prescribes."""
    if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str):
        return frame[1]
    return "-1"


_FAST_CHECKS: dict[tuple[str, str], Check] = {}


def _fast_check(action: str, ocpp_version: str, validator: Any) -> Check:
    """The compiled validity check for an action's request schema."""
    key = (action, ocpp_version)
    check = _FAST_CHECKS.get(key)
    if check is None:
        check = _FAST_CHECKS[key] = compile_schema(validator.schema)
    return check


def _first_violation(action: str, ocpp_version: str, payload: dict[str, Any]) -> tuple[Problem, str] | None:
    """The most telling schema violation of a request payload, if any.

    The compiled check clears valid payloads cheaply; `jsonschema` only runs to name an error.
    """
    validator = request_validator(action, ocpp_version)
    if validator is None:
        return None
    if _fast_check(action, ocpp_version, validator)(payload):
        return None
    errors = list(validator.iter_errors(payload))
    if not errors:
        return None
    # Report the shallowest error: it names the field the charge point got wrong.
    error = min(errors, key=lambda item: len(item.path))
    return problem_for_schema_keyword(str(error.validator)), str(error.message)[:200]


async def _call(connection: Any, payload: Any) -> CommandResult:
    """Send one CALL through the library and wrap its answer."""
    try:
        result = await connection.call(payload, suppress=False)
    except TimeoutError as error:
        raise CommandTimeoutError(str(error)) from error
    except OCPPError as error:
        raise CommandRejectedError(str(getattr(error, "code", "GenericError")), str(error)) from error
    except Exception as error:
        if type(error).__name__ == "UnknownCallErrorCodeError":
            raise CommandRejectedError("Unknown", str(error)) from error
        raise
    fields = dataclasses.asdict(result)
    return CommandResult(str(fields.get("status", "")), fields)

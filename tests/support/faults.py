"""A fault-injecting gRPC server interceptor for the flyteadmin stand-in (flyteadmin_standin.py).

Every stand-in serves through one `FaultInjector` (``standin.faults``); with no fault armed it passes
every call through. A test arms faults on it:

    standin.faults.add("fail", "CreateExecution", code=grpc.StatusCode.UNAVAILABLE)  # the next call fails
    standin.faults.add("lose_reply", "UpdateLaunchPlan", nth=2)   # the 2nd one is applied, then UNAVAILABLE
    standin.faults.add("hang", "ListExecutions")                  # never answered (until released / stopped)
    standin.faults.add("delay", seconds=0.5, times=None)          # every call, 0.5 s late
    standin.faults.add("fail", nth=7)                             # cut the 7th call of any method

Kinds: ``fail`` (answer with ``code`` and apply nothing), ``delay`` (sleep ``seconds``, then serve),
``hang`` (never answer: hold the call until `release()` or the stand-in stops, then UNAVAILABLE; a
client with a deadline sees DEADLINE_EXCEEDED), ``lose_reply`` (apply the call, then answer ``code``,
UNAVAILABLE by default, as a connection lost after flyteadmin committed), ``apply_then_hang`` (apply the
call, then never answer: a client deadline expires on a call that was applied), ``kill_before`` and
``kill_after`` (run ``action``, which kills the calling process, kill -9, before or after the call is
applied: a command killed at that call). ``method`` is the RPC's
name (``CreateTask``) or None for any; ``nth`` counts the calls that match ``method`` from the moment
the fault is added (1 = the next one); ``times`` is how many calls it hits (None: every one from the
nth on). `calls` records every method served, in order, for assertions on what a command sent.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Callable, Optional

import grpc

KINDS = ("fail", "delay", "hang", "lose_reply", "apply_then_hang", "kill_before", "kill_after")


@dataclasses.dataclass
class Fault:
    kind: str
    method: Optional[str]
    nth: int
    times: Optional[int]
    code: grpc.StatusCode
    seconds: float
    action: Optional[Callable[[], None]] = None  # kill_before / kill_after: what kills the caller (kill -9)
    seen: int = 0  # matching calls since the fault was armed
    hits: int = 0  # calls it was applied to

    def matches(self, method: str) -> bool:
        return self.method is None or self.method == method

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times


class FaultInjector(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self._released = threading.Event()

    # ----------------------------------------------------------------------------------------------
    # What tests call

    def add(self, kind: str, method: str | None = None, *, nth: int = 1, times: int | None = 1,
            code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE, seconds: float = 0.0,
            action: Callable[[], None] | None = None) -> Fault:  # fmt: skip
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if kind.startswith("kill") and action is None:
            raise ValueError(f"{kind} needs the action that kills the caller")
        if nth < 1:
            raise ValueError("nth counts from 1")
        fault = Fault(kind, method, nth, times, code, seconds, action)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault and let hanging calls go."""
        with self._lock:
            self.faults.clear()
        self.release()

    def release(self) -> None:
        """Answer (UNAVAILABLE) every call held by a `hang` fault; later hangs hold again."""
        self._released.set()
        self._released = threading.Event()

    def count(self, method: str) -> int:
        """How many calls of `method` reached the stand-in (faulted or not)."""
        with self._lock:
            return sum(1 for name in self.calls if name == method)

    # ----------------------------------------------------------------------------------------------
    # gRPC

    def _pick(self, method: str) -> Fault | None:
        with self._lock:
            self.calls.append(method)
            chosen = None
            for fault in self.faults:
                if fault.spent or not fault.matches(method):
                    continue
                fault.seen += 1
                if chosen is None and fault.seen >= fault.nth:
                    fault.hits += 1
                    chosen = fault
            return chosen

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method.rsplit("/", 1)[-1]
        serve = handler.unary_unary

        def faulty(request, context):
            fault = self._pick(method)
            if fault is None:
                return serve(request, context)
            if fault.kind == "fail":
                context.abort(fault.code, f"injected fault: {fault.code.name} on {method}")
            if fault.kind == "kill_before":  # the caller dies as its call arrives: nothing applied
                fault.action()
                context.abort(grpc.StatusCode.UNAVAILABLE, f"injected fault: the caller of {method} was killed")
            if fault.kind == "kill_after":  # applied, and the caller dies before the reply
                serve(request, context)
                fault.action()
                context.abort(grpc.StatusCode.UNAVAILABLE, f"injected fault: the caller of {method} was killed")
            if fault.kind == "delay":
                time.sleep(fault.seconds)
                return serve(request, context)
            if fault.kind == "hang":
                self._released.wait(timeout=fault.seconds or 120)
                context.abort(grpc.StatusCode.UNAVAILABLE, f"injected fault: {method} was never answered")
            answer = serve(request, context)  # applied, and then the reply is lost
            del answer
            if fault.kind == "apply_then_hang":
                self._released.wait(timeout=fault.seconds or 120)
            context.abort(fault.code, f"injected fault: the reply to {method} was lost")

        return grpc.unary_unary_rpc_method_handler(
            faulty, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )

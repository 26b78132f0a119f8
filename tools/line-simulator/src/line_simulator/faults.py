"""Injected failures for drills: answer with an error status, or answer late."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from line_simulator.schemas import FaultPublic, FaultSpec


@dataclass
class _Fault:
    spec: FaultSpec
    remaining: int | None


class FaultBook:
    """Faults in the order they were added; the first matching one fires."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> None:
        with self._lock:
            self._faults.append(_Fault(spec=spec, remaining=spec.count))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[FaultPublic]:
        with self._lock:
            return [FaultPublic(**f.spec.model_dump(), remaining=f.remaining) for f in self._faults]

    def take(self, endpoint: str) -> FaultSpec | None:
        """The fault this request suffers, if any; counts it as used."""
        with self._lock:
            for fault in self._faults:
                if fault.spec.endpoint not in (endpoint, "*"):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault.spec
            return None

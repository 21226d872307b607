"""Drive a flow with scripted replies, no server: what the flow yields, in order, and what
it returns. Replies come from ``tests/unit/replies.py`` (recorded from the real engines)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_valkey_semcache._effects import (
    Effect,
    Embed,
    EmbedMany,
    Flow,
    OnPrimaries,
    Run,
    Scan,
    Sleep,
    Verify,
)


class Script:
    """Answers each effect with the next reply; a reply that is an exception is thrown
    into the flow at its ``yield``, as the drivers do."""

    def __init__(self, replies: Iterable[Any] = (), responder: Any = None) -> None:
        self.replies = list(replies)
        self.responder = responder  # or a function: effect -> reply (or exception)
        self.effects: list[Effect] = []

    def run(self, flow: Flow[Any]) -> Any:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                assert not self.replies, f"replies left over: {self.replies}"
                return stop.value
            self.effects.append(effect)
            if self.responder is not None:
                reply = self.responder(effect)
            else:
                assert self.replies, f"no reply scripted for {name(effect)}"
                reply = self.replies.pop(0)
            value, error = (None, reply) if isinstance(reply, BaseException) else (reply, None)

    @property
    def names(self) -> list[str]:
        return [name(e) for e in self.effects]


def name(effect: Effect) -> str:
    """A short name: ``FT.INFO``, ``HSET+EXPIRE`` (a pipeline), ``Embed``, ``Verify``..."""
    if isinstance(effect, Run):
        return "+".join(" ".join(map(str, c[:2])) if c[0] == "MODULE" else str(c[0])
                        for c in effect.commands)  # fmt: skip
    if isinstance(effect, OnPrimaries):
        return f"OnPrimaries {effect.command[0]}"
    if isinstance(effect, Embed | EmbedMany | Scan | Sleep | Verify):
        return type(effect).__name__
    raise AssertionError(f"unknown effect {effect!r}")


def run(flow: Flow[Any], *replies: Any) -> tuple[Any, list[str]]:
    """(what ``flow`` returns, the names of the effects it yielded) for these replies."""
    script = Script(replies)
    return script.run(flow), script.names


class FakeClock:
    """A clock the test moves: ``monotonic`` and ``wall`` jump by ``advance``."""

    def __init__(self, monotonic: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.now, self.epoch = monotonic, wall

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.epoch

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.epoch += seconds


class Timed(Script):
    """A script on a :class:`FakeClock`: each effect takes ``cost[name]`` milliseconds."""

    def __init__(self, clock: FakeClock, cost: dict[str, float], replies: Iterable[Any]) -> None:
        super().__init__(replies)
        self.clock, self.cost = clock, cost
        self.responder = self._timed

    def _timed(self, effect: Effect) -> Any:
        self.clock.advance(self.cost.get(name(effect), 0.0) / 1000.0)
        assert self.replies, f"no reply scripted for {name(effect)}"
        return self.replies.pop(0)

"""A second opinion on a candidate the similarity threshold accepts.

A verifier sees the new question, the cached question and their cosine similarity, and
says whether the cached answer may be served. It runs only for candidates already above
the threshold, nearest first; the first accepted candidate is served. A verifier that
raises counts as a rejection (the safe side: a miss).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Verifier(Protocol):
    """Decides whether ``cached``'s answer may answer ``query``."""

    def verify(self, query: str, cached: str, similarity: float) -> bool:
        """True to serve the cached answer; False (or raising) makes it a miss.

        :param query: the new question.
        :param cached: the cached question the candidate answer was written for.
        :param similarity: their cosine similarity, in [0, 1], at or above the threshold.
        """
        ...

    async def averify(self, query: str, cached: str, similarity: float) -> bool:
        """Async ``verify``."""
        ...


class FunctionVerifier:
    """A verifier from a plain function (and optionally an async twin).

    :param func: ``verify``: ``func(query, cached, similarity) -> bool``.
    :param afunc: ``averify``, the async twin of ``func``; None: ``func`` in a thread.
    """

    def __init__(
        self,
        func: Callable[[str, str, float], bool],
        afunc: Callable[[str, str, float], Awaitable[bool]] | None = None,
    ) -> None:
        self.func = func
        self.afunc = afunc

    def verify(self, query: str, cached: str, similarity: float) -> bool:
        """``func``'s answer; parameters as for ``Verifier.verify``."""
        return bool(self.func(query, cached, similarity))

    async def averify(self, query: str, cached: str, similarity: float) -> bool:
        """``afunc``'s answer, else ``func``'s from a thread."""
        if self.afunc is not None:
            return bool(await self.afunc(query, cached, similarity))
        return bool(await asyncio.to_thread(self.func, query, cached, similarity))


class AllOf:
    """Accept only if every verifier accepts, asked in order (cheap checks first): e.g.
    ``AllOf(GuardVerifier(), JudgeVerifier(llm))`` spends judge calls only on candidates the
    guards let through.

    :param verifiers: at least one: ``Verifier`` objects or plain functions, as for ``verifier=``.
    """

    def __init__(self, *verifiers: Verifier | Callable[[str, str, float], bool]) -> None:
        if not verifiers:
            raise TypeError("AllOf needs at least one verifier")
        self.verifiers = [v for v in map(as_verifier, verifiers) if v is not None]

    def verify(self, query: str, cached: str, similarity: float) -> bool:
        """True if every verifier says so; parameters as for ``Verifier.verify``."""
        return all(v.verify(query, cached, similarity) for v in self.verifiers)

    async def averify(self, query: str, cached: str, similarity: float) -> bool:
        """Async ``verify``."""
        for v in self.verifiers:
            if not await v.averify(query, cached, similarity):
                return False
        return True


def as_verifier(value: Verifier | Callable[[str, str, float], bool] | None) -> Verifier | None:
    """``value`` as a ``Verifier``: one as is, a plain function wrapped, None as None."""
    if value is None or isinstance(value, Verifier):
        return value
    if callable(value):
        return FunctionVerifier(value)
    raise TypeError(f"verifier must be a Verifier or a callable, got {type(value).__name__}")

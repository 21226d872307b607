"""Cheap offline guards against the classic wrong hits of a semantic cache.

An embedding puts "How do I install X?" and "How do I uninstall X?" close together: the
topic is the same, the intent is not. :class:`GuardVerifier` is a :class:`Verifier` that
rejects a candidate when the two questions differ in a way that changes the answer:

- ``numbers``: different numbers, years, amounts or versions ("iPhone 6" vs "iPhone 7",
  "Nexus 5X" vs "Nexus 5", "under $300" vs "under $500");
- ``negation``: one question is negated and the other is not;
- ``opposites``: one says a word and the other its opposite (install/uninstall,
  advantages/disadvantages, buy/sell...);
- ``direction``: swapped slots around "to"/"into"/"than" ("Celsius to Fahrenheit" vs
  "Fahrenheit to Celsius");
- ``slots``: two different values of one closed class of words: periods (monthly/annual),
  days, months, units (Celsius/Kelvin, km/miles), currencies, colours, family members;
- ``entities``: a name (a capitalized word inside a sentence) or a word with digits
  ("iPhone7") that the other question does not mention ("weather in Paris" vs "in London",
  "jobs in Sweden" vs "jobs");
- ``question_type``: different kinds of question: yes/no, why, when, where, who, or open
  (what/which/how; how many/much counts as open too) ("What is X?" vs "Is X difficult?",
  "When was X invented?" vs "How was X invented?").

All checks are word-level rules in English, with no model and no I/O (microseconds per
candidate). They only ever turn a hit into a miss: a rejected candidate costs one model
call, a wrongly served answer costs the user. ``trust_above`` skips the checks for
candidates at or above that cosine similarity.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CHECKS: tuple[str, ...] = (
    "numbers", "negation", "opposites", "direction", "slots", "entities", "question_type",
)  # fmt: skip
"""The default checks. ``question_type`` joined them when hits were judged by read verdicts
rather than Quora's labels: it removes truly different answers that sit at high similarity
("How was the wheel invented?" / "Where was the wheel invented?"), which a higher threshold
does not (on the dev replay at 0.90: wrong answers 3.7% to 2.5% of hits, for 47.0% to 43.8%
of possible hits caught; see docs/correctness.md)."""

_WORD = re.compile(r"[A-Za-z0-9]+(?:['.,][A-Za-z0-9]+)*")
_SENTENCE_END = '.?!:;"('
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
    "thousand": "1000", "million": "1000000", "billion": "1000000000",
}  # fmt: skip
_ORDINALS = {"1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth"}
_NEGATIONS = {"not", "no", "never", "without", "cannot", "nobody", "nothing", "none", "neither"}
# Pairs of words whose swap changes what is asked; matched on stems (see _stem).
_OPPOSITES: tuple[tuple[str, str], ...] = (
    ("install", "uninstall"), ("enable", "disable"), ("connect", "disconnect"),
    ("lock", "unlock"), ("block", "unblock"), ("follow", "unfollow"),
    ("subscribe", "unsubscribe"), ("encrypt", "decrypt"), ("encode", "decode"),
    ("upload", "download"), ("import", "export"), ("input", "output"),
    ("increase", "decrease"), ("buy", "sell"), ("add", "remove"), ("start", "stop"),
    ("open", "close"), ("win", "lose"), ("gain", "lose"), ("accept", "reject"),
    ("send", "receive"), ("borrow", "lend"), ("hire", "fire"), ("like", "dislike"),
    ("agree", "disagree"), ("love", "hate"), ("legal", "illegal"),
    ("possible", "impossible"), ("advantage", "disadvantage"), ("benefit", "drawback"),
    ("pro", "con"), ("strength", "weakness"), ("success", "failure"),
    ("profit", "loss"), ("credit", "debit"), ("best", "worst"), ("good", "bad"),
    ("better", "worse"), ("maximum", "minimum"), ("max", "min"), ("most", "least"),
    ("more", "less"), ("high", "low"), ("higher", "lower"), ("cheap", "expensive"),
    ("easy", "difficult"), ("easy", "hard"), ("fast", "slow"), ("big", "small"),
    ("long", "short"), ("hot", "cold"), ("true", "false"), ("positive", "negative"),
    ("male", "female"), ("man", "woman"), ("men", "women"), ("boy", "girl"),
    ("boyfriend", "girlfriend"), ("husband", "wife"), ("rich", "poor"), ("old", "new"),
    ("before", "after"), ("first", "last"), ("past", "future"), ("online", "offline"),
    ("internal", "external"), ("introvert", "extrovert"), ("summer", "winter"),
)  # fmt: skip
_SLOTS: tuple[frozenset[str], ...] = tuple(
    frozenset(words.split())
    for words in (
        "hourly daily weekly monthly quarterly annual annually yearly",
        "minute hour day week month year decade century",
        "monday tuesday wednesday thursday friday saturday sunday",
        "january february march april june july august september october november december",
        "spring summer autumn winter",
        "morning afternoon evening night",
        "yesterday today tomorrow",
        "north south east west",
        "celsius fahrenheit kelvin",
        "meter metre kilometer kilometre mile feet foot inch yard centimeter",
        "gram kilogram pound ounce ton",
        "dollar euro rupee yen yuan peso",
        "red blue green yellow black white pink purple orange brown grey gray",
        "mother father mom dad sister brother son daughter uncle aunt cousin",
        "first second third fourth fifth last",
        "bachelor master phd doctorate diploma",
    )
)
_DIRECTED = {"to", "into", "than"}
_YES_NO = {
    "is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "should",
    "would", "will", "shall", "has", "have", "had", "may", "might", "must",
}  # fmt: skip
_STOP = {
    "a", "an", "the", "of", "in", "on", "at", "for", "to", "into", "from", "by", "with",
    "about", "as", "and", "or", "but", "if", "so", "than", "then", "that", "this", "these",
    "those", "it", "its", "i", "me", "my", "we", "our", "you", "your", "he", "she", "they",
    "them", "their", "his", "her", "what", "which", "who", "whom", "whose", "why", "how",
    "when", "where", "there", "here", "any", "some", "all", "get", "one", "much", "many",
    "way", "ways", "best", "good", "should", "quora", "someone", "something", "people",
    "thing", "things", "really", "also", "just", "very", "ever", "still", *_YES_NO,
}  # fmt: skip


def _stem(word: str) -> str:
    """A crude plural/verb-form folding: enough to match "advantages" with "advantage"."""
    w = word.lower()
    if w in _ORDINALS:
        return _ORDINALS[w]
    if w.endswith("n't"):
        return "not"
    if w.endswith("'s"):
        w = w[:-2]
    if w.endswith(("ss", "us", "is")):
        return w
    for suffix, keep, shortest in (
        ("ies", "y", 5),
        ("ches", "ch", 5),
        ("shes", "sh", 5),
        ("s", "", 4),
    ):
        if len(w) >= shortest and w.endswith(suffix):
            return w[: -len(suffix)] + keep
    return w


@dataclass(frozen=True)
class _Parsed:
    words: tuple[str, ...]  # as written
    stems: tuple[str, ...]  # lowercased and folded
    starts: tuple[bool, ...]  # the word starts a sentence

    @property
    def stemset(self) -> frozenset[str]:
        return frozenset(self.stems)


def _parse(text: str) -> _Parsed:
    matches = list(_WORD.finditer(text))
    words = tuple(m.group() for m in matches)
    starts = tuple(
        not (before := text[: m.start()].rstrip()) or before[-1] in _SENTENCE_END for m in matches
    )
    return _Parsed(words, tuple(_stem(w) for w in words), starts)


def _numbers(p: _Parsed) -> frozenset[str]:
    found = set()
    for s in p.stems:
        if s[0].isdigit():
            found.add(s.replace(",", ""))
        elif s in _NUMBER_WORDS and s != "one":  # "one" is mostly a pronoun
            found.add(_NUMBER_WORDS[s])
    return frozenset(found)


def _negated(p: _Parsed) -> bool:
    return any(s in _NEGATIONS for s in p.stems)


_WH = {"why": "why", "when": "when", "where": "where", "who": "who", "whom": "who", "whose": "who"}
_HOW_QUANTITY = {"many", "much", "long", "old", "often", "far"}


# "Can you explain X?", "Could someone tell me X?": a polite request, not a yes/no question.
_ASKING = {"can", "could", "would", "will"}
_ASKED = {"you", "someone", "anyone", "somebody", "anybody"}
_REQUESTS = {
    "explain", "tell", "describe", "give", "list", "suggest", "recommend", "share", "help",
    "show", "name", "define", "summarize", "summarise",
}  # fmt: skip


def _question_type(p: _Parsed) -> str | None:
    """why/when/where/who/quantity/yesno/open (what, which, how), or None when unclear."""
    stems = p.stems
    if len(stems) > 2 and stems[0] in _ASKING and stems[1] in _ASKED:
        rest = stems[3:] if stems[2] == "please" else stems[2:]
        if rest and rest[0] in _REQUESTS:
            return "open"
    for i, s in enumerate(stems[:2]):  # allow one leading word ("So, is...", "And why...")
        if s == "how" and i + 1 < len(stems) and stems[i + 1] in _HOW_QUANTITY:
            return "quantity"
        if s in _WH:
            return _WH[s]
        if s in {"what", "which", "how"}:
            return "open"
        if s in _YES_NO:
            return "yesno"
    return None


def _directed_pairs(p: _Parsed) -> set[tuple[str, str]]:
    """(word before, word after) around "to"/"into"/"than", on content words."""
    pairs = set()
    stems = p.stems
    for i, s in enumerate(stems):
        if s in _DIRECTED and 0 < i < len(stems) - 1:
            before, after = stems[i - 1], stems[i + 1]
            if before not in _STOP and after not in _STOP:
                pairs.add((before, after))
    return pairs


def _entities(p: _Parsed) -> set[str]:
    """Capitalized words that do not start a sentence, and words with digits inside."""
    found = set()
    for w, s, start in zip(p.words, p.stems, p.starts, strict=True):
        if s in _STOP:
            continue
        if (w[0].isupper() and not start) or (w[0].isalpha() and any(c.isdigit() for c in w)):
            found.add(s)
    return found


def conflict(
    query: str, cached: str, checks: Iterable[str] = CHECKS
) -> str | None:  # fmt: skip
    """The name of the first check that finds ``cached`` answers another question, or None."""
    q, c = _parse(query), _parse(cached)
    for check in checks:
        if _CHECKS[check](q, c):
            return check
    return None


def _numbers_differ(q: _Parsed, c: _Parsed) -> bool:
    return _numbers(q) != _numbers(c)


def _negation_differs(q: _Parsed, c: _Parsed) -> bool:
    return _negated(q) != _negated(c)


def _opposite(q: _Parsed, c: _Parsed) -> bool:
    qs, cs = q.stemset, c.stemset
    for a, b in _OPPOSITES:
        if (a in qs and b in cs and b not in qs and a not in cs) or (
            b in qs and a in cs and a not in qs and b not in cs
        ):
            return True
    return False


def _swapped(q: _Parsed, c: _Parsed) -> bool:
    mine = _directed_pairs(q)
    return any((b, a) in mine and a != b for a, b in _directed_pairs(c))


def _slot_differs(q: _Parsed, c: _Parsed) -> bool:
    qs, cs = q.stemset, c.stemset
    for words in _SLOTS:
        mine, theirs = qs & words, cs & words
        if mine and theirs and mine != theirs:
            return True
    return False


# "How many calories...?" is also asked as "What is the calorie count...?"
_COMPATIBLE_TYPES = {frozenset({"quantity", "open"})}


def _question_types_differ(q: _Parsed, c: _Parsed) -> bool:
    a, b = _question_type(q), _question_type(c)
    if a is None or b is None or a == b:
        return False
    return frozenset({a, b}) not in _COMPATIBLE_TYPES


def _same_root(a: str, b: str) -> bool:
    """India/Indian, Canada/Canadian, China/Chinese; not Austria/Australia."""
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    if common is None:
        common = min(len(a), len(b))
    return common >= max(4, min(len(a), len(b)) - 1)


def _mentions(p: _Parsed, entity: str) -> bool:
    """Whether ``p`` has the entity or a word of the same root."""
    return any(s == entity or _same_root(s, entity) for s in p.stems)


def _entities_differ(q: _Parsed, c: _Parsed) -> bool:
    return any(not _mentions(c, e) for e in _entities(q)) or any(
        not _mentions(q, e) for e in _entities(c)
    )


_CHECKS = {
    "numbers": _numbers_differ,
    "negation": _negation_differs,
    "opposites": _opposite,
    "direction": _swapped,
    "slots": _slot_differs,
    "question_type": _question_types_differ,
    "entities": _entities_differ,
}


class GuardVerifier:
    """A ``Verifier`` made of word-level checks: cheap, offline, no model call.

    :param checks: the names of the checks to run (default: all of ``CHECKS``).
    :param trust_above: a cosine similarity at or above which candidates are accepted
        without checks (None, the default: always check).
    """

    def __init__(self, checks: Sequence[str] = CHECKS, *, trust_above: float | None = None) -> None:
        unknown = sorted(set(checks) - set(_CHECKS))
        if unknown:
            raise ValueError(f"unknown checks {unknown}; valid: {sorted(_CHECKS)}")
        self.checks = tuple(checks)
        self.trust_above = trust_above

    def verify(self, query: str, cached: str, similarity: float) -> bool:
        """True unless a check finds ``cached`` asks another question than ``query``;
        parameters as for ``Verifier.verify``."""
        if self.trust_above is not None and similarity >= self.trust_above:
            return True
        return conflict(query, cached, self.checks) is None

    async def averify(self, query: str, cached: str, similarity: float) -> bool:
        """Async ``verify`` (no I/O: it yields to the loop once)."""
        await asyncio.sleep(0)
        return self.verify(query, cached, similarity)

    def __repr__(self) -> str:
        return f"GuardVerifier(checks={list(self.checks)}, trust_above={self.trust_above})"


__all__ = ["CHECKS", "GuardVerifier", "conflict"]

"""GuardVerifier on hand-written pairs: the classic traps are rejected, paraphrases pass."""

from __future__ import annotations

import time

import pytest

from langchain_valkey_semcache.guards import (
    CHECKS,
    GuardVerifier,
    _parse,
    _question_type,
    _same_root,
    conflict,
)
from langchain_valkey_semcache.verification import Verifier, as_verifier

TRAPS = [
    ("How do I install Python on Windows?", "How do I uninstall Python on Windows?", "opposites"),
    ("What are the benefits of remote work?", "What are the drawbacks of remote work?",
     "opposites"),
    ("What are the advantages of solar panels?", "What are the disadvantages of solar panels?",
     "opposites"),
    ("Should I buy bitcoin now?", "Should I sell bitcoin now?", "opposites"),
    ("How do I convert Celsius to Fahrenheit?", "How do I convert Fahrenheit to Celsius?",
     "direction"),
    ("How do I translate English into Spanish?", "How do I translate Spanish into English?",
     "direction"),
    ("Is the iPhone 6 waterproof?", "Is the iPhone 7 waterproof?", "numbers"),
    ("Best laptop under $500?", "Best laptop under $1,000?", "numbers"),
    ("Does the Pixel 5a support 5G?", "Does the Pixel 5 support 5G?", "numbers"),
    ("Who won the world cup in 2014?", "Who won the world cup?", "numbers"),
    ("What is the refund policy for annual plans?", "What is the refund policy for monthly plans?",
     "slots"),
    ("Which gift should I buy for my mother?", "Which gift should I buy for my father?", "slots"),
    ("How do I lose weight without dieting?", "How do I lose weight by dieting?", "negation"),
    ("Why doesn't my phone charge?", "Why does my phone charge slowly?", "negation"),
    ("What is the weather in Paris today?", "What is the weather in London today?", "entities"),
    ("Are there jobs for engineers in Sweden?", "Are there jobs for engineers?", "entities"),
]  # fmt: skip

PARAPHRASES = [
    ("How do I reset my password?", "I forgot my password, how can I reset it?"),
    ("What is the capital of Australia?", "Which city is Australia's capital?"),
    ("How many calories are in a banana?", "What's the calorie count of a banana?"),
    ("How do I convert Celsius to Fahrenheit?",
     "What's the formula to go from Celsius to Fahrenheit?"),
    ("What is the first law of thermodynamics?", "What is the 1st law of thermodynamics?"),
    ("What do Canadians think of Obama?", "What do people in Canada think about Obama?"),
    ("Is it possible to learn guitar in two months?", "Can I learn guitar in 2 months?"),
    ("What are the benefits of meditation?", "What are the benefits of meditating daily?"),
    ("How can I improve my English?", "How do I get better at English? Any tips?"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "cached", "check"), TRAPS)
def test_traps_are_rejected_by_the_named_check(query: str, cached: str, check: str) -> None:
    assert conflict(query, cached) == check
    assert conflict(cached, query) == check  # symmetric
    assert GuardVerifier().verify(query, cached, 0.95) is False


@pytest.mark.parametrize(("query", "cached"), PARAPHRASES)
def test_paraphrases_pass(query: str, cached: str) -> None:
    assert conflict(query, cached) is None
    assert GuardVerifier().verify(query, cached, 0.91) is True


def test_question_type_is_a_default_check() -> None:
    """The seed blog's trap, and how/when at high similarity, are rejected by default."""
    blog = ("Is semantic caching difficult?", "What is semantic caching?")
    assert "question_type" in CHECKS
    assert GuardVerifier().verify(*blog, 0.90) is False
    assert conflict(*blog) == "question_type"
    assert GuardVerifier().verify("When was the wheel invented?", "How was the wheel invented?",
                                  0.95) is False  # fmt: skip
    loose = GuardVerifier([c for c in CHECKS if c != "question_type"])
    assert loose.verify(*blog, 0.90) is True
    assert conflict("How do I learn French?", "What is the best way to learn French?") is None
    # a polite request is not a yes/no question
    assert (
        conflict("What is semantic caching?", "Can you explain what semantic caching is?") is None
    )
    assert conflict("Could someone please tell me what a VPN is?", "What is a VPN?") is None
    assert conflict("Can you swim?", "What is swimming?") == "question_type"


def test_sentence_starts_are_not_entities() -> None:
    assert conflict("How do I learn to cook? Please help.", "How can I learn to cook?") is None
    assert conflict("What is Python used for?", "what is python used for") is None


def test_trust_above_skips_checks() -> None:
    guard = GuardVerifier(trust_above=0.97)
    trap = ("Is the iPhone 6 waterproof?", "Is the iPhone 7 waterproof?")
    assert guard.verify(*trap, 0.96) is False
    assert guard.verify(*trap, 0.97) is True


def test_selected_checks_only() -> None:
    trap = ("Is the iPhone 6 waterproof?", "Is the iPhone 7 waterproof?")
    assert GuardVerifier(["negation"]).verify(*trap, 0.95) is True
    with pytest.raises(ValueError, match="unknown checks"):
        GuardVerifier(["numbers", "vibes"])


async def test_is_a_verifier_with_an_async_twin() -> None:
    guard = GuardVerifier()
    assert isinstance(guard, Verifier) and as_verifier(guard) is guard
    assert await guard.averify("How do I install it?", "How do I uninstall it?", 0.9) is False
    assert await guard.averify("How do I reset my password?", "How to reset my password?", 0.9)
    assert "numbers" in repr(guard)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many moons does Mars have?", "quantity"),
        ("So how much does it cost?", "quantity"),
        ("Why is the sky blue?", "why"),
        ("And when did it start?", "when"),
        ("Whom should I ask?", "who"),
        ("What is Python?", "open"),
        ("Which laptop is best?", "open"),
        ("How do I cook rice?", "open"),
        ("Is Python slow?", "yesno"),
        ("Please tell me why", None),  # the question word comes too late
        ("Tell me, is it safe?", None),
        ("how", "open"),  # "how" as the last word: no quantity word after it
        ("Rice: how long?", "quantity"),
    ],
)
def test_question_type_of_each_kind(question: str, kind: str | None) -> None:
    assert _question_type(_parse(question)) == kind


def test_same_root_names() -> None:
    assert _same_root("india", "indian") and _same_root("indian", "india")
    assert _same_root("iran", "iranian")
    assert not _same_root("austria", "australia")
    assert not _same_root("iran", "iraq")
    assert conflict("What is the weather in Austria?", "What is the weather in Australia?") == (
        "entities"
    )
    assert conflict("What do Indians eat?", "What do people in India eat?") is None


async def test_async_twin_is_immediate_and_honours_trust_above() -> None:
    trap = ("Is the iPhone 6 waterproof?", "Is the iPhone 7 waterproof?")
    started = time.perf_counter()
    assert await GuardVerifier(trust_above=0.97).averify(*trap, 0.97) is True
    assert await GuardVerifier(trust_above=0.97).averify(*trap, 0.96) is False
    assert time.perf_counter() - started < 0.5

"""The writer session of a client, without a server: consecutive counters per log name,
counters given back after a refusal, a new session after a fork the hooks missed."""

from __future__ import annotations

from neurallog.client.writer import Writer


def test_counters_per_log_name_and_given_back_only_when_last() -> None:
    writer = Writer()
    session, first = writer.take("a", 3)
    assert len(session) == 16 and first == 0
    assert writer.take("a", 2) == (session, 3)
    assert writer.take("b", 1) == (session, 0)
    writer.give_back("a", session, 3, 2)  # refused: 3 and 4 are free again
    assert writer.take("a", 1) == (session, 3)
    writer.give_back("a", session, 0, 3)  # not the last ones taken: nothing changes
    assert writer.take("a", 1) == (session, 4)
    assert writer.lock("a") is writer.lock("a") and writer.lock("a") is not writer.lock("b")


def test_a_fork_that_skipped_the_hooks_starts_a_new_session() -> None:
    writer = Writer()
    session, _ = writer.take("a", 5)
    writer._pid = -1  # as seen from a child whose fork skipped the at-fork hooks
    other, first = writer.take("a", 1)
    assert other != session and first == 0
    writer.give_back("a", session, 5, 1)  # the parent's session: ignored
    assert writer.take("a", 1) == (other, 1)
    writer.reset()
    assert writer.take("a", 1)[0] not in (session, other)

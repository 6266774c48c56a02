"""Stance changes from a timeline of positions: corroboration, disputes, no flip-flops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from extractors.changes import Position, detect_changes

DAY = datetime(2026, 1, 6, 9, tzinfo=UTC)


def position(hours: float, stance: str, cluster: str) -> Position:
    return Position(
        f"o-{cluster}-{hours}", f"a-{cluster}-{hours}", cluster, stance, DAY + timedelta(hours=hours)
    )


def test_restating_a_stance_is_not_a_change():
    timeline = [position(0, "rejects", "a"), position(5, "rejects", "b"), position(50, "rejects", "c")]
    assert detect_changes(timeline) == []


def test_a_contradiction_is_a_change_from_its_first_report():
    timeline = [position(0, "noncommittal", "a"), position(30, "support", "b"), position(31, "support", "c")]
    [change] = detect_changes(timeline)
    assert (change.from_stance, change.to_stance) == ("noncommittal", "support")
    assert change.first.cluster_id == "b" and change.sources == 2 and change.dissent == 0


def test_copies_of_one_report_count_as_one_source():
    timeline = [
        position(0, "noncommittal", "a"),
        position(30, "support", "wire"),
        position(31, "support", "wire"),
    ]
    assert detect_changes(timeline, min_sources=2) == []
    confirmed = detect_changes([*timeline, position(32, "support", "other")], min_sources=2)
    assert [c.confirmed.cluster_id for c in confirmed] == ["other"]


def test_outlets_disagreeing_in_one_period_make_a_disputed_change_not_a_flip_flop():
    timeline = [
        position(0, "rejects", "a"),
        position(30, "accepts", "b"),
        position(32, "rejects", "c"),  # another outlet, the same day: still rejects
        position(33, "accepts", "d"),
    ]
    [change] = detect_changes(timeline, window=timedelta(hours=24))
    assert (change.to_stance, change.sources, change.dissent) == ("accepts", 2, 1)


def test_a_reversal_after_the_dispute_window_is_a_change_back():
    timeline = [position(0, "rejects", "a"), position(30, "accepts", "b"), position(80, "rejects", "c")]
    changes = detect_changes(timeline, window=timedelta(hours=24))
    assert [(c.from_stance, c.to_stance) for c in changes] == [("rejects", "accepts"), ("accepts", "rejects")]


def test_recomputing_gives_the_same_changes():
    timeline = [position(h, s, f"c{h}") for h, s in [(0, "oppose"), (30, "support"), (90, "oppose")]]
    assert detect_changes(timeline) == detect_changes(list(timeline))

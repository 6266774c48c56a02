"""Loading a story folder: the real seed story, and the mistakes people make editing one by hand."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from extractors.story import StoryError, load_story
from tests.conftest import SEED_STORY


def story_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "story"
    shutil.copytree(SEED_STORY, folder)
    return folder


def edit(folder: Path, name: str, old: str, new: str) -> Path:
    """Replace the first ``old`` in ``folder/name``; the test fails if ``old`` is not there."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}: the seed story changed, update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# The real seed story


def test_seed_story_loads_its_actors_issues_and_feeds() -> None:
    story = load_story(SEED_STORY)

    assert story.id == "uk-troops-ukraine"
    assert len(story.actors) == 15
    ids = {actor.id for actor in story.actors}
    assert {"trump", "us", "russia", "uk", "starmer"} <= ids
    assert story.actor("trump").affiliation == "us"
    assert story.actor("russia").kind == "state"

    assert [issue.id for issue in story.issues] == [
        "troops-in-ukraine",
        "us-security-guarantee",
        "russia-accepts-troops",
    ]
    guarantee = story.issue("us-security-guarantee")
    assert set(guarantee.labels) == {"support", "oppose", "noncommittal"}
    assert guarantee.negation == {"support": "oppose"}  # "will not provide"
    assert guarantee.softened == {"support": "noncommittal"}  # "stopped short of providing"
    assert "stopped short of" in guarantee.softeners  # softeners apply to every issue
    assert guarantee.holders == ("us",)

    assert len(story.feeds) >= 8
    assert any(feed.kind == "search" for feed in story.feeds)
    assert all(feed.url.startswith(("http://", "https://")) for feed in story.feeds)


def test_seed_story_roles_carry_their_dates() -> None:
    trump = load_story(SEED_STORY).actor("trump")

    roles = {role.title: role for role in trump.roles}
    assert roles["US President"].since == date(2025, 1, 20)
    assert roles["US President"].until is None


def test_seed_article_text_drops_the_lines_left_by_the_page() -> None:
    seed = load_story(SEED_STORY).seed

    assert seed.text.startswith("In a move that underscores shifting geopolitical priorities")
    assert "boots on the ground" in seed.text
    assert "Leave a Reply" not in seed.text
    assert "" not in seed.text.split("\n")  # blank lines are gone too
    assert seed.title.startswith("Trump gives no outright US guarantee")
    # A bare date in story.yaml becomes noon UTC on that day.
    assert seed.published == datetime(2025, 2, 27, 12, tzinfo=UTC)


def test_fingerprint_changes_when_a_story_file_changes(tmp_path: Path) -> None:
    folder = story_copy(tmp_path)
    original = load_story(SEED_STORY).fingerprint

    assert load_story(folder).fingerprint == original  # depends on content, not location
    edit(folder, "actors.yaml", "metonyms: [Berlin]", "metonyms: [Berlin, Bonn]")
    assert load_story(folder).fingerprint != original


# Mistakes: each is a StoryError that names the file at fault


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoryError, match="story folder not found"):
        load_story(tmp_path / "no-such-story")


def test_missing_file_is_named(tmp_path: Path) -> None:
    folder = story_copy(tmp_path)
    (folder / "issues.yaml").unlink()

    with pytest.raises(StoryError) as caught:
        load_story(folder)
    assert str(folder / "issues.yaml") in str(caught.value)
    assert "file missing" in str(caught.value)


def test_missing_seed_article_is_named(tmp_path: Path) -> None:
    folder = story_copy(tmp_path)
    (folder / "article.txt").unlink()

    with pytest.raises(StoryError) as caught:
        load_story(folder)
    assert str(folder / "article.txt") in str(caught.value)
    assert "cannot read the seed article" in str(caught.value)


def test_invalid_yaml_is_named(tmp_path: Path) -> None:
    folder = story_copy(tmp_path)
    (folder / "actors.yaml").write_text("actors: [{id: trump, name: 'Donald Trump\n", encoding="utf-8")

    with pytest.raises(StoryError) as caught:
        load_story(folder)
    assert str(folder / "actors.yaml") in str(caught.value)
    assert "not valid YAML" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param(
            "actors.yaml",
            "kind: person",
            "kind: robot",
            "actor 'trump': kind must be one of person, state, organisation",
            id="unknown-actor-kind",
        ),
        pytest.param(
            "actors.yaml",
            "affiliation: us",
            "affiliation: usa",
            "actor 'trump' is affiliated with unknown actor 'usa'",
            id="affiliation-to-unknown-actor",
        ),
        pytest.param(
            "actors.yaml",
            "{name: Pete Hegseth, since: 2025-01-25}",
            "{since: 2025-01-25}",
            "actor 'us': each of officials needs a name",
            id="official-without-name",
        ),
        pytest.param(
            "feeds.yaml",
            "id: bbc-europe,",
            "id: bbc-world,",
            "duplicate id(s) bbc-world",
            id="duplicate-feed-id",
        ),
        pytest.param(
            "actors.yaml",
            "id: putin",
            "id: lavrov",
            "duplicate id(s) lavrov",
            id="duplicate-actor-id",
        ),
        pytest.param(
            "feeds.yaml",
            'url: "https://www.politico.eu/feed/"',
            'url: "feed://www.politico.eu/feed/"',
            "feed 'politico-eu': url must start with http:// or https://",
            id="feed-url-not-http",
        ),
        pytest.param(
            "issues.yaml",
            "negation: {accepts: rejects, rejects: undecided}",
            "negation: {accepts: refuses, rejects: undecided}",
            "issue 'russia-accepts-troops': negation accepts -> refuses names a label that has no cues",
            id="negation-label-without-cues",
        ),
        pytest.param(
            "issues.yaml",
            "      issue: troops-in-ukraine",
            "      issue: troops-in-kyiv",
            "issue 'russia-accepts-troops': answers names no other issue: 'troops-in-kyiv'",
            id="answers-unknown-issue",
        ),
        pytest.param(
            "issues.yaml",
            "labels: {support: accepts, oppose: rejects,",
            "labels: {support: accepts, against: rejects,",
            "answers maps against, which issue 'troops-in-ukraine' does not have",
            id="answers-unknown-label-of-the-other-issue",
        ),
        pytest.param(
            "issues.yaml",
            "labels: {support: accepts, oppose: rejects,",
            "labels: {support: welcomes, oppose: rejects,",
            "answers maps support -> welcomes, which is no label of this issue",
            id="answers-to-a-label-this-issue-lacks",
        ),
        pytest.param(
            "actors.yaml",
            "since: 2025-01-20",
            "since: next year",
            "actor 'trump': 'next year' is not a date (YYYY-MM-DD)",
            id="role-date-not-a-date",
        ),
        pytest.param(
            "issues.yaml",
            "      accepts: [",
            "      yes: [",
            "label True is not text; put it in quotes",  # YAML reads an unquoted yes as true
            id="unquoted-yes-label",
        ),
        pytest.param(
            "issues.yaml",
            'negators: [not, "n\'t", "no",',
            'negators: [not, "n\'t", no,',
            "negators: False is not text; put the word in quotes",  # YAML reads an unquoted no as false
            id="unquoted-no-phrase",
        ),
    ],
)
def test_invalid_entry_is_reported_with_its_file(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    folder = story_copy(tmp_path)
    path = edit(folder, name, old, new)

    with pytest.raises(StoryError) as caught:
        load_story(folder)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        pytest.param(
            "story.yaml",
            "published: 2025-02-27",
            "published: 2025-02-30",
            id="impossible-date",
        ),
        pytest.param(
            "issues.yaml",
            "negation: {accepts: rejects, rejects: undecided}",
            "negation: {accepts: [rejects], rejects: undecided}",
            id="negation-target-is-a-list",
        ),
        pytest.param(
            "actors.yaml",
            "affiliation: us",
            "affiliation: [us]",
            id="affiliation-is-a-list",
        ),
        pytest.param(
            "actors.yaml",
            "    roles:\n      - {title: US President",
            "    roles: 5\n    x:\n      - {title: US President",
            id="roles-not-a-list",
        ),
        pytest.param("issues.yaml", "    holders: [us]", "    holders: [usa]", id="holder-not-an-actor"),
        pytest.param("story.yaml", "- [Ukraine, Ukrainian,", "- [Ukraine, no,", id="boolean-in-require-all"),
        pytest.param(
            "issues.yaml",
            "      support: [will be there,",
            "      support: ['  ', will be there,",
            id="blank-phrase",
        ),
        pytest.param("story.yaml", "file: article.txt", "file: .", id="seed-file-is-a-folder"),
    ],
)
def test_malformed_value_is_a_story_error_naming_the_file(
    tmp_path: Path, name: str, old: str, new: str
) -> None:
    """The module promises that every mistake is a StoryError naming the file."""
    folder = story_copy(tmp_path)
    path = edit(folder, name, old, new)

    with pytest.raises(StoryError) as caught:
        load_story(folder)
    assert str(path) in str(caught.value)


def test_a_role_date_with_a_time_means_that_day(tmp_path: Path) -> None:
    folder = story_copy(tmp_path)
    edit(folder, "actors.yaml", "since: 2025-01-20", "since: 2025-01-20 10:00:00")
    [role] = [r for r in load_story(folder).actor("trump").roles if r.title == "US President"]
    assert str(role.since) == "2025-01-20"

"""Actors the registry does not know yet: found where news quotes them, promoted by a user,
then found in stored coverage by a retag that fetches nothing and re-sends nothing."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.coverage import content_hash
from extractors.records import Article
from extractors.sentences import split_sentences
from extractors.stance import tag_article
from extractors.story import load_story
from tests.conftest import SEED_STORY
from warehouse import store
from warehouse.connection import open_warehouse

STORY = load_story(SEED_STORY)
QUOTED = (
    "Defence Secretary Ben Wallace said British troops were ready to deploy to Ukraine after a ceasefire. "
    '"We will be there," said Wallace. According to Kristen Michal, Europe must lead. '
    "Keir Starmer said so too."
)


def test_names_in_attribution_patterns_become_candidates_and_known_actors_do_not():
    candidates = tag_article(QUOTED, STORY).candidates
    assert [c.name for c in candidates] == ["Ben Wallace", "Kristen Michal"]
    assert candidates[0].evidence == split_sentences(QUOTED)[0].text


def test_short_forms_count_only_after_the_full_name():
    story = load_story(SEED_STORY)
    wallace = story.actors[0].__class__(id="wallace", name="Ben Wallace", kind="person", affiliation="uk")
    actors = (*story.actors, wallace)
    before = tag_article(
        "Wallace said troops were ready.", story.__class__(**{**story.__dict__, "actors": actors})
    )
    after = tag_article(QUOTED, story.__class__(**{**story.__dict__, "actors": actors}))
    assert [m.actor_id for m in before.mentions] == []
    assert [(m.surface, m.how) for m in after.mentions if m.actor_id == "wallace"] == [
        ("Ben Wallace", "name"),
        ("Wallace", "short"),
    ]


def test_officials_speak_for_their_state_while_in_office():
    headline = "Hegseth rules out US backstop for European troops in Ukraine"
    in_office = tag_article("", STORY, datetime(2025, 2, 12, tzinfo=UTC), title=headline)
    assert [(m.actor_id, m.surface, m.how) for m in in_office.mentions] == [
        ("us", "Hegseth", "official"),
        ("us", "US", "alias"),
        ("ukraine", "Ukraine", "name"),
    ]
    assert [(o.actor_id, o.issue_id, o.stance) for o in in_office.observations] == [
        ("us", "us-security-guarantee", "oppose")
    ]
    # Olaf Scholz spoke for Germany until 6 May 2025; after that his words are his own.
    said = "Olaf Scholz said he would not send soldiers to Ukraine."
    assert [
        (o.actor_id, o.issue_id, o.stance)
        for o in tag_article(said, STORY, datetime(2025, 3, 1, tzinfo=UTC)).observations
    ] == [("germany", "troops-in-ukraine", "oppose")]
    later = tag_article(
        "Olaf Scholz said he would not send soldiers.", STORY, datetime(2025, 9, 1, tzinfo=UTC)
    )
    assert later.mentions == ()


def test_an_official_promoted_to_an_actor_of_their_own_is_that_actor():
    hegseth = STORY.actors[0].__class__(id="hegseth", name="Pete Hegseth", kind="person", affiliation="us")
    story = STORY.__class__(**{**STORY.__dict__, "actors": (*STORY.actors, hegseth)})
    tagging = tag_article(
        "Pete Hegseth said no US troops would go.", story, datetime(2025, 2, 12, tzinfo=UTC)
    )
    assert next(m.actor_id for m in tagging.mentions) == "hegseth"


@pytest.fixture
def followed(cli, tmp_path: Path, warehouse_path: Path) -> tuple[Path, str]:
    """A copy of the story, its warehouse, and one stored article that quotes Ben Wallace."""
    folder = tmp_path / "story"
    shutil.copytree(SEED_STORY, folder)
    assert cli("init", "--story", str(folder), "-w", str(warehouse_path)).returncode == 0
    when = datetime(2026, 1, 7, 10, tzinfo=UTC)
    article = Article(
        url="http://127.0.0.1/wallace.html", source_url="http://127.0.0.1/wallace.html", feed_id="test",
        outlet="Test", title="Wallace on troops", text=QUOTED, text_source="page", published=when,
        author=None, language="en", content_hash=content_hash(QUOTED), relevance=2.0, relevance_reason="test",
    )  # fmt: skip
    with open_warehouse(warehouse_path) as con:
        store.append_coverage(con, STORY.id, [(article, tag_article(QUOTED, STORY, when))])
    return folder, str(warehouse_path)


def test_a_user_promotes_a_candidate_and_retag_finds_its_stances(cli, followed: tuple[Path, str]):
    folder, warehouse = followed
    listed = cli("actors", "--story", str(folder), "-w", warehouse, "-f", "json")
    assert listed.returncode == 0, listed.stderr
    assert {"Ben Wallace", "Kristen Michal"} <= {row["name"] for row in json.loads(listed.stdout)}

    promoted = cli("actors", "--story", str(folder), "-w", warehouse, "--promote", "Ben Wallace",
                   "--affiliation", "uk")  # fmt: skip
    assert promoted.returncode == 0, promoted.stderr
    assert load_story(folder).actor("wallace").affiliation == "uk"
    alerts_before = cli("sql", "SELECT count(*) AS n FROM alerts", "-w", warehouse, "-f", "json").stdout

    retagged = cli("retag", "--story", str(folder), "-w", warehouse)
    assert retagged.returncode == 0, retagged.stderr
    query = "SELECT actor_id, stance FROM current_stances WHERE actor_id = 'wallace'"
    assert json.loads(cli("sql", query, "-w", warehouse, "-f", "json").stdout) == [
        {"actor_id": "wallace", "stance": "support"}
    ]
    listed = json.loads(cli("actors", "--story", str(folder), "-w", warehouse, "-f", "json").stdout)
    assert "Ben Wallace" not in {row["name"] for row in listed}  # promoted, no longer a candidate
    # Retagging again finds the same, and no alert is queued by a retag.
    again = cli("retag", "--story", str(folder), "-w", warehouse)
    assert counts(again.stdout) == counts(retagged.stdout)
    assert (
        cli("sql", "SELECT count(*) AS n FROM alerts", "-w", warehouse, "-f", "json").stdout == alerts_before
    )


def test_a_bad_promotion_names_the_problem_and_leaves_the_file_alone(cli, followed: tuple[Path, str]):
    folder, warehouse = followed
    original = (folder / "actors.yaml").read_text(encoding="utf-8")
    twice = cli("actors", "--story", str(folder), "-w", warehouse, "--promote", "Keir Starmer")
    assert twice.returncode == 3 and "already in" in twice.stderr
    wrong = cli("actors", "--story", str(folder), "-w", warehouse,
                "--promote", "Kristen Michal", "--affiliation", "estonia")  # fmt: skip
    assert wrong.returncode == 3 and "estonia" in wrong.stderr
    # Values go into YAML: an id that YAML would read as a boolean, or a line break, is refused.
    sneaky = cli("actors", "--story", str(folder), "-w", warehouse, "--promote", "Alexander Stubb",
                 "--affiliation", "uk\n    aliases: [Putin]")  # fmt: skip
    assert sneaky.returncode == 3 and "--affiliation" in sneaky.stderr
    quoted = cli(
        "actors", "--story", str(folder), "-w", warehouse, "--promote", "Alexander Stubb", "--id", "yes"
    )
    assert quoted.returncode == 0, quoted.stderr
    assert load_story(folder).actor("yes").name == "Alexander Stubb"
    (folder / "actors.yaml").write_text(original, encoding="utf-8")
    assert (folder / "actors.yaml").read_text(encoding="utf-8") == original


def counts(output: str) -> list[str]:
    """The numbers a retag reports, up to the changes it found."""
    return re.findall(r"\d+", " ".join(output.split()).split("stance changes")[0])


def test_a_trained_ner_pipeline_finds_names_the_patterns_cannot(tmp_path: Path):
    spacy = pytest.importorskip("spacy")  # installed with the dev tools and the 'ner' extra
    # A small trained-model stand-in: an English pipeline that recognises two names.
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": "PERSON", "pattern": "Stubb"}, {"label": "ORG", "pattern": "Bundeswehr"}]
    )
    nlp.to_disk(tmp_path / "pipeline")
    text = "Stubb said the alliance would help. The Bundeswehr said nothing. Stubb is Finnish."
    plain = tag_article(text, STORY).candidates
    story = STORY.__class__(**{**STORY.__dict__, "ner_model": str(tmp_path / "pipeline")})
    with_ner = tag_article(text, story).candidates
    assert plain == ()  # one-word names: the attribution patterns leave them alone
    assert [(c.name, c.evidence) for c in with_ner] == [
        ("Stubb", "Stubb said the alliance would help."),
        ("Bundeswehr", "The Bundeswehr said nothing."),
    ]


def test_a_ner_model_that_is_not_installed_is_a_clear_settings_error(cli, followed: tuple[Path, str]):
    folder, warehouse = followed
    done = cli(
        "retag", "--story", str(folder), "-w", warehouse, extra_env={"STORYWATCH_NER_MODEL": "en_no_such"}
    )
    assert done.returncode == 3
    assert "STORYWATCH_NER_MODEL" in done.stderr and "en_no_such" in done.stderr

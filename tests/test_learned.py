"""A story's learned stance model: trained by `storywatch learn` from labelled examples, it
reads the sentences the rules find no cue in, and says so in what it records."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from extractors.learned import MODEL_FILE, features, holder_features, tokens
from extractors.phrases import normalise
from extractors.stance import tag_article
from extractors.story import StoryError, load_story
from tests.conftest import SEED_STORY

pytest.importorskip("sklearn")  # installed with the dev tools and the 'learn' extra

WHEN = datetime(2025, 3, 10, tzinfo=UTC)
# A turn of phrase the rules have no cue for.
NEW = "Emmanuel Macron gave a firm thumbs-up to a European contingent for Ukraine on Monday."


def examples() -> list[dict]:
    """Labelled sentences that teach the thumbs-up idiom, and what is not a stance."""
    cases = []
    holders = [("Keir Starmer", "starmer"), ("Friedrich Merz", "germany"), ("Volodymyr Zelensky", "zelensky")]
    for n, (name, actor) in enumerate(holders * 3):
        cases.append({
            "id": f"up{n}", "text": f"{name} gave a thumbs-up to a peacekeeping contingent for Ukraine.",
            "published": "2025-03-02",
            "expect": [{"actor": actor, "issue": "troops-in-ukraine", "stance": "support"}],
        })  # fmt: skip
        cases.append({
            "id": f"down{n}", "text": f"{name} gave a thumbs-down to a peacekeeping contingent for Ukraine.",
            "published": "2025-03-02",
            "expect": [{"actor": actor, "issue": "troops-in-ukraine", "stance": "oppose"}],
        })  # fmt: skip
        cases.append({
            "id": f"none{n}", "text": f"{name} met the contingent's commanders in Ukraine on a rainy day.",
            "published": "2025-03-02", "expect": [],
        })  # fmt: skip
    return cases


@pytest.fixture
def story_folder(tmp_path: Path) -> Path:
    """A copy of the seed story without its trained model."""
    folder = tmp_path / "story"
    shutil.copytree(SEED_STORY, folder)
    (folder / MODEL_FILE).unlink(missing_ok=True)
    shutil.rmtree(folder / "examples", ignore_errors=True)
    return folder


def test_learn_trains_a_model_that_reads_what_the_rules_miss(cli, story_folder: Path):
    before = load_story(story_folder)
    assert tag_article(NEW, before, WHEN).observations == ()
    (story_folder / "examples").mkdir()
    (story_folder / "examples" / "idioms.yaml").write_text(yaml.safe_dump({"cases": examples()}))

    learned = cli("learn", "--story", str(story_folder))
    assert learned.returncode == 0, learned.stderr
    assert "Trained on 27 examples from 1 files" in learned.stdout
    assert "A guess counts from probability" in learned.stdout
    after = load_story(story_folder)
    assert after.model is not None and after.fingerprint != before.fingerprint
    [seen] = tag_article(NEW, after, WHEN).observations
    assert (seen.actor_id, seen.issue_id, seen.stance) == ("macron", "troops-in-ukraine", "support")
    assert seen.qualifiers == ("learned",) and seen.evidence == NEW
    assert seen.confidence < 0.9  # a guess weighs less than a rule's reading of the same words
    # The rules still come first: where they read a sentence, the model adds nothing.
    ruled = "Emmanuel Macron ruled out sending French troops to Ukraine."
    assert [(o.stance, o.cue, o.qualifiers) for o in tag_article(ruled, after, WHEN).observations] == [
        ("oppose", "ruled out", ())
    ]


def test_learn_trains_who_holds_a_stance_when_the_examples_name_others(cli, story_folder: Path):
    cases = examples()
    for n, case in enumerate(cases):
        # Trump is named beside the holder and holds nothing (nor does Ukraine, named in each).
        if case["expect"]:
            case["text"] = f"While Donald Trump looked on, {case['text'][0].lower()}{case['text'][1:]}"
            case["id"] = f"with-trump-{n}"
    (story_folder / "examples").mkdir()
    (story_folder / "examples" / "idioms.yaml").write_text(yaml.safe_dump({"cases": examples() + cases}))
    learned = cli("learn", "--story", str(story_folder))
    assert learned.returncode == 0, learned.stderr
    assert (
        "learned from 90 (actor, issue) pairs named in examples that state the issue (36 of them hold it)"
        in learned.stdout
    )
    story = load_story(story_folder)
    assert story.model.holders is not None
    seen = tag_article(
        "While Donald Trump looked on, Emmanuel Macron gave a thumbs-up to a contingent in Ukraine.",
        story,
        WHEN,
    )
    assert [(o.actor_id, o.stance) for o in seen.observations] == [("macron", "support")]


def test_examples_with_an_unknown_label_are_refused_by_name(cli, story_folder: Path):
    (story_folder / "examples").mkdir()
    bad = examples()
    bad[0]["expect"][0]["stance"] = "enthusiastic"
    (story_folder / "examples" / "bad.yaml").write_text(yaml.safe_dump({"cases": bad}))
    refused = cli("learn", "--story", str(story_folder))
    assert refused.returncode == 3
    assert "troops-in-ukraine" in refused.stderr and "enthusiastic" in refused.stderr
    assert not (story_folder / MODEL_FILE).exists()


def test_a_broken_model_file_is_a_story_error_naming_it(story_folder: Path):
    (story_folder / MODEL_FILE).write_text('{"format": 1, "issues": {"troops-in-ukraine": ')
    with pytest.raises(StoryError, match=str(story_folder / MODEL_FILE)):
        load_story(story_folder)


def test_features_see_sides_not_names_and_mark_negated_words():
    story = load_story(SEED_STORY)
    text = "The Kremlin will not accept troops, Lavrov said."
    from extractors.actors import find_mentions
    from extractors.sentences import split_sentences

    mentions = find_mentions(text, split_sentences(text), story.actors)
    words = tokens(normalise(text), 0, len(text), mentions, {a.id: a for a in story.actors})
    assert [w.text for w in words] == ["_russia_", "will", "not", "accept", "troops", "_russia_", "said"]
    feats = features(words)
    assert feats["w=_russia_"] == 2 and feats["n=accept"] == 1 and feats["n=will"] == 0


def test_an_examples_file_that_is_not_a_list_of_cases_is_named(cli, story_folder: Path):
    (story_folder / "examples").mkdir()
    (story_folder / "examples" / "notes.yaml").write_text("just: some notes\n")
    refused = cli("learn", "--story", str(story_folder))
    assert refused.returncode == 3
    assert "notes.yaml" in refused.stderr and "cases" in refused.stderr


def handmade(folder: Path, weight: float, holders: dict | None = None, **limits: float) -> None:
    """A model that reads the word "thumbs" as opposition to troops, as sure as ``weight`` makes it
    (and, given ``holders``, a holder model)."""
    doc = {
        "format": 1, "story": "uk-troops-ukraine", "examples": 1, "trained_on": ["by hand"],
        "min_probability": 0.5, "overrule": 0.9, "overrule_qualified": 0.98, **limits,
        "issues": {"troops-in-ukraine": {
            "classes": ["none", "oppose", "support"], "intercept": [0.0, 0.0, 0.0],
            "weights": {"w=thumbs": [0.0, weight, 0.0]},
        }},
    }  # fmt: skip
    if holders is not None:
        doc["holders"] = holders
    (folder / MODEL_FILE).write_text(json.dumps(doc))


# A holder model that knows one thing: the actor after "from" holds the stance (p = 0.98);
# any other actor named is unlikely to (p = 0.018).
FROM_HOLDS = {"intercept": -4.0, "weights": {"o-1=from": 8.0}, "confirm": 0.3, "choose": 0.5, "sure": 0.9}


def held(text: str, story) -> list[tuple]:
    return [
        (o.actor_id, o.stance, o.attribution, o.claimed_by)
        for o in tag_article(text, story, WHEN).observations
    ]


def test_the_holder_model_drops_an_unlikely_holder_and_chooses_where_it_believes_nobody(story_folder: Path):
    handmade(story_folder, weight=4.0)
    rules_only = load_story(story_folder)
    handmade(story_folder, weight=4.0, holders=FROM_HOLDS)
    story = load_story(story_folder)
    # The rules take the subject; the model finds Starmer unlikely, and chooses Macron instead.
    heard = "Starmer heard a thumbs down on a European contingent in Ukraine from Macron."
    assert held(heard, rules_only) == [("starmer", "oppose", "own", None)]
    assert held(heard, story) == [("macron", "oppose", "own", None)]
    # Where the rules find nobody, the model chooses; inside the report of another side, or of
    # someone the story does not know, it is a claim; of the same side, the actor's own word.
    assert held("The thumbs down on a European contingent in Ukraine came from Macron.", rules_only) == []
    assert held(
        "Zelensky said the thumbs down on a European contingent in Ukraine came from Macron.", story
    ) == [("macron", "oppose", "claim", "zelensky")]
    assert held(
        "'The thumbs down on a European contingent in Ukraine came from Macron,' he said.", story
    ) == [("macron", "oppose", "claim", "others")]
    assert held(
        "Starmer said the thumbs down on a European contingent in Ukraine came from Britain.", story
    ) == [("uk", "oppose", "own", None)]
    # What is asked of others states no position: the model chooses nobody there either.
    asked = "Zelensky asked Trump to give a thumbs down on a European contingent in Ukraine from Macron."
    assert held(asked, story) == []
    # A rule's cue keeps its holders only if the model does not find them unlikely...
    talked = "Macron and Starmer talked about the plan to send troops to Ukraine."
    assert held(talked, rules_only) != [] and held(talked, story) == []
    # ... except the agent of a passive, which is grammar, not a guess.
    passive = "A deployment of British troops to Ukraine was ruled out by Paris."
    assert held(passive, story) == held(passive, rules_only) == [("france", "oppose", "own", None)]


def test_a_sure_holder_model_adds_a_holder_beside_those_the_rules_chose(story_folder: Path):
    # People are as likely as not to hold (0.5: kept), and the actor after "from" is sure (0.98).
    people = {**FROM_HOLDS, "weights": {"o-1=from": 8.0, "kind=person": 4.0}}
    handmade(story_folder, weight=4.0, holders=people)
    story = load_story(story_folder)
    text = (
        "Macron gave a thumbs down to a European contingent in Ukraine, in talks with advisers from Britain."
    )
    assert held(text, story) == [("macron", "oppose", "own", None), ("uk", "oppose", "own", None)]
    # Below "sure", an actor is not added beside a holder the rules chose and the model keeps.
    handmade(story_folder, weight=4.0, holders={**people, "sure": 0.99})
    assert held(text, load_story(story_folder)) == [("macron", "oppose", "own", None)]


def test_a_holder_model_with_bad_numbers_is_refused(story_folder: Path):
    handmade(story_folder, weight=4.0, holders={**FROM_HOLDS, "confirm": 1.5})
    with pytest.raises(StoryError, match="at most 1"):
        load_story(story_folder)
    handmade(story_folder, weight=4.0, holders={**FROM_HOLDS, "weights": {"o-1=from": "NaN"}})
    with pytest.raises(StoryError, match=f"{MODEL_FILE}.*not a finite number"):
        load_story(story_folder)
    handmade(story_folder, weight=4.0, holders={"intercept": 0.0, "weights": {}})
    with pytest.raises(StoryError, match="confirm"):
        load_story(story_folder)
    handmade(story_folder, weight=4.0, holders={**FROM_HOLDS, "confirm": 0.95, "choose": 0.1})
    with pytest.raises(StoryError, match="confirm <= choose <= sure"):
        load_story(story_folder)


def test_holder_features_mark_the_actor_and_say_only_what_is_true():
    story = load_story(SEED_STORY)
    actors = {a.id: a for a in story.actors}
    text = "Zelensky said Putin would never accept troops."
    from extractors.actors import find_mentions
    from extractors.sentences import split_sentences

    words = tokens(
        normalise(text), 0, len(text), find_mentions(text, split_sentences(text), story.actors), actors
    )
    putin = holder_features(words, actors["putin"], "russia-accepts-troops")
    assert putin["o-1=said"] == 1 and putin["o-2=_other_"] == 1 and putin["o1=would"] == 1
    assert putin["b:said"] == 1 and putin["a:accept"] == 1
    # Putin is not the first actor named: the feature is absent, not present with a zero.
    assert "first" not in putin and putin["last"] == 1
    assert holder_features(words, actors["zelensky"], "russia-accepts-troops")["verb_after"] == 1


def test_a_sure_model_overrules_a_bare_cue_but_hardly_a_qualified_one(story_folder: Path):
    handmade(story_folder, weight=4.0)  # p(oppose) = e^4 / (e^4 + 2) = 0.965
    story = load_story(story_folder)
    bare = "Starmer will send troops to Ukraine, thumbs down."
    [seen] = tag_article(bare, story, WHEN).observations
    assert (seen.stance, seen.cue, seen.qualifiers) == ("oppose", "send troops", ("learned",))
    [ruled] = tag_article(bare, load_story(story_folder, with_model=False), WHEN).observations
    # The rules' confidence, times the model's probability and the weight of a learned reading.
    assert seen.confidence == pytest.approx(ruled.confidence * 0.965 * 0.8, abs=0.01)
    # "might" is a hedge the rules saw: 0.965 is not enough to overrule their reading.
    hedged = "Starmer might send troops to Ukraine, thumbs down."
    assert [(o.stance, o.qualifiers) for o in tag_article(hedged, story, WHEN).observations] == [
        ("noncommittal", ("hedged",))
    ]
    handmade(story_folder, weight=8.0)  # 0.9993
    sure = load_story(story_folder)
    assert [o.stance for o in tag_article(hedged, sure, WHEN).observations] == ["oppose"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"intercept": [float("nan"), 0.0, 0.0]}, "NaN is not a number", id="nan"),
        pytest.param({"intercept": [1e400, 0.0, 0.0]}, "not a finite number", id="infinite"),
        pytest.param({"classes": ["none", "none", "support"]}, "disagree", id="duplicate-class"),
        pytest.param({"classes": ["none", "oppose", "yes-please"]}, "yes-please", id="unknown-label"),
    ],
)
def test_a_model_that_does_not_fit_the_story_is_refused_by_name(
    story_folder: Path, change: dict, message: str
):
    handmade(story_folder, weight=4.0)
    doc = json.loads((story_folder / MODEL_FILE).read_text())
    doc["issues"]["troops-in-ukraine"].update(change)
    (story_folder / MODEL_FILE).write_text(json.dumps(doc).replace("Infinity", "1e400"))
    with pytest.raises(StoryError, match=message):
        load_story(story_folder)


def test_a_model_for_another_story_or_with_bad_limits_is_refused(story_folder: Path):
    handmade(story_folder, weight=4.0, min_probability=float("nan"))
    with pytest.raises(StoryError, match="not a number"):
        load_story(story_folder)
    handmade(story_folder, weight=4.0, overrule=1.5)
    with pytest.raises(StoryError, match="at most 1"):
        load_story(story_folder)
    handmade(story_folder, weight=4.0)
    doc = json.loads((story_folder / MODEL_FILE).read_text())
    (story_folder / MODEL_FILE).write_text(json.dumps({**doc, "story": "another-story"}))
    with pytest.raises(StoryError, match="another-story"):
        load_story(story_folder)


def test_a_contraction_is_a_negation():
    story = load_story(SEED_STORY)
    text = "Russia won't accept troops."
    words = tokens(normalise(text), 0, len(text), [], {a.id: a for a in story.actors})
    assert [w.text for w in words] == ["russia", "won't", "accept", "troops"]
    assert features(words)["n=accept"] == 1


def test_examples_that_name_an_unknown_issue_or_actor_are_refused_by_file_and_case(cli, story_folder: Path):
    (story_folder / "examples").mkdir()
    cases = examples()
    cases[3]["expect"] = [{"actor": "starmer", "issue": "troops-in-ukrain", "stance": "support"}]
    (story_folder / "examples" / "typo.yaml").write_text(yaml.safe_dump({"cases": cases}))
    refused = cli("learn", "--story", str(story_folder))
    assert refused.returncode == 3
    assert (
        "typo.yaml" in refused.stderr
        and f"case {cases[3]['id']}:" in refused.stderr
        and "troops-in-ukrain" in refused.stderr
    )

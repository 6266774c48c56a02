"""Who is named, who holds which stance, whether an item is coverage: the tagging rules at work."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from extractors.actors import find_mentions
from extractors.attribution import modifier, quoted
from extractors.coverage import content_hash, process_item, seed_coverage
from extractors.phrases import normalise
from extractors.records import Actor, FeedItem, Relevance, Story
from extractors.relevance import judge, profile_words
from extractors.sentences import split_sentences
from extractors.stance import tag_article
from extractors.story import load_story
from tests.conftest import SEED_STORY

IN_2025 = datetime(2025, 6, 1, 12, tzinfo=UTC)
IN_2020 = datetime(2020, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def story() -> Story:
    return load_story(SEED_STORY)


def mentions(text: str, story: Story, when: datetime | None = IN_2025) -> list[tuple[str, str]]:
    """(actor id, surface text) of every mention, in reading order."""
    found = find_mentions(text, split_sentences(text), story.actors, when)
    for mention in found:
        assert text[mention.start : mention.end] == mention.surface
    return [(m.actor_id, m.surface) for m in found]


def stances(text: str, story: Story, when: datetime | None = IN_2025) -> set[tuple[str, str, str]]:
    """(actor, issue, stance) of every observation in ``text``."""
    return {(o.actor_id, o.issue_id, o.stance) for o in tag_article(text, story, when).observations}


# find_mentions


def test_aliases_are_case_sensitive(story: Story) -> None:
    assert mentions("The US will decide. Tell us what you think.", story) == [("us", "US")]


def test_possessives_count_with_straight_or_curly_apostrophes(story: Story) -> None:
    assert mentions("Starmer's plan met Russia’s objection.", story) == [
        ("starmer", "Starmer's"),
        ("russia", "Russia’s"),
    ]


def test_metonyms_name_their_state(story: Story) -> None:
    text = "The Kremlin and Moscow objected. Downing Street replied. Washington stayed silent."

    assert mentions(text, story) == [
        ("russia", "The Kremlin"),  # a leading "The" is part of the name
        ("russia", "Moscow"),
        ("uk", "Downing Street"),
        ("us", "Washington"),
    ]


def test_longest_name_wins(story: Story) -> None:
    assert mentions("Donald J. Trump met Sir Keir Starmer and U.S. officials.", story) == [
        ("trump", "Donald J. Trump"),
        ("starmer", "Sir Keir Starmer"),
        ("us", "U.S."),
    ]


def test_role_titles_name_their_holder_only_while_held(story: Story) -> None:
    text = "The US President spoke."

    assert mentions(text, story, IN_2025) == [("trump", "The US President")]
    # In 2020 Trump did not hold the title the story gives him: the words name only the US.
    assert mentions(text, story, IN_2020) == [("us", "US")]


def test_a_title_after_the_states_possessive_names_its_holder(story: Story) -> None:
    # "Russian Foreign Minister" in the registry is also "Russia's foreign minister"; another
    # state's title is nobody the story follows.
    text = "Russia's foreign minister met Britain’s Prime Minister and Italy's prime minister."

    assert mentions(text, story, IN_2025) == [
        ("lavrov", "Russia's foreign minister"),
        ("starmer", "Britain’s Prime Minister"),
    ]


def test_a_former_holder_of_a_title_is_not_its_holder(story: Story) -> None:
    assert mentions("Former Russian leader Dmitry Medvedev spoke.", story, IN_2025) == [
        ("russia", "Russian"),
        ("russia", "Dmitry Medvedev"),
    ]


def test_mentions_carry_their_sentence(story: Story) -> None:
    text = "Macron spoke first. Then Zelensky replied."

    found = find_mentions(text, split_sentences(text), story.actors, IN_2025)

    assert [(m.actor_id, m.sentence_index) for m in found] == [("macron", 0), ("zelensky", 1)]


# tag_article


def test_speaker_holds_the_stance(story: Story) -> None:
    # Britain stands right before the cue, but Starmer is the one speaking.
    assert stances("Britain is ready to deploy troops, Starmer said.", story) == {
        ("starmer", "troops-in-ukraine", "support"),
    }
    assert stances("Trump said he would back a European force with a security guarantee.", story) == {
        ("trump", "us-security-guarantee", "support"),
    }


def test_speakers_named_together_all_hold_the_stance(story: Story) -> None:
    rules = replace(story, model=None)
    support = {
        # Headlines join speakers with a comma; the verb's neighbour is only the last of them.
        "UK, France say reassurance force ‘ready to deploy’ after ceasefire": {"uk", "france"},
        "Britain and France said their troops were ready to deploy after a ceasefire.": {"uk", "france"},
        # Whichever of them is named first, both speak for themselves ("Britain" is Starmer's side).
        "Starmer and Macron said Britain was ready to deploy troops.": {"starmer", "macron"},
        "Macron and Starmer said Britain was ready to deploy troops.": {"starmer", "macron"},
    }
    for text, holders in support.items():
        assert stances(text, rules) == {(h, "troops-in-ukraine", "support") for h in holders}, text
    # A list after an opening phrase's comma speaks together.
    assert stances(
        "On Thursday, Britain, France and Germany said they would send troops to Ukraine.", rules
    ) == {
        ("uk", "troops-in-ukraine", "support"),
        ("france", "troops-in-ukraine", "support"),
        ("germany", "troops-in-ukraine", "support"),
    }
    # Who is named in an opening phrase, in the reported words or in another clause does not speak.
    for text in (
        "Meeting Trump, Starmer said Britain was ready to deploy troops.",
        "After meeting Trump, Macron and Starmer said Europe was ready to deploy troops.",
        "Europe will send troops to protect Kyiv, Starmer and Macron said.",
        "Zelensky thanked Trump, and Starmer and Macron said Europe was ready to deploy troops.",
    ):
        found = stances(text, rules)
        assert ("starmer", "troops-in-ukraine", "support") in found, text
        assert {actor for actor, _, _ in found} <= {"starmer", "macron"}, text


def test_a_speaker_does_not_stand_in_for_a_side_the_open_issue_leaves_out(story: Story) -> None:
    # Russia's objection is the russia-accepts-troops issue's; it is no position of Zelensky's
    # on the force. On an issue of one side, a speaker of that side still speaks for it.
    rules = replace(story, model=None)
    assert stances("Zelensky said the Kremlin would reject European troops.", rules) == {
        ("russia", "russia-accepts-troops", "rejects")
    }
    assert stances("Hegseth said Britain would get no US backstop.", rules) == {
        ("us", "us-security-guarantee", "oppose")
    }


def test_an_issues_related_words_open_a_sentence_to_the_model_only(story: Story) -> None:
    # "Ukraine's security" and "hubs" are no topic of the rules, but the story's model may read them.
    without = replace(
        story, fingerprint="no-related", issues=tuple(replace(i, related=()) for i in story.issues)
    )
    said = {
        "Trump says US will be there for Ukraine's security after the war": (
            "trump",
            "us-security-guarantee",
            "support",
        ),
        "Medvedev said the British and French hubs in Ukraine would be the first to burn.": (
            "russia",
            "russia-accepts-troops",
            "rejects",
        ),
    }
    for text, stance in said.items():
        found = tag_article(text, story, IN_2025).observations
        assert [(o.actor_id, o.issue_id, o.stance, o.qualifiers) for o in found] == [(*stance, ("learned",))]
        assert tag_article(text, without, IN_2025).observations == ()
        assert tag_article(text, replace(story, model=None), IN_2025).observations == ()
    # A related word opens the sentence for its own issue only: "Paris declaration" is the Russia
    # issue's, and says nothing of a US guarantee.
    assert tag_article("Trump said the US would not accept the Paris declaration.", story).observations == ()


def test_a_quotation_left_open_runs_to_the_end_of_the_sentence() -> None:
    # News often opens a quotation that closes only sentences later: what follows is quoted.
    for text in (
        "Trump said: “Some of them, France, Germany, want boots on the ground.",
        'He said: "France will go.',
    ):
        sentence = split_sentences(text)[0]
        assert quoted(text, sentence, text.index("France"))
        assert not quoted(text, sentence, text.index("said"))
    closed = "“We are ready,” Macron said of France."
    assert not quoted(closed, split_sentences(closed)[0], closed.index("France"))
    # The mark that closes a quotation begun a sentence earlier, or an inch mark, opens none.
    for text in (
        '"This is about peace. It is about security," Trump said of France.',
        'The 12" guns of France.',
    ):
        sentence = split_sentences(text)[-1]
        assert not quoted(text, sentence, text.index("France")), text


def test_a_name_that_only_qualifies_others_holds_nothing(story: Story) -> None:
    # What "Ukraine's allies" do is theirs, and "a US-led mission" is the mission; a name followed
    # by a verb is the verb's subject.
    for text, name, qualifies in (
        ("Ukraine's European allies said they were ready to send troops.", "Ukraine", True),
        ("Ukraine’s Allies Aim to Secure US Offer to Deploy Troops", "Ukraine", True),
        ("A US-led mission would monitor the ceasefire.", "US", True),
        ("Zelensky urges allies to send troops.", "Zelensky", False),
    ):
        found = find_mentions(text, split_sentences(text), story.actors, IN_2025)
        mention = next(m for m in found if m.surface.startswith(name))
        assert modifier(normalise(text), mention) is qualifies, text


def test_a_states_embassy_speaks_for_it(story: Story) -> None:
    text = "The Russian embassy in London said European troops would be legitimate targets."
    found = tag_article(text, replace(story, model=None)).observations
    assert [(o.actor_id, o.issue_id, o.stance, o.attribution) for o in found] == [
        ("russia", "russia-accepts-troops", "rejects", "own")
    ]


def test_speaker_after_according_to(story: Story) -> None:
    text = "Foreign troops would be a legitimate target, according to Peskov."

    # Russia's side speaks to the russia-accepts-troops issue only (its not_holders say so).
    assert stances(text, story) == {("peskov", "russia-accepts-troops", "rejects")}


def test_speaker_after_according_to_at_sentence_start(story: Story) -> None:
    text = "According to Peskov, foreign troops would be a legitimate target."

    # Russia's side speaks to the russia-accepts-troops issue only (its not_holders say so).
    assert stances(text, story) == {("peskov", "russia-accepts-troops", "rejects")}


def test_stopped_short_of_a_guarantee_is_noncommittal(story: Story) -> None:
    text = "Trump stopped short of offering a security guarantee to the force."

    assert stances(text, story) == {("trump", "us-security-guarantee", "noncommittal")}


def test_negator_before_a_support_cue_turns_it_noncommittal(story: Story) -> None:
    [observation] = tag_article("Trump did not offer a security guarantee to the force.", story).observations

    assert observation.cue == "offer a security guarantee"  # a support cue...
    assert observation.stance == "noncommittal"  # ...negated


def test_negated_acceptance_is_rejection(story: Story) -> None:
    assert stances("Russia will not accept foreign troops in Ukraine.", story) == {
        ("russia", "russia-accepts-troops", "rejects"),
    }


def test_acceptance_held_back_is_undecided(story: Story) -> None:
    # "has not" softens rather than negates: not yet, rather than no.
    [observation] = tag_article("Russia has not agreed to foreign troops in Ukraine.", story).observations

    assert (observation.actor_id, observation.stance, observation.qualifiers) == (
        "russia",
        "undecided",
        ("softened",),
    )


def test_a_hedge_after_the_cue_holds_it_back(rules: Story) -> None:
    text = "Trump said he would sign the guarantee document, without saying what it would commit the US to."
    [observation] = tag_article(text, rules, IN_2025).observations

    assert (observation.actor_id, observation.stance, observation.qualifiers) == (
        "trump",
        "noncommittal",
        ("softened",),
    )
    # ... unless it is another actor's: the US role is "still being worked out", not the UK's troops.
    assert stances(
        "Starmer said UK troops were ready and the US role was still being worked out.", rules
    ) == {("starmer", "troops-in-ukraine", "support")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A verb of another label governs the phrase after it.
        ("Germany weighs sending troops to Ukraine.", ("germany", "troops-in-ukraine", "noncommittal")),
        ("Germany rebuffs calls to send troops to Ukraine.", ("germany", "troops-in-ukraine", "oppose")),
        # ... but not across its clause.
        ("US balks while Britain pledges troops to Ukraine.", ("uk", "troops-in-ukraine", "support")),
        # A phrase cue after the words it judges still speaks.
        ("Sending soldiers would be reckless, Merz said.", ("germany", "troops-in-ukraine", "oppose")),
        # Words of indecision serve every issue, each with its own label.
        (
            "Germany is lukewarm about sending troops to Ukraine.",
            ("germany", "troops-in-ukraine", "noncommittal"),
        ),
        (
            "Rubio said the US was still undecided on a backstop.",
            ("us", "us-security-guarantee", "noncommittal"),
        ),
        (
            "Putin said Russia was still weighing foreign troops.",
            ("putin", "russia-accepts-troops", "undecided"),
        ),
        # Softeners and hedges in a headline's present tense.
        (
            "Berlin stops short of committing troops to Ukraine.",
            ("germany", "troops-in-ukraine", "noncommittal"),
        ),
        ("Germany declines to commit troops to Ukraine.", ("germany", "troops-in-ukraine", "noncommittal")),
        (
            "Trump said the US would probably provide air cover.",
            ("trump", "us-security-guarantee", "noncommittal"),
        ),
    ],
)
def test_which_cue_speaks(rules: Story, text: str, expected: tuple[str, str, str]) -> None:
    assert stances(text, rules) == {expected}


def test_a_topic_inside_another_issues_longer_one_is_that_issues(rules: Story) -> None:
    # "the force" is the troops issue's word, but "back the force" the guarantee's.
    text = "The White House declined to say whether the United States would back the force."
    assert stances(text, rules) == {("us", "us-security-guarantee", "noncommittal")}


def test_an_adjective_of_indecision_counts_only_with_what_it_is_about(rules: Story) -> None:
    text = (
        "Zelensky clearly hopes that a multinational force on Ukrainian soil will convince a "
        "sometimes-sceptical population."
    )
    assert stances(text, rules) == set()
    # ... and a noun of indecision may be the past: "a shift from months of hesitation".
    text = "Washington said it would back the force, in a shift from months of hesitation."
    assert ("us", "troops-in-ukraine", "noncommittal") not in stances(text, rules)
    assert stances("Zelensky is sceptical about a multinational force.", rules) == {
        ("zelensky", "troops-in-ukraine", "noncommittal")
    }


@pytest.mark.parametrize(
    "text",
    [
        # A hedge about something else, or with a subject of its own, leaves the reading as it is.
        "Starmer said Britain would send troops, but declined to say whether the US would back the force.",
        "Starmer said Britain would send troops, though no decision has been made on numbers.",
        "Starmer said Britain would send troops, but the exact number was still being worked out.",
        "Macron said France would send soldiers once a ceasefire was possible.",
    ],
)
def test_a_hedge_about_something_else_leaves_the_reading(rules: Story, text: str) -> None:
    assert {stance for _, issue, stance in stances(text, rules) if issue == "troops-in-ukraine"} == {
        "support"
    }


def test_a_warning_against_harming_the_troops_is_no_opposition_to_them(rules: Story) -> None:
    found = stances("Starmer warned Putin against threatening British troops in Ukraine.", rules)
    assert ("starmer", "troops-in-ukraine", "oppose") not in found


def test_denying_a_report_about_others_is_no_stance_of_ones_own(rules: Story) -> None:
    assert stances("Peskov dismissed reports that Britain would send troops to Ukraine.", rules) == {
        ("uk", "troops-in-ukraine", "support")
    }


def test_a_hedge_after_but_replaces_the_firmer_reading(rules: Story) -> None:
    assert stances("Trump said the US would back the force but declined to commit to air cover.", rules) == {
        ("trump", "us-security-guarantee", "noncommittal")
    }
    # Without the turn, the first reading stands.
    assert stances("Trump said the US would back the force.", rules) == {
        ("trump", "us-security-guarantee", "support")
    }


def test_russias_side_against_the_force_is_russia_rejecting_it(rules: Story) -> None:
    # Lavrov cannot hold the troops issue: his warning answers the Russian one. Britain and
    # France are only warned, so they hold nothing.
    text = "Lavrov warned Britain and France against sending troops to Ukraine."
    assert stances(text, rules) == {("lavrov", "russia-accepts-troops", "rejects")}
    assert stances("Lavrov said Britain would send troops to Ukraine.", rules) == {
        ("uk", "troops-in-ukraine", "support")
    }
    # A name in someone's quoted words answers nothing.
    text = (
        "Farage was accused of “parroting Kremlin lines” after saying he would vote against any "
        "plans to deploy troops in Ukraine."
    )
    assert stances(text, rules) == set()


def test_a_headline_that_asks_takes_no_position_in_its_question(story: Story) -> None:
    title = "Will Britain really send troops to Ukraine? Five questions about the plan"
    assert tag_article("", story, IN_2025, title=title).observations == ()
    # A question answered yes or no is read whole.
    title = "Should Britain send troops to Ukraine? Starmer says yes"
    assert {(o.actor_id, o.stance) for o in tag_article("", story, IN_2025, title=title).observations} == {
        ("starmer", "support")
    }
    # A topic put as a question is answered by what follows it.
    title = "Troops for Ukraine? Britain is ready, Healey says"
    [observation] = tag_article("", story, IN_2025, title=title).observations
    assert (observation.actor_id, observation.stance, observation.evidence) == ("uk", "support", title)
    # The evidence of an answer after a question proper is the answer.
    title = "Will Germany send troops? Britain is ready to send troops, Healey says"
    [observation] = tag_article("", story, IN_2025, title=title).observations
    assert (observation.actor_id, observation.stance) == ("uk", "support")
    assert observation.evidence == "Britain is ready to send troops, Healey says"
    assert title[observation.start : observation.end] == observation.evidence


@pytest.mark.parametrize(
    ("text", "denier"),
    [
        ("Lavrov rebuffs Trump claim that Putin would accept European troops", "lavrov"),
        ("The Kremlin dismissed Trump's assurance that Putin would accept peacekeepers.", "russia"),
        ("Trump said Putin would accept European peacekeepers, a claim Peskov flatly denied.", "peskov"),
    ],
)
def test_who_denies_a_claim_holds_the_opposite(rules: Story, text: str, denier: str) -> None:
    # The claim stays a claim about Putin; the denial is the denier's own position.
    tagging = tag_article(text, rules, IN_2025)
    found = {(o.actor_id, o.stance, o.attribution, o.claimed_by) for o in tagging.observations}
    assert found == {("putin", "accepts", "claim", "trump"), (denier, "rejects", "own", None)}


def test_a_denial_of_something_else_denies_nothing(rules: Story) -> None:
    text = "Peskov denied the talks had failed, and said Putin would accept European peacekeepers."
    assert stances(text, rules) == {("putin", "russia-accepts-troops", "accepts")}


def test_kremlin_warning_is_russia_rejecting_troops(story: Story) -> None:
    found = stances("The Kremlin said foreign troops would be legitimate targets.", story)

    assert found == {("russia", "russia-accepts-troops", "rejects")}


def test_object_of_a_preposition_does_not_hold_the_stance(story: Story) -> None:
    # Britain pledges; Ukraine is only where the troops would go.
    assert stances("Britain pledged troops in Ukraine.", story) == {("uk", "troops-in-ukraine", "support")}
    # With nobody else named, nobody holds the stance.
    assert stances("Pledged troops in Ukraine would need air cover.", story) == set()


def test_actor_named_without_a_cue_gives_no_observation(story: Story) -> None:
    tagging = tag_article("Macron met Zelensky in Kyiv to talk about troops.", story, IN_2025)

    assert {m.actor_id for m in tagging.mentions} == {"macron", "zelensky", "ukraine"}
    assert tagging.observations == ()


def test_cue_without_the_issue_topic_gives_no_observation(story: Story) -> None:
    # "reject" is an oppose cue, but nothing here is about troops or guarantees.
    assert stances("Starmer said Britain would reject the trade tariffs.", story) == set()


def test_evidence_offsets_slice_the_original_text(story: Story) -> None:
    text = (
        "Talks went on late.  Starmer’s government is ready to send troops.\n"
        "The US President said he would back the force with a security guarantee."
    )

    tagging = tag_article(text, story, IN_2025)

    assert {(o.actor_id, o.stance, o.sentence_index) for o in tagging.observations} == {
        ("uk", "support", 1),  # Starmer's government is Britain's
        ("trump", "support", 2),
    }
    for observation in tagging.observations:
        assert text[observation.start : observation.end] == observation.evidence
        assert observation.cue.lower() in observation.evidence.lower()
        assert observation.rules_version.endswith(story.fingerprint)


def test_feed_text_counts_less_than_page_text(story: Story) -> None:
    text = "Starmer said Britain was ready to send troops."

    [page] = tag_article(text, story, IN_2025, "page").observations
    [feed] = tag_article(text, story, IN_2025, "feed").observations

    assert 0 < feed.confidence < page.confidence <= 1


# judge

RULES = Relevance(
    require_all=(("Ukraine", "Kyiv"), ("troops", "peacekeep")),
    any_of=("coalition of the willing",),
)


def test_relevant_when_every_group_matches() -> None:
    verdict = judge("Peacekeepers could go to Kyiv next year", RULES)

    assert verdict.relevant
    assert verdict.score == 2.0
    assert verdict.reason == "score 2: Kyiv (+1); peacekeep (+1)"


def test_any_of_term_is_enough_on_its_own() -> None:
    verdict = judge("The Coalition of the Willing met in Paris", RULES)

    assert verdict.relevant
    assert verdict.reason == "score 3: names coalition of the willing (+3)"


def test_not_relevant_names_what_is_missing() -> None:
    verdict = judge("Grain exports from Ukraine rose", RULES)

    assert not verdict.relevant
    assert verdict.reason == "score 1 < 2: Ukraine (+1); nothing about troops/peacekeep"


def test_lenient_lets_one_group_go_unmatched() -> None:
    """A short feed summary may leave out what the article says: enough to fetch the page."""
    assert judge("Grain exports from Ukraine rose", RULES, lenient=True).relevant
    # But not all of them.
    football = judge("United beat City in the cup final", RULES, lenient=True)
    assert not football.relevant
    assert football.reason == "score 0 < 1: nothing about Ukraine/Kyiv; troops/peacekeep"


def test_terms_match_at_the_start_of_a_word_and_may_run_on() -> None:
    assert judge("Kyiv asks for more peacekeeping troops", RULES).relevant  # peacekeep -> peacekeeping
    assert not judge("Kyiv hosts the Startroops comic fair", RULES).relevant  # not inside a word
    # "Ukrainian" is not "Ukraine" run on: story authors list both forms.
    assert not judge("Ukrainian troops moved", RULES).relevant


def test_troops_that_are_not_the_story_do_not_count() -> None:
    rules = replace(RULES, not_when=("Russian troops",))
    assert judge("Russian troops advance near Kyiv", RULES).relevant
    assert not judge("Russian troops advance near Kyiv", rules).relevant


def test_an_actor_with_an_issue_and_the_storys_words_add_to_the_score(story: Story) -> None:
    rules = replace(story.relevance, profile=profile_words([story.seed.text]))
    # Ukraine, and Lavrov named with peacekeepers, and the seed's words: enough without "troops".
    verdict = judge("Lavrov says Ukraine peacekeeping plans are a European provocation", rules)
    assert verdict.relevant and "Lavrov with peacekeep" in verdict.reason
    # Without the place, a name and a topic are not enough: Trump and troops also meet in Chicago.
    assert not judge("Trump sends National Guard troops to Chicago", rules).relevant


def test_the_threshold_is_the_storys_unless_a_setting_overrides_it(story: Story, clean_env) -> None:
    from flows.settings import load_settings

    assert story.relevance.threshold == 2
    assert load_settings({"STORYWATCH_RELEVANCE_THRESHOLD": "3.5"}).relevance_threshold == 3.5
    strict = replace(story.relevance, threshold=3.5)
    assert judge("Peacekeepers could go to Kyiv next year", story.relevance).relevant
    assert not judge("Peacekeepers could go to Kyiv next year", strict).relevant


# process_item and seed_coverage

PARAGRAPHS = [
    "Keir Starmer said on Tuesday that Britain was ready to deploy troops to Ukraine if a "
    "ceasefire held, and officials described the plans to reporters in some detail.",
    "Ministers in London met their French counterparts to discuss how a reassurance force "
    "could be organised, who would command it and how long it might stay in the country.",
]
PAGE = (
    '<html lang="en"><head><title>Starmer repeats offer</title>'
    '<meta name="author" content="Jane Reporter"></head><body><article>'
    "<h1>Starmer repeats offer</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>"
).encode()


def feed_item(title: str = "Starmer repeats offer", summary: str | None = None) -> FeedItem:
    return FeedItem(
        feed_id="example-world",
        guid="example-1",
        url="https://news.example.com/world/starmer-repeats.html",
        title=title,
        summary="Starmer said Britain was ready to send troops to Ukraine." if summary is None else summary,
        published=datetime(2025, 3, 4, 9, tzinfo=UTC),
        author="Feed Desk",
    )


def test_page_text_is_used_when_the_page_has_an_article(story: Story) -> None:
    coverage = process_item(feed_item(), PAGE, "Example News", story)

    assert coverage.note is None
    article = coverage.article
    assert article is not None and coverage.tagging is not None
    assert article.text_source == "page"
    assert article.text == "\n".join(PARAGRAPHS)
    assert article.url == "https://news.example.com/world/starmer-repeats.html"
    assert article.outlet == "Example News"
    assert article.author == "Jane Reporter"  # the page's byline wins over the feed's
    assert article.language == "en"
    assert article.published == datetime(2025, 3, 4, 9, tzinfo=UTC)  # the feed's date
    assert article.content_hash == content_hash(article.text)
    # Judged on the page: only the page says "reassurance force", the feed's summary does not.
    assert article.relevance_reason.startswith("score 5.5: names reassurance force (+3)")
    assert {(o.actor_id, o.issue_id, o.stance) for o in coverage.tagging.observations} == {
        ("starmer", "troops-in-ukraine", "support"),
    }


def test_without_a_page_the_feed_text_is_used_with_a_note(story: Story) -> None:
    coverage = process_item(feed_item(), None, "Example News", story)

    assert coverage.note == "page not fetched; used the feed's text"
    assert coverage.article is not None and coverage.tagging is not None
    assert coverage.article.text_source == "feed"
    assert coverage.article.text == "Starmer said Britain was ready to send troops to Ukraine."
    assert coverage.article.author == "Feed Desk"
    assert [o.actor_id for o in coverage.tagging.observations] == ["starmer"]


def test_page_without_article_text_falls_back_to_the_feed(story: Story) -> None:
    coverage = process_item(feed_item(), b"<html><body><script>app()</script></body></html>", None, story)

    assert coverage.article is not None
    assert coverage.article.text_source == "feed"
    assert coverage.note is not None
    assert coverage.note.startswith("page: no article text on the page")
    assert coverage.note.endswith("used the feed's text")


def test_irrelevant_item_is_dropped_with_the_reason(story: Story) -> None:
    item = feed_item(title="Cup final", summary="United beat City 2-1 in the cup final.")

    coverage = process_item(item, None, "Example News", story)

    assert coverage.article is None and coverage.tagging is None
    assert coverage.note is not None and coverage.note.startswith(
        "not relevant: score 0 < 2: nothing about Ukraine"
    )


def test_item_with_no_text_anywhere_is_dropped(story: Story) -> None:
    coverage = process_item(feed_item(summary=""), None, "Example News", story)

    assert coverage.article is None
    assert coverage.note == "page not fetched; used the feed's text and the feed has no text"


def test_content_hash_ignores_case_and_white_space() -> None:
    assert content_hash("Troops  for\nUkraine ") == content_hash("troops for ukraine")
    assert content_hash("troops for Ukraine") != content_hash("no troops for Ukraine")


def test_seed_coverage_is_the_baseline(story: Story) -> None:
    article, tagging = seed_coverage(story)

    assert article.is_seed and article.text_source == "seed"
    assert article.url == story.seed.url and article.text == story.seed.text
    assert article.relevance_reason.startswith("score ")
    found = {(o.actor_id, o.issue_id, o.stance) for o in tagging.observations}
    assert ("trump", "us-security-guarantee", "noncommittal") in found
    assert ("starmer", "troops-in-ukraine", "support") in found
    assert ("russia", "russia-accepts-troops", "rejects") in found
    # The seed never has Trump supporting a guarantee, nor Russia accepting troops.
    assert ("trump", "us-security-guarantee", "support") not in found
    assert not any(issue == "russia-accepts-troops" and stance == "accepts" for _, issue, stance in found)


def test_aliases_that_start_with_the_match_in_either_case(story: Story) -> None:
    court = Actor("icj", "International Court of Justice", "organisation", aliases=("The Hague",))
    story = replace(story, actors=(*story.actors, court))
    found = mentions("The Hague ruled. Judges in the Hague met. The Kremlin's answer came later.", story)
    assert found == [("icj", "The Hague"), ("icj", "the Hague"), ("russia", "The Kremlin's")]


def test_a_sentence_that_never_ends_is_not_read_for_stances(story: Story) -> None:
    # Debris such as a table flattened into one "sentence" names everyone and says nothing.
    debris = " ".join(["Moscow opposed foreign troops in Ukraine and Starmer pledged troops"] * 500)
    tagging = tag_article(debris, story)
    assert tagging.mentions and tagging.observations == ()


def test_he_said_continues_the_one_person_named_just_before(story: Story) -> None:
    text = (
        "Keir Starmer spoke to reporters in Paris. He said Britain was ready to deploy troops to "
        "Ukraine after a ceasefire. Trump and Macron met later. He said the talks went well."
    )
    tagging = tag_article(text, story, IN_2025)
    pronouns = [(m.actor_id, m.surface) for m in tagging.mentions if m.how == "pronoun"]
    assert pronouns == [("starmer", "He")]  # the second "He" could be Trump or Macron: nobody
    assert {(o.actor_id, o.issue_id, o.stance) for o in tagging.observations} == {
        ("starmer", "troops-in-ukraine", "support")
    }


def test_who_is_asked_to_act_holds_no_stance(story: Story) -> None:
    assert stances("Zelensky asked Trump to send troops to Ukraine.", story) == set()
    # The one who urges holds it.
    assert stances("Zelensky urged allies to send troops to Ukraine.", story) == {
        ("zelensky", "troops-in-ukraine", "support")
    }


def test_the_agent_of_a_passive_holds_the_stance_but_not_of_an_active_verb(story: Story) -> None:
    assert stances("A deployment of British troops to Ukraine was ruled out by Moscow.", story) == {
        ("russia", "russia-accepts-troops", "rejects")
    }
    assert stances("Germany is rejecting the force proposed by Macron for Ukraine.", story) == {
        ("germany", "troops-in-ukraine", "oppose")
    }


def test_a_new_clause_with_its_own_subject_does_not_inherit_the_first(story: Story) -> None:
    shared = stances("Trump backs European troops for Ukraine but rules out a US guarantee.", story)
    assert ("trump", "us-security-guarantee", "oppose") in shared
    own = stances(
        "Starmer pledged troops for Ukraine, but ministers in Berlin ruled out sending soldiers.", story
    )
    assert ("starmer", "troops-in-ukraine", "oppose") not in own


@pytest.fixture(scope="module")
def rules() -> Story:
    """The story read by its rules alone, without its learned model."""
    return load_story(SEED_STORY, with_model=False)


def test_a_quotation_that_runs_on_past_its_first_sentence_is_still_its_speakers(rules: Story) -> None:
    text = (
        "Peskov told reporters: “Our position is well known. The presence of foreign contingents in "
        "Ukraine is unacceptable to us.” Later, Trump spoke about tariffs."
    )
    [seen] = tag_article(text, rules, IN_2025).observations
    assert (seen.actor_id, seen.stance, seen.attribution) == ("peskov", "rejects", "own")
    assert seen.evidence.startswith("The presence")
    # Once the quotation has closed, the next sentence is nobody's quotation.
    closed = "Peskov said: “We are ready.” Russia will not accept foreign troops in Ukraine, analysts said."
    assert ("peskov", "russia-accepts-troops", "rejects") not in stances(closed, rules)


def test_an_appositive_speaker_is_the_named_official_not_the_possessive(rules: Story) -> None:
    text = (
        "Putin's foreign minister, Sergei Lavrov, repeated that Russia would never agree to troops "
        "from NATO countries in Ukraine."
    )
    assert stances(text, rules) == {("lavrov", "russia-accepts-troops", "rejects")}
    # A comma after a name closes an appositive only if one opened before it.
    aside = "Macron, standing next to Zelensky and Starmer, said French troops would deploy to Ukraine."
    assert stances(aside, rules) == {("macron", "troops-in-ukraine", "support")}


def test_the_subject_who_did_something_and_said_a_quotation_speaks_it(rules: Story) -> None:
    text = "Starmer stood beside Zelensky and Macron and said: “The UK will contribute troops to Ukraine.”"
    assert stances(text, rules) == {("starmer", "troops-in-ukraine", "support")}


def test_who_is_named_in_a_question_or_a_condition_states_nothing(rules: Story) -> None:
    asked = "The question of whether Russia would ever accept European troops will dominate the talks."
    assert stances(asked, rules) == set()
    condition = "Starmer said Britain would send troops only if the United States provided a backstop."
    assert stances(condition, rules) == {("starmer", "troops-in-ukraine", "noncommittal")}


def test_an_adverb_after_a_modal_leaves_the_cue_whole(rules: Story) -> None:
    assert stances("The US would also back the force, Trump said.", rules) == {
        ("trump", "us-security-guarantee", "support")
    }
    # "only ... if" sets a condition on others, as "only if" does, within the cue's clause.
    text = "The US would only back the force if European countries carried most of the cost, Trump said."
    assert stances(text, rules) == {("trump", "us-security-guarantee", "noncommittal")}
    text = "Britain would only send troops if the US provided a backstop, Starmer said."
    assert stances(text, rules) == {("starmer", "troops-in-ukraine", "noncommittal")}
    text = (
        "Britain will only deploy troops to Ukraine after a ceasefire, Healey said, though it is "
        "unclear if Washington will help."
    )
    assert stances(text, rules) == {("uk", "troops-in-ukraine", "support")}


def test_speaking_on_condition_of_anonymity_sets_no_condition(rules: Story) -> None:
    said = "Washington will back the force, a US official said on condition of anonymity."
    assert stances(said, rules) == {("us", "us-security-guarantee", "support")}
    asked = "Washington will back the force on condition that Europe pays, a US official said."
    assert stances(asked, rules) == {("us", "us-security-guarantee", "noncommittal")}


def test_a_leading_condition_keeps_the_subject_after_its_comma(rules: Story) -> None:
    assert stances("If a ceasefire is agreed, Britain will send troops to Ukraine.", rules) == {
        ("uk", "troops-in-ukraine", "support")
    }
    # ...and a negation inside that condition does not reach across the comma.
    text = "Whether or not Washington helps, Germany has ruled out sending troops to Ukraine."
    assert stances(text, rules) == {("germany", "troops-in-ukraine", "oppose")}


def test_a_quotation_left_open_by_mistake_stops_where_someone_else_speaks(rules: Story) -> None:
    text = (
        'Peskov said: "We are ready. Macron met Zelensky in Paris. '
        "Britain will send troops to Ukraine, Starmer said."
    )
    [seen] = tag_article(text, rules, IN_2025).observations
    assert (seen.actor_id, seen.attribution) == ("starmer", "own")


def test_a_leaders_administration_is_the_state(rules: Story) -> None:
    text = "Donald Trump's administration agreed to offer security guarantees for Ukraine."
    assert mentions(text, rules)[0] == ("us", "Donald Trump's administration")
    assert stances(text, rules) == {("us", "us-security-guarantee", "support")}


def test_words_passed_on_by_someone_else_are_their_claim(rules: Story) -> None:
    relayed = "Zelensky said that Trump told him the United States would offer security guarantees."
    [seen] = tag_article(relayed, rules, IN_2025).observations
    assert (seen.actor_id, seen.attribution, seen.claimed_by) == ("trump", "claim", "zelensky")
    # ...also in a second "that" clause of what the first speaker reports.
    second = (
        "Zelensky wrote that Ukraine wanted long security guarantees and that President Donald Trump said "
        "the United States would offer security guarantees."
    )
    assert [
        (o.actor_id, o.attribution, o.claimed_by) for o in tag_article(second, rules, IN_2025).observations
    ] == [("trump", "claim", "zelensky")]
    trailing = "Russia will never accept foreign troops in Ukraine, analysts said."
    [said] = tag_article(trailing, rules, IN_2025).observations
    assert (said.actor_id, said.attribution, said.claimed_by) == ("russia", "claim", "others")


def test_a_question_put_to_someone_is_no_answer(rules: Story) -> None:
    asked = "At the press conference, Trump was asked whether he offered security guarantees for Ukraine."
    assert stances(asked, rules) == set()
    # Declining to answer it is a position: holding back.
    declined = "Trump declined to say whether the US would offer security guarantees for Ukraine."
    assert stances(declined, rules) == {("trump", "us-security-guarantee", "noncommittal")}


def test_a_leader_named_after_a_preposition_and_a_title_is_no_subject(rules: Story) -> None:
    text = "European leaders will meet with US President Donald Trump to secure his support for guarantees."
    assert stances(text, rules) == set()


def test_troops_for_neighbouring_territory_are_not_troops_in_ukraine(rules: Story) -> None:
    text = "Germany could deploy forces to neighbouring NATO territory after a ceasefire in Ukraine."
    assert stances(text, rules) == set()


def test_the_prime_minister_in_lower_case_is_starmer_only_once_he_is_named(rules: Story) -> None:
    italy = "Giorgia Meloni spoke in Rome. Italy will not send troops to Ukraine, the prime minister said."
    assert stances(italy, rules) == set()
    britain = "Keir Starmer spoke in London. Britain will send troops to Ukraine, the prime minister said."
    assert ("starmer", "troops-in-ukraine", "support") in stances(britain, rules)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(  # two speakers one after the other: nobody passes anything on
            "After Zelensky said talks had stalled, Starmer said Britain would send troops to Ukraine.",
            ("starmer", "own", None), id="earlier-speaker",
        ),
        pytest.param(
            'After meeting Trump, Starmer returned to London and said: "Britain will send troops to '
            'Ukraine."',
            ("starmer", "own", None), id="and-said-after-an-opening-phrase",
        ),
        pytest.param(  # what the others thought of it is no attribution
            "Starmer pledged troops for Ukraine, a move critics dismissed.",
            ("starmer", "own", None), id="trailing-object-clause",
        ),
        pytest.param(
            "Starmer pledged troops for Ukraine, as he has said.",
            ("starmer", "own", None), id="as-he-has-said",
        ),
        pytest.param(  # the answer follows the question
            "Trump was asked if he would back a European force and replied that the US would provide air "
            "support.",
            ("trump", "own", None), id="question-then-answer",
        ),
    ],
)  # fmt: skip
def test_speakers_and_questions_end_where_the_sentence_says(rules: Story, text: str, expected: tuple) -> None:
    assert [
        (o.actor_id, o.attribution, o.claimed_by) for o in tag_article(text, rules, IN_2025).observations
    ] == [expected]


def test_an_aside_between_commas_does_not_cut_a_negation_or_hedge_off(rules: Story) -> None:
    assert stances("Britain will not, however, send troops to Ukraine.", rules) == {
        ("uk", "troops-in-ukraine", "oppose")
    }
    assert stances("Britain could, in principle, send troops to Ukraine.", rules) == {
        ("uk", "troops-in-ukraine", "noncommittal")
    }


def test_ukraine_named_before_neighbouring_countries_is_still_the_destination(rules: Story) -> None:
    text = "Britain will deploy troops to Ukraine to deter attacks on neighbouring countries."
    assert stances(text, rules) == {("uk", "troops-in-ukraine", "support")}


def test_the_learned_model_reads_only_sentences_in_the_storys_words(story: Story) -> None:
    assert stances("Putin said Russia would never accept NATO membership for Ukraine.", story) == set()
    assert stances("Zelensky said Ukraine is ready to sign the minerals deal.", story) == set()


def test_the_model_does_not_overrule_clauses_held_by_different_actors(story: Story) -> None:
    text = "Britain stands ready to put boots on the ground in Ukraine, but Germany rejects sending soldiers."
    assert stances(text, story) == {
        ("uk", "troops-in-ukraine", "support"),
        ("germany", "troops-in-ukraine", "oppose"),
    }


def test_troops_the_issue_is_not_about_give_no_stance_on_it(story: Story) -> None:
    # The question is a European force; American troops are not_topic in issues.yaml.
    assert stances("Trump rejected American troops defending Ukraine's border.", story) == set()
    assert stances("Trump rejected European troops defending Ukraine's border.", story) == {
        ("trump", "troops-in-ukraine", "oppose")
    }
    # "US boots on the ground" are American soldiers, not the European force.
    rules = replace(story, model=None)
    assert stances("Trump ruled out US boots on the ground in Ukraine.", rules) == set()
    assert stances("Trump ruled out boots on the ground in Ukraine.", rules) == {
        ("trump", "troops-in-ukraine", "oppose")
    }


def test_a_troop_noun_shared_with_the_european_force_still_counts(rules: Story) -> None:
    assert stances("Macron said European and US troops should be ready to go to Ukraine.", rules) == {
        ("macron", "troops-in-ukraine", "support")
    }
    assert stances("Trump ruled out deploying US troops to Ukraine.", rules) == set()


def test_now_that_opens_no_report_of_someone_elses_words(rules: Story) -> None:
    text = (
        "Lavrov said Moscow would never accept Western troops, but now that Starmer has said Britain is "
        "ready to deploy troops, tensions grow."
    )
    seen = {(o.actor_id, o.attribution) for o in tag_article(text, rules, IN_2025).observations}
    assert ("starmer", "own") in seen

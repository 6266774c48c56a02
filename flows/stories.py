"""Put a story's definition into the warehouse, seeded with its original article."""

from __future__ import annotations

from dataclasses import replace

from extractors.candidates import NerError, load_pipeline
from extractors.coverage import seed_coverage
from extractors.records import Story
from extractors.relevance import profile_words
from extractors.story import load_story
from flows.settings import Settings, SettingsError
from warehouse import queries, store


def prepare_story(settings: Settings, story_name: str | None = None) -> tuple[Story, bool]:
    """Load the story's files into the warehouse and seed its original article once.

    Returns the story and whether the seed article was added now. Safe to repeat.
    """
    story = load_story(settings.story_dir(story_name))
    with settings.open_warehouse() as con:
        store.load_story(con, story)
        if queries.has_article(con, story.id, story.seed.url):
            return story, False
        article, tagging = seed_coverage(story)
        store.append_coverage(con, story.id, [(article, tagging)])
    return story, True


def story_for_cycle(settings: Settings, story: Story) -> Story:
    """The story as a cycle judges relevance: with the settings' threshold, and the words of
    the coverage kept so far (similar items are more likely to belong)."""
    with settings.open_warehouse(read_only=True) as con:
        titles = queries.coverage_titles(con, story.id)
    rules = replace(story.relevance, profile=profile_words(titles))
    if settings.relevance_threshold:
        rules = replace(rules, threshold=settings.relevance_threshold)
    if settings.ner_model:
        try:
            load_pipeline(settings.ner_model)  # fail here, once, with a clear message
        except NerError as exc:
            raise SettingsError(f"STORYWATCH_NER_MODEL: {exc}") from None
    return replace(story, relevance=rules, ner_model=settings.ner_model or None)

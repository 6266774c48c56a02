"""Recompute mentions, stances and changes from stored text after the rules change.

Nothing is fetched: the articles' text is in the warehouse. Run it after editing a
story's actors or issues (or after upgrading storywatch's tagger).
"""

from __future__ import annotations

from datetime import UTC

from extractors.stance import tag_article
from flows.settings import Settings
from flows.stories import prepare_story, story_for_cycle
from warehouse import queries, store


def retag_story(settings: Settings, story_name: str | None = None) -> store.RetagResult:
    """Tag every stored article of the story again with its current files, and store the result."""
    story, _ = prepare_story(settings, story_name)
    story = story_for_cycle(settings, story)
    with settings.open_warehouse(read_only=True) as con:
        articles = queries.article_texts(con, story.id)
    taggings = {}
    for aid, title, text, source, published in articles:
        when = published.astimezone(UTC) if published else None
        taggings[aid] = tag_article(text, story, when, source, title=title)
    with settings.open_warehouse() as con:
        return store.replace_tagging(con, story.id, taggings, settings.change_rules)

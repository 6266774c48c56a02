"""Find the story's actors in article text: names, aliases, metonyms and dated role titles."""

from __future__ import annotations

from datetime import date, datetime

from extractors.phrases import name_key, names_pattern, normalise
from extractors.records import Actor, Mention
from extractors.sentences import Sentence


def surface_forms(actors: tuple[Actor, ...], when: date | None) -> dict[str, str]:
    """Map each name that designates an actor on ``when`` to the actor's id.

    Role titles count only while their holder holds them; with no date, every title counts.
    """
    forms: dict[str, str] = {}
    for actor in actors:
        for alias in (actor.name, *actor.aliases):
            forms[name_key(alias)] = actor.id
        for role in actor.roles:
            if when is None or (
                (role.since is None or role.since <= when) and (role.until is None or when <= role.until)
            ):
                forms[name_key(role.title)] = actor.id
    return forms


def find_mentions(
    text: str,
    sentences: list[Sentence],
    actors: tuple[Actor, ...],
    published: datetime | None = None,
) -> list[Mention]:
    """Every mention of an actor in ``text``, sentence by sentence, in reading order."""
    forms = surface_forms(actors, published.date() if published else None)
    pattern = names_pattern(tuple(forms))
    if pattern is None:
        return []
    norm = normalise(text)
    mentions = []
    for sentence in sentences:
        for match in pattern.finditer(norm, sentence.start, sentence.end):
            name = name_key(match.group())
            if name not in forms:
                name = name[:-2]  # a possessive: "Starmer's"
            mentions.append(
                Mention(
                    actor_id=forms[name],
                    sentence_index=sentence.index,
                    start=match.start(),
                    end=match.end(),
                    surface=text[match.start() : match.end()],
                )
            )
    return mentions

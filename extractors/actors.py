"""Find the story's actors in article text: names, aliases, dated role titles, metonyms,
and short forms of a person's name after the full name has appeared."""

from __future__ import annotations

from datetime import date, datetime

from extractors.phrases import name_key, names_pattern, normalise
from extractors.records import Actor, Mention
from extractors.sentences import Sentence

# Courtesy titles news writing puts before a surname on second mention.
_COURTESY = ("Mr", "Mrs", "Ms", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.")


def surface_forms(actors: tuple[Actor, ...], when: date | None) -> dict[str, tuple[str, str]]:
    """Map each name that designates an actor on ``when`` to (actor id, how it names it).

    Role titles count only while their holder holds them; with no date, every title counts.
    A person's surname ("Healey", "Mr Healey") is a short form: it counts only after the
    full name in the same text, unless the story lists it as an alias.
    """
    forms: dict[str, tuple[str, str]] = {}
    for actor in actors:
        if actor.kind == "person" and len(actor.name.split()) > 1:
            surname = actor.name.split()[-1]
            for short in (surname, *(f"{title} {surname}" for title in _COURTESY)):
                forms.setdefault(name_key(short), (actor.id, "short"))
    for actor in actors:
        for metonym in actor.metonyms:
            forms[name_key(metonym)] = (actor.id, "metonym")
        for role in actor.roles:
            if when is None or (
                (role.since is None or role.since <= when) and (role.until is None or when <= role.until)
            ):
                forms[name_key(role.title)] = (actor.id, "role")
        for alias in actor.aliases:
            forms[name_key(alias)] = (actor.id, "alias")
        forms[name_key(actor.name)] = (actor.id, "name")
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
    introduced: set[str] = set()  # actors named in full so far: their short forms now count
    for sentence in sentences:
        for match in pattern.finditer(norm, sentence.start, sentence.end):
            name = name_key(match.group())
            if name not in forms:
                name = name[:-2]  # a possessive: "Starmer's"
            actor_id, how = forms[name]
            if how == "short" and actor_id not in introduced:
                continue
            introduced.add(actor_id)
            mentions.append(
                Mention(
                    actor_id=actor_id,
                    sentence_index=sentence.index,
                    start=match.start(),
                    end=match.end(),
                    surface=text[match.start() : match.end()],
                    how=how,
                )
            )
    return mentions

"""Find the story's actors in article text: names, aliases, dated role titles, metonyms,
and short forms of a person's name after the full name has appeared."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from extractors.attribution import SPEECH_VERBS
from extractors.phrases import name_key, names_pattern, normalise
from extractors.records import Actor, Mention, Role
from extractors.sentences import Sentence

# Courtesy titles news writing puts before a surname on second mention.
_COURTESY = ("Mr", "Mrs", "Ms", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.")


@lru_cache(maxsize=256)
def surface_forms(actors: tuple[Actor, ...], when: date | None) -> dict[str, tuple[str, str]]:
    """Map each name that designates an actor on ``when`` to (actor id, how it names it).

    Role titles count only while their holder holds them; with no date, every title counts.
    A person's surname ("Healey", "Mr Healey") is a short form: it counts only after the
    full name in the same text, unless the story lists it as an alias.
    """
    forms: dict[str, tuple[str, str]] = {}
    # "Russian Foreign Minister" is also "Russia's foreign minister": the state's own names
    # (not "the Russians") before a possessive.
    states = {
        d: [n for n in (a.name, *a.aliases) if not n.startswith("the ") and n not in a.demonyms]
        for a in actors
        for d in a.demonyms
    }
    for actor in actors:
        if actor.kind == "person" and len(actor.name.split()) > 1:
            surname = actor.name.split()[-1]
            for short in (surname, *(f"{title} {surname}" for title in _COURTESY)):
                forms.setdefault(name_key(short), (actor.id, "short"))
    for actor in actors:
        for metonym in actor.metonyms:
            forms[name_key(metonym)] = (actor.id, "metonym")
        for role in actor.roles:
            if _holds(role, when):
                forms[name_key(role.title)] = (actor.id, "role")
                # "the Kremlin spokesman" must not read as "the Kremlin" and a spokesman, and
                # news writes "the prime minister" in lower case too (but "Italy's prime
                # minister" is not the story's: only with "the").
                title = role.title[4:] if role.title.startswith("the ") else role.title
                forms.setdefault(name_key(f"the {title}"), (actor.id, "role"))
                forms.setdefault(name_key(f"the {_lower_title(title)}"), (actor.id, "role"))
                # All in lower case ("the prime minister") it may be anyone's: only once the
                # actor has been named in the article.
                forms.setdefault(
                    name_key(f"the {_lower_title(title, first=True)}"), (actor.id, "role-after-name")
                )
                demonym, _, rest = title.partition(" ")
                for state in states.get(demonym, []) if rest else []:
                    forms.setdefault(name_key(f"{state}'s {rest}"), (actor.id, "role"))
                    forms.setdefault(
                        name_key(f"{state}'s {_lower_title(rest, first=True)}"), (actor.id, "role")
                    )
        for alias in actor.aliases:
            forms[name_key(alias)] = (actor.id, "alias")
        forms[name_key(actor.name)] = (actor.id, "name")
    # An official a user has since promoted to an actor of their own is that actor.
    for actor in actors:
        for official in actor.officials:
            if _holds(official, when):
                forms.setdefault(name_key(official.title), (actor.id, "official"))
    return forms


def _holds(role: Role, when: date | None) -> bool:
    """Whether a title (or an official's post) is held on ``when``; any time when unknown."""
    return when is None or (
        (role.since is None or role.since <= when) and (role.until is None or when <= role.until)
    )


def _lower_title(title: str, first: bool = False) -> str:
    """ "British Prime Minister" -> "British prime minister" (with ``first``, "Prime Minister" ->
    "prime minister"); acronyms stay."""
    words = title.split()
    kept = [] if first else words[:1]
    return " ".join(
        [*kept, *(w if w.isupper() or not w.istitle() else w.lower() for w in words[len(kept) :])]
    )


def find_mentions(
    text: str,
    sentences: list[Sentence],
    actors: tuple[Actor, ...],
    published: datetime | None = None,
) -> list[Mention]:
    """Every mention of an actor in ``text``, sentence by sentence, in reading order."""
    forms = surface_forms(actors, published.date() if published else None)
    officials_of = {d: a.id for a in actors for d in a.demonyms}
    affiliations = {a.id: a.affiliation for a in actors if a.kind == "person" and a.affiliation}
    pattern = names_pattern(tuple(forms))
    if pattern is None:
        return []
    norm = normalise(text)
    mentions = []
    officials = _officials_pattern(actors)
    introduced: set[str] = set()  # actors named in full so far: their short forms now count
    for sentence in sentences:
        first_of_sentence = len(mentions)
        for match in pattern.finditer(norm, sentence.start, sentence.end):
            name = name_key(match.group())
            if name not in forms:
                name = name[:-2]  # a possessive: "Starmer's"
            actor_id, how = forms[name]
            if how in ("short", "role-after-name") and actor_id not in introduced:
                continue
            how = "role" if how == "role-after-name" else how
            if how == "role" and _FORMER.search(norm, max(sentence.start, match.start() - 12), match.start()):
                continue  # "former Russian leader Dmitry Medvedev": not the title's holder now
            if _inside_longer_name(norm, match.start()):
                continue  # "Reform UK": another name that contains this one
            introduced.add(actor_id)
            end = match.end()
            people = _PEOPLE_OF.match(norm, end) if name != name_key(match.group()) else None
            if people is not None and affiliations.get(actor_id):
                # "Trump's administration", "Putin's government": the state, not the person.
                actor_id, how, end = affiliations[actor_id], "official", people.end()
            mentions.append(
                Mention(
                    actor_id=actor_id,
                    sentence_index=sentence.index,
                    start=match.start(),
                    end=end,
                    surface=text[match.start() : end],
                    how=how,
                )
            )
        if officials is not None:
            taken = [(m.start, m.end) for m in mentions[first_of_sentence:]]
            for match in officials.finditer(norm, sentence.start, sentence.end):
                if any(a <= match.start() < b for a, b in taken) or _inside_longer_name(norm, match.start()):
                    continue  # part of a longer name ("Russian President" is Putin, "Reform UK")
                mentions.append(
                    Mention(
                        actor_id=officials_of[match.group(1)],
                        sentence_index=sentence.index,
                        start=match.start(1),
                        end=match.end(1),
                        surface=text[match.start(1) : match.end(1)],
                        how="official",
                    )
                )
    mentions.sort(key=lambda m: (m.sentence_index, m.start))
    return mentions


_FORMER = re.compile(r"\b(?:former|ex-|then-)\s*$", re.IGNORECASE)

# After a leader's possessive, the people who act for the state: "Trump's administration".
_PEOPLE_OF = re.compile(
    r"\s+(?:administration|government|cabinet|team|aides|envoys?|negotiators|officials)\b"
)
# What follows a demonym when it names the state's people: "German officials", "Russian
# Foreign Ministry spokeswoman Maria Zakharova", "French government sources".
_OFFICIAL_NOUNS = (
    r"officials?|ministers?|ministry|government|chancellor|spokes(?:man|woman|person)|envoys?|"
    r"diplomats?|sources|authorities|negotiators?|defen[cs]e\s+secretary|foreign\s+secretary|"
    r"secretary|aide|ambassador|embassy|presidency|delegation|leaders?|administration"
)


@lru_cache(maxsize=64)
def _officials_pattern(actors: tuple[Actor, ...]) -> re.Pattern[str] | None:
    demonyms = sorted({d for a in actors for d in a.demonyms}, key=len, reverse=True)
    if not demonyms:
        return None
    names = "|".join(re.escape(d) for d in demonyms)
    return re.compile(rf"(?<![\w.])({names})(?:\s+[A-Z][\w'-]+){{0,3}}\s+(?i:{_OFFICIAL_NOUNS})\b")


# Capitalised words that may stand before a name without being part of it.
_BEFORE_NAMES = {
    "the", "sir", "president", "mr", "mrs", "ms", "dr", "prime", "minister", "secretary", "chancellor",
    "leader", "envoy", "spokesman", "spokeswoman", "premier", "king", "general", "ambassador", "both",
    "and", "but", "while", "as", "if", "when", "after", "before", "with", "for", "from", "by", "says",
    "said", "tells", "told", "why", "how", "what", "will", "can", "could", "would", "should",
}  # fmt: skip


_LAST_WORD = re.compile(r"(\S+)[ \t]+$")
_CAPITALISED = re.compile(r"[A-Z][a-z]+")


def _inside_longer_name(norm: str, start: int) -> bool:
    """Whether a name at ``start`` continues a proper name begun just before it ("Reform UK")."""
    before = _LAST_WORD.search(norm, max(0, start - 40), start)
    if before is None or not _CAPITALISED.fullmatch(before.group(1)):
        return False
    if before.group(1).lower() in _BEFORE_NAMES:
        return False
    at = start - len(before.group(0))  # where that word starts: a sentence's first word is no name
    preceding = norm[max(0, at - 3) : at].rstrip(" \t")
    return bool(preceding) and preceding[-1] not in ".!?:;\"“‘'\n(-—"


# "He said ...", "She added that ...": a sentence that opens with a pronoun and a verb of
# speech continues the previous sentences' speaker.
_PRONOUN_SPEAKER = re.compile(r"(?:He|She)\b(?=\s+(?:\w+\s+){0,2}?(?:" + SPEECH_VERBS + r")\b)")
# How many sentences back the person a pronoun stands for may have been named.
PRONOUN_REACH = 2


def resolve_pronouns(
    text: str, sentences: list[Sentence], mentions: list[Mention], actors: tuple[Actor, ...]
) -> list[Mention]:
    """Mentions for "He said" and "She added" at the start of a sentence: the person named
    last in the sentences just before, if only one person was named there."""
    people = {a.id for a in actors if a.kind == "person"}
    by_sentence: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention.sentence_index, []).append(mention)
    found = []
    for sentence in sentences:
        match = _PRONOUN_SPEAKER.match(text, sentence.start, sentence.end)
        if match is None:
            continue
        recent = [
            m.actor_id
            for n in range(max(0, sentence.index - PRONOUN_REACH), sentence.index)
            for m in by_sentence.get(n, [])
            if m.actor_id in people
        ]
        if len(set(recent)) == 1:  # one person: no guessing between two
            found.append(
                Mention(recent[-1], sentence.index, match.start(), match.end(), match.group(), "pronoun")
            )
    return found

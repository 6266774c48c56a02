"""The records that pass between stages: frozen dataclasses named in the domain's words.

Every stage takes and returns these plain values, so a stage can run in a test, a worker
process or another machine without dragging a database or an HTTP client along.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Role:
    """A title that designates an actor, optionally only between two dates."""

    title: str
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Actor:
    """A person, state or organisation that can hold a stance."""

    id: str
    name: str
    kind: str  # person | state | organisation
    affiliation: str | None = None
    aliases: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()
    metonyms: tuple[str, ...] = ()  # places and buildings that stand for it ("the Kremlin")
    demonyms: tuple[str, ...] = ()  # "German": names the state in "German officials said"
    # People the story does not follow by name whose words are the actor's ("Pete Hegseth"
    # speaks for the US), with the dates they speak for it.
    officials: tuple[Role, ...] = ()


@dataclass(frozen=True)
class Issue:
    """A question the story turns on, with the labels an answer can take and their cues."""

    id: str
    question: str
    topic: tuple[str, ...]
    cues: dict[str, tuple[str, ...]]  # label -> cue phrases
    negation: dict[str, str] = field(default_factory=dict)  # label -> label when negated
    negators: tuple[str, ...] = ()  # phrases that negate a cue just after them
    softeners: tuple[str, ...] = ()  # phrases that hold back from a cue just after them ("declined to")
    softened: dict[str, str] = field(default_factory=dict)  # label -> label when softened
    hedges: tuple[str, ...] = ()  # phrases that make a cue just after them tentative ("might")
    # Phrases that hold back from a cue before them in the sentence ("... , without saying what")
    trailing: tuple[str, ...] = ()
    hedged: dict[str, str] = field(default_factory=dict)  # label -> label when hedged
    conditions: tuple[str, ...] = ()  # phrases that make a position conditional ("only if")
    conditional: dict[str, str] = field(default_factory=dict)  # label -> label under a condition
    # A verb of a label a few words before one of the issue's objects is a cue too
    # ("commit its own troops", "ruled out stationing German soldiers").
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # label -> verbs
    objects: tuple[str, ...] = ()
    # What follows one of the objects, a few words on ("British troops will be there").
    after_objects: dict[str, tuple[str, ...]] = field(default_factory=dict)  # label -> phrases
    holders: tuple[str, ...] = ()  # only these actors (or those affiliated with them) hold a stance
    not_holders: tuple[str, ...] = ()  # these actors (and their people) are left to other issues
    # Another issue whose stances, stated by actors who may hold this issue but not that one,
    # answer this one, with its labels mapped to this issue's (Russia's side opposing the force
    # is Russia rejecting foreign troops).
    answers: str = ""
    answer_labels: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cues)

    def may_be_held_by(self, actor: Actor) -> bool:
        """Whether the story's files let this actor hold a stance on the issue."""
        sides = {actor.id, actor.affiliation}
        if self.holders and not sides & set(self.holders):
            return False
        return not sides & set(self.not_holders)

    # Topic terms that do not count inside these ("US troops" are not the European force).
    not_topic: tuple[str, ...] = ()
    # Words that let the story's model read a sentence for this issue (not the others), though
    # the rules find no topic in it ("Ukraine's security", "jets"): they open no cue of their own.
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    """A news feed (RSS, Atom or a search query feed) that a story polls."""

    id: str
    name: str
    url: str
    kind: str = "rss"  # rss | atom | search; informative, parsing does not depend on it


@dataclass(frozen=True)
class Relevance:
    """What makes an item coverage of the story: a score against a threshold.

    Each ``require_all`` group with a term present adds 1, each ``any_of`` phrase (such as
    a story's own name for itself) 3; in an item that names a place of the first group, an
    actor named together with an issue's topic adds 0.5 and sharing the words of the story's
    coverage so far up to 0.5.
    """

    require_all: tuple[tuple[str, ...], ...]
    any_of: tuple[str, ...] = ()
    not_when: tuple[str, ...] = ()  # phrases that never count ("Russian troops" are not the force)
    threshold: float = 2.0  # the score an item needs (a setting may override the story's)
    names: tuple[str, ...] = ()  # the actors' names: named with an issue's topic, they add to the score
    topics: tuple[str, ...] = ()  # the issues' topic terms
    profile: frozenset[str] = frozenset()  # words of the seed and of coverage kept so far


@dataclass(frozen=True)
class SeedArticle:
    """The original article a story starts from."""

    url: str
    title: str
    text: str
    published: datetime | None
    outlet: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Story:
    """Everything storywatch needs to follow one story, loaded from ``seeds/<story>/``."""

    id: str
    title: str
    description: str
    seed: SeedArticle
    actors: tuple[Actor, ...]
    issues: tuple[Issue, ...]
    feeds: tuple[Feed, ...]
    relevance: Relevance
    schedule: str = "*/15 * * * *"
    fingerprint: str = ""  # hash of the story's files: tells when a definition changed
    ner_model: str | None = None  # an installed spaCy pipeline for actor discovery (a setting)
    model: Any = None  # extractors.learned.StanceModel: the story's learned stance model, if any

    def actor(self, actor_id: str) -> Actor:
        return next(a for a in self.actors if a.id == actor_id)

    def issue(self, issue_id: str) -> Issue:
        return next(i for i in self.issues if i.id == issue_id)


@dataclass(frozen=True)
class FeedItem:
    """One entry of a parsed feed."""

    feed_id: str
    guid: str
    url: str
    title: str
    summary: str  # plain text of the entry's content or summary
    published: datetime | None
    author: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """The outcome of parsing one feed document: its items, or why it has none."""

    feed_id: str
    items: tuple[FeedItem, ...]
    title: str | None = None
    error: str | None = None  # set when the document could not be used
    warning: str | None = None  # set when it parsed, but was not well-formed
    ttl_minutes: int | None = None  # the feed's own <ttl>: how often it wants to be polled


@dataclass(frozen=True)
class PageText:
    """Text and metadata extracted from an article page."""

    text: str
    title: str | None
    author: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None = None  # the page's own <link rel="canonical">, absolute


@dataclass(frozen=True)
class Article:
    """An article kept as coverage of a story."""

    url: str  # canonical
    source_url: str  # as linked from the feed
    feed_id: str | None
    outlet: str | None
    title: str
    text: str
    text_source: str  # page | feed | seed
    published: datetime | None
    author: str | None
    language: str | None
    content_hash: str
    relevance: float
    relevance_reason: str
    is_seed: bool = False
    simhash: int | None = None  # 64-bit fingerprint for near-duplicates; None for short texts


@dataclass(frozen=True)
class Mention:
    """An actor named in one sentence of an article."""

    actor_id: str
    sentence_index: int
    start: int  # character offsets in the article text
    end: int
    surface: str
    how: str = "name"  # name | alias | role | metonym | short (a short form after a full mention)
    part: str = "body"  # body | headline (offsets then index the title)


@dataclass(frozen=True)
class StanceObservation:
    """What one sentence says about an actor's position on an issue."""

    actor_id: str
    issue_id: str
    stance: str
    confidence: float
    evidence: str  # the sentence
    sentence_index: int
    start: int  # offsets of the evidence sentence in the article text
    end: int
    cue: str
    rules_version: str
    attribution: str = "own"  # own (the actor's words or deeds) | claim (someone says so of the actor)
    claimed_by: str | None = None  # for a claim: an actor id, "journalist" or "others"
    part: str = "body"  # body | headline
    qualifiers: tuple[str, ...] = ()  # what changed the label or lowered the confidence


@dataclass(frozen=True)
class Candidate:
    """A name an article attributes words to, that the story's registry does not know."""

    name: str
    sentence_index: int
    evidence: str


@dataclass(frozen=True)
class Tagging:
    """Mentions, stance observations and actor candidates found in one article."""

    mentions: tuple[Mention, ...]
    observations: tuple[StanceObservation, ...]
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class StanceChange:
    """An actor's current stance on an issue gave way to a different one."""

    change_id: str
    actor_id: str
    issue_id: str
    from_stance: str
    to_stance: str
    from_observation_id: str
    to_observation_id: str
    evidence: str
    url: str
    outlet: str | None
    title: str | None
    actor_name: str = ""
    sources: int = 1  # independent sources (near-duplicate clusters) reporting the new stance
    dissent: int = 0  # independent sources still reporting the old stance in the same period
    disputed: bool = False


# Every kind of alert storywatch sends.
ALERT_KINDS = ("stance_change", "source_down", "source_recovered", "flow_failed")


@dataclass(frozen=True)
class Alert:
    """A message waiting in the warehouse's outbox."""

    alert_id: str
    kind: str
    title: str
    body: str
    url: str | None
    attempts: int = 0
    delivered_to: tuple[str, ...] = ()  # keys of the channels that already have it


@dataclass(frozen=True)
class Delivery:
    """The outcome of one delivery attempt of one alert."""

    alert_id: str
    status: str  # sent | logged (no channel configured) | pending (will retry) | failed
    error: str | None = None
    delivered: tuple[str, ...] = ()  # keys of the channels that took it on this attempt


@dataclass(frozen=True)
class FetchAttempt:
    """One request on the wire (or refused before it): the fetch_attempts table's rows."""

    url: str
    kind: str  # feed | page | robots
    attempt: int
    status: int | None
    bytes: int
    seconds: float
    error: str | None
    tried_at: datetime


@dataclass(frozen=True)
class FeedState:
    """What the warehouse remembers of a feed between polls."""

    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = None
    poll_interval_seconds: float | None = None
    last_full_fetch_at: datetime | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True)
class FeedPoll:
    """What one poll of a feed gave, and when to poll it next."""

    feed_id: str
    status: int | None
    error: str | None
    etag: str | None = None
    last_modified: str | None = None
    items: int = 0
    full: bool = False  # fetched without validators
    next_poll_at: datetime | None = None
    interval_seconds: float | None = None

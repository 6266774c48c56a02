"""Tag actors and their stances on the story's issues, sentence by sentence.

The rules are deliberately simple and explainable; every observation keeps the sentence,
the cue that produced it and the qualifiers that changed it:
1. a sentence speaks to an issue when it has one of the issue's topic terms;
2. each cue phrase in the sentence gives a label, the longest at a place winning; a
   negator just before the cue turns it into the issue's negated label ("stopped short of
   offering a guarantee"), a hedge ("might", "open to") into its hedged label, and a
   condition ("only if") into its conditional label, each lowering the confidence;
3. the holder is found by extractors.attribution: the speaker of a quotation or of
   reported speech, the subject of the clause, or nobody; a stance reported *about* an
   actor by someone else is recorded as a claim, apart from the actor's own words;
4. headlines count, and feed summaries count, but less than an article's body.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from extractors.actors import find_mentions, resolve_pronouns
from extractors.attribution import (
    WINDOW_CHARS,
    Frame,
    Holder,
    claimant,
    clause_start,
    deniers,
    find_holders,
    frames,
    modifier,
    next_clause,
    open_quotes,
    quoted,
    same_side,
    wished,
)
from extractors.candidates import find_candidates
from extractors.learned import Guess, HolderModel, Reading, guesses, holding, read
from extractors.phrases import alternation, exact_pattern, names_pattern, normalise, terms_pattern
from extractors.records import (
    Actor,
    Candidate,
    Issue,
    Mention,
    Relevance,
    StanceObservation,
    Story,
    Tagging,
)
from extractors.sentences import Sentence, split_sentences

TAGGER_VERSION = "6"
# How far before a cue a negator, hedge or condition still qualifies it.
QUALIFIER_WINDOW_WORDS = 4
# A "sentence" longer than this is a page's debris (tables, lists), not a statement.
MAX_SENTENCE_CHARS = 1500
# How much a stance counts, by the way its holder was found.
CONFIDENCE = {"quote": 0.95, "speaker": 0.9, "agent": 0.8, "adjacent": 0.8, "subject": 0.7}
# The agent of a passive ("was ruled out by Moscow") is grammar, not a guess: the holder model,
# which has seen few passives, does not drop it.
GRAMMATICAL = ("agent",)
# Text from a feed's summary is shorter and less certain than the article itself.
SOURCE_WEIGHT = {"page": 1.0, "seed": 1.0, "feed": 0.85}
# A headline states a position in few words, often without saying who said so.
HEADLINE_WEIGHT = 0.8
# What a qualifier does to the confidence of the stance it qualifies.
QUALIFIER_WEIGHT = {
    "negated": 1.0, "softened": 0.9, "hedged": 0.7, "conditional": 0.8, "claim": 0.8, "learned": 0.8,
}  # fmt: skip


def rules_version(story: Story) -> str:
    """Identify the rules that produced an observation: tagger code plus story files."""
    return f"{TAGGER_VERSION}+{story.fingerprint}"


def tag_article(
    text: str,
    story: Story,
    published: datetime | None = None,
    text_source: str = "page",
    title: str | None = None,
) -> Tagging:
    """Find the story's actors in ``text`` (and its ``title``) and the stances they take."""
    mentions: list[Mention] = []
    observations: list[StanceObservation] = []
    candidates: list[Candidate] = []
    weight = SOURCE_WEIGHT.get(text_source, 1.0)
    version = rules_version(story)
    for part, body, part_weight in (("headline", title or "", HEADLINE_WEIGHT), ("body", text, 1.0)):
        if not body.strip():
            continue
        sentences = split_sentences(body) if part == "body" else _whole(body)
        found = find_mentions(body, sentences, story.actors, published)
        if part == "headline":
            found = [_as_headline(m) for m in found]
        else:
            found = sorted(
                found + resolve_pronouns(body, sentences, found, story.actors),
                key=lambda m: (m.sentence_index, m.start),
            )
        mentions.extend(found)
        observations.extend(_observe(body, sentences, found, story, version, weight * part_weight, part))
        if part == "body":
            candidates = find_candidates(body, sentences, story.actors, story.ner_model)
    return Tagging(mentions=tuple(mentions), observations=tuple(observations), candidates=tuple(candidates))


def _whole(title: str) -> list[Sentence]:
    stripped = title.strip()
    start = title.index(stripped[0])
    return [Sentence(-1, start, start + len(stripped), stripped)]


def _as_headline(mention: Mention) -> Mention:
    return Mention(mention.actor_id, -1, mention.start, mention.end, mention.surface, mention.how, "headline")


def _observe(
    text: str,
    sentences: list[Sentence],
    mentions: list[Mention],
    story: Story,
    version: str,
    weight: float,
    part: str,
) -> list[StanceObservation]:
    by_sentence: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention.sentence_index, []).append(mention)
    norm = normalise(text)
    actors = {a.id: a for a in story.actors}
    observations = []
    answering: dict[str, list[Issue]] = {}
    for issue in story.issues:
        if issue.answers:
            answering.setdefault(issue.answers, []).append(issue)
    carried = open_quotes(norm, sentences, mentions)
    for sentence in sentences:
        present = by_sentence.get(sentence.index, [])
        asked = _QUESTION.search(sentence.text)
        if asked is not None and not _ANSWER.match(sentence.text, asked.end()):
            # "Will Britain send troops? Five questions about the plan": a headline that asks
            # takes no position in its question, only (perhaps) in what follows it.
            start = sentence.start + asked.end()
            sentence = Sentence(sentence.index, start, sentence.end, text[start : sentence.end])
            present = [m for m in present if m.start >= start]
        opened = carried.get(sentence.index)
        if opened is not None:
            present = [opened.speaker, *present]  # the quotation began in an earlier sentence
        if not present or sentence.end - sentence.start > MAX_SENTENCE_CHARS:
            continue
        if sentence.text.rstrip(" '\"’”").endswith("?") or _SHOUTED.fullmatch(sentence.text):
            # A question ("Will Russia accept Western troops?") takes no position, and in
            # capitals ("ZELENSKYY CLAIMS TRUMP SAID ...") names cannot be told from words.
            continue
        topics = {i.id: _topic_spans(norm, sentence, i) for i in story.issues}
        # Which issues the model may read here: those the sentence names a topic of, all of them
        # in the story's own words, and each in its own related words ("Ukraine's security").
        readable = {i.id: bool(topics[i.id]) for i in story.issues}
        if story.model is not None and not all(readable.values()):
            shared = _story_words(norm, sentence, story)
            readable = {i.id: readable[i.id] or shared or _related(norm, sentence, i) for i in story.issues}
        on_topic = any(readable.values())
        if not on_topic or _deployment_elsewhere(norm, sentence, topics, story.relevance):
            continue
        own = by_sentence.get(sentence.index, [])
        around = frames(norm, sentence, own) + ([opened] if opened is not None else [])
        reading = read(norm, sentence.start, sentence.end, present, actors) if story.model else None
        second = guesses(story.model, reading) if story.model and reading else {}
        stated: set[str] = set()  # issues the rules found a stance on in this sentence
        borrowed: list[tuple[Issue, re.Match, str, tuple[str, ...], list[Holder]]] = []
        for issue in story.issues:
            if not topics[issue.id]:
                continue
            held: set[str] = set()
            clauses_used: set[int] = set()
            readings = []
            excluded = _excluded_spans(norm, sentence, issue)
            likely: dict[str, float] | None = None  # the holder model's view, once needed
            for cue, label in _cues(norm, sentence, issue):
                if any(
                    (cue.start() < b and a < cue.end())
                    or (cue.end() <= a <= cue.end() + 25 and not _CLAUSE_MARK.search(norm, cue.end(), a))
                    for a, b in excluded
                ):
                    continue  # "send US troops", "ruled out deploying US troops": not the issue
                clause = clause_start(norm, sentence.start, cue.start())
                if clause in clauses_used or not _topic_in_clause(
                    norm, clause, cue, sentence, topics[issue.id]
                ):
                    continue  # one stance per issue and clause; the topic must be in the clause
                if _elsewhere(norm, cue.end(), sentence.end, story.relevance):
                    continue  # "send 900 more troops to Estonia" is another deployment
                found = find_holders(norm, sentence, present, cue.start(), cue.end(), actors, around)
                holders = _entitled(found, issue, actors)
                for other in answering.get(issue.id, ()):
                    # Those who cannot hold this issue may answer another with these words
                    # ("Lavrov warned Britain against sending troops": Russia rejects them).
                    lent = [
                        h
                        for h in found
                        if not h.fallback
                        # not a name in someone's quoted words ("parroting Kremlin lines")
                        and not quoted(norm, sentence, h.mention.start)
                        and not issue.may_be_held_by(actors[h.mention.actor_id])
                        and other.may_be_held_by(actors[h.mention.actor_id])
                    ]
                    said, qualifiers = _qualify(norm, sentence, cue, label, issue, present, lent)
                    # "Peskov dismissed reports that Britain would send troops" denies a report
                    # about Britain; it says nothing of Russia accepting troops.
                    if lent and said in other.answer_labels and not _OF_A_REPORT.match(norm, cue.end()):
                        borrowed.append((other, cue, other.answer_labels[said], qualifiers, lent))
                if holders and reading is not None and story.model.holders is not None:
                    if likely is None:
                        likely = _likely(story, reading, present, actors, issue)
                    # A holder the model finds unlikely is dropped ("The Kremlin dismissed Trump's
                    # assurance that Putin would accept ...": not Putin). Only after the fallback
                    # is settled: a speaker stands in only for those who cannot hold the issue,
                    # not for those the model doubts.
                    holders = [h for h in holders if _believed(h, likely, story.model.holders)]
                qualified = _qualify(norm, sentence, cue, label, issue, present, holders)
                # A hedge after "but" qualifies what came before ("would be involved, but declined
                # to spell out what that meant"): it replaces the firmer reading of the same
                # subject ("but (he) declined", not "though no decision ...").
                again = (
                    {h.mention.actor_id for h in holders} & held
                    if qualified[0] in issue.softened.values()
                    and _CONTRAST.match(norm, _clause_break_before(norm, clause))
                    and _SAME_SUBJECT.fullmatch(norm, clause, cue.start())
                    else set()
                )
                holders = [h for h in holders if h.mention.actor_id not in held - again]
                if not holders:
                    continue
                # Compare only with issues these holders could speak to ("ruled out a US guarantee").
                rivals = {
                    i.id: topics[i.id]
                    for i in story.issues
                    if any(i.may_be_held_by(actors[h.mention.actor_id]) for h in holders)
                }
                if not _about(issue, cue, rivals):
                    continue
                # Only a hedge surely about this issue replaces: "but declined to say whether the
                # US would back the force" hedges on the guarantee, not on the troops.
                if again and not _about(issue, cue, rivals, topics):
                    holders = [h for h in holders if h.mention.actor_id not in again]
                    again = set()
                    if not holders:
                        continue
                if again:
                    readings = [
                        (*r[:4], [h for h in r[4] if h.mention.actor_id not in again]) for r in readings
                    ]
                clauses_used.add(clause)
                stated.add(issue.id)
                held.update(h.mention.actor_id for h in holders)
                readings.append((cue, label, *qualified, holders))
                denied = issue.negation.get(qualified[0])
                denying = [
                    Holder(m, "speaker")
                    for m in deniers(norm, sentence, present, cue.start())
                    if denied
                    # free, or taken for a holder of the words they deny (see below)
                    and (m.actor_id not in held or any(h.mention.actor_id == m.actor_id for h in holders))
                    and issue.may_be_held_by(actors[m.actor_id])
                ]
                if denying:  # "Peskov rebuffed Trump's claim that Putin would accept ...": rejects
                    # What is denied was a claim, if it was not one already, and never the
                    # denier's own.
                    first = min(h.mention.start for h in denying)
                    source = claimant(norm, present, first, cue.start())
                    deniers_ids = {h.mention.actor_id for h in denying}
                    readings[-1] = (
                        *readings[-1][:4],
                        [
                            h
                            if h.attribution == "claim"
                            else Holder(h.mention, h.how, "claim", source.actor_id if source else "others")
                            for h in holders
                            if h.mention.actor_id not in deniers_ids
                        ],
                    )
                    held.update(h.mention.actor_id for h in denying)
                    readings.append((cue, denied, denied, ("negated",), denying))
            # A sure model overrules a bare cue's label (not its holder): negations and hedges
            # the cue lists do not know ("declines to promise a backstop"); but not where others
            # hold positions of their own ("Britain stands ready ..., but Germany rejects ...").
            voices = {h.mention.actor_id for *_, holders in readings for h in holders}
            opinion = second.get(issue.id) if len(voices) == 1 else None
            for cue, said, label, qualifiers, holders in readings:
                certainty = 1.0
                # A cue that holds back ("reluctance", "evasive") says so itself: no guess makes it firm.
                if opinion is not None and opinion.label != label and said not in issue.softened.values():
                    # A negation or hedge the rules did see is overruled only by a near-certain guess.
                    bar = story.model.overrule_qualified if qualifiers else story.model.overrule
                    if opinion.probability >= bar:
                        label, qualifiers, certainty = opinion.label, ("learned",), opinion.probability
                observations.extend(
                    _observation(
                        holder,
                        issue,
                        label,
                        qualifiers,
                        weight * certainty,
                        sentence,
                        cue.group(),
                        version,
                        part,
                    )
                    for holder in holders
                )
        if story.model is not None:
            unstated = [i for i in story.issues if i.id not in stated and readable[i.id]]
            observations.extend(
                _learned(
                    norm,
                    sentence,
                    present,
                    story,
                    unstated,
                    topics,
                    second,
                    reading,
                    around,
                    actors,
                    weight,
                    version,
                    part,
                )
            )

        # Borrowed readings come last, for a side nothing else gave a reading on that issue here:
        # the issue's own cues and the model read it better.
        def side(actor_id: str) -> str:
            return actors[actor_id].affiliation or actor_id

        here = {
            (side(o.actor_id), o.issue_id, o.attribution)
            for o in observations
            if o.sentence_index == sentence.index
        }
        for other, cue, label, qualifiers, holders in borrowed:
            holders = [h for h in holders if (side(h.mention.actor_id), other.id, h.attribution) not in here]
            here.update((side(h.mention.actor_id), other.id, h.attribution) for h in holders)
            observations.extend(
                _observation(h, other, label, qualifiers, weight, sentence, cue.group(), version, part)
                for h in holders
            )
    return observations


def _entitled(found: list[Holder], issue: Issue, actors: dict[str, Actor]) -> list[Holder]:
    """The holders the story's files let hold the issue. A speaker stands in for those they
    speak of (who may not hold it) only on an issue kept to some sides by its ``holders``, when
    the speaker is of one of them ("Lavrov said Britain had no right to send troops": Russia's
    objection); on an open issue the words stay the others' ("Zelensky said the Kremlin would
    reject European troops" is no position of Zelensky's on the force)."""
    holders = [h for h in found if issue.may_be_held_by(actors[h.mention.actor_id])]
    if not issue.holders or any(not h.fallback for h in holders):
        return [h for h in holders if not h.fallback]
    return holders


def _likely(
    story: Story, reading: Reading, present: list[Mention], actors: dict[str, Actor], issue: Issue
) -> dict[str, float]:
    """The holder model's probability for each actor named that may hold the issue."""
    named = [actors[i] for i in dict.fromkeys(m.actor_id for m in present)]
    return holding(story.model.holders, reading, [a for a in named if issue.may_be_held_by(a)], issue.id)


def _chosen(
    norm: str, sentence: Sentence, mention: Mention, around: list[Frame], actors: dict[str, Actor]
) -> Holder:
    """A holder the model chose: its own word, unless someone of another side, or someone
    unnamed ('"France and Germany ... will have boots on the ground," he said'), reports it."""
    reports = [f for f in around if f.start <= mention.start < f.end and f.speaker != mention]
    if reports:
        speaker = min(reports, key=lambda f: f.end - f.start).speaker
        if speaker is None:
            return Holder(mention, "subject", "claim", "others")
        if not same_side(speaker.actor_id, mention.actor_id, actors):
            return Holder(mention, "subject", "claim", speaker.actor_id)
    elif quoted(norm, sentence, mention.start):
        return Holder(mention, "subject", "claim", "others")  # named in a quotation nobody we know said
    return Holder(mention, "subject")


def _story_words(norm: str, sentence: Sentence, story: Story) -> bool:
    """Whether a sentence uses the story's words: its relevance terms past the places, its
    issues' topics, or what its issues' verbs act on ("boots", "backstop"). Without them a
    guess is not about the story ("Putin said Russia would never accept NATO membership")."""
    pattern = _story_words_pattern(
        story.relevance.require_all, story.relevance.any_of, tuple((i.objects, i.topic) for i in story.issues)
    )
    return pattern is not None and pattern.search(norm, sentence.start, sentence.end) is not None


@lru_cache(maxsize=32)
def _story_words_pattern(
    require_all: tuple[tuple[str, ...], ...],
    any_of: tuple[str, ...],
    issue_words: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
) -> re.Pattern[str] | None:
    # Keyed on the words themselves: a story changed in memory (dataclasses.replace) gets its own.
    words = [t for group in require_all[1:] for t in group] + list(any_of)
    words += [w for objects, topic in issue_words for w in (*objects, *topic)]
    return terms_pattern(tuple(dict.fromkeys(words)))


def _related(norm: str, sentence: Sentence, issue: Issue) -> bool:
    """Whether a sentence uses one of the issue's related words, which let the model read it for
    that issue alone ("jets" says nothing of Russia's view)."""
    pattern = terms_pattern(issue.related)
    return pattern is not None and pattern.search(norm, sentence.start, sentence.end) is not None


def _learned(
    norm: str,
    sentence: Sentence,
    present: list[Mention],
    story: Story,
    issues: list[Issue],
    topics: dict[str, list[tuple[int, int]]],
    second: dict[str, Guess | None],
    reading: Reading | None,
    around: list[Frame],
    actors: dict[str, Actor],
    weight: float,
    version: str,
    part: str,
) -> list[StanceObservation]:
    """What the story's model reads in a sentence where the rules found no cue for an issue."""
    model = story.model
    found = []
    for issue in issues:
        guessed = second.get(issue.id)
        if guessed is None or guessed.probability < model.min_probability:
            continue
        if not topics[issue.id] and _excluded_spans(norm, sentence, issue):
            continue  # only what the issue is not about: "rejected American troops defending ..."
        anchor = guessed.anchor
        if _elsewhere(norm, anchor.end, sentence.end, story.relevance):
            continue
        holders = _entitled(
            find_holders(norm, sentence, present, anchor.start, anchor.end, actors, around), issue, actors
        )
        if reading is not None and model.holders is not None:
            likely = _likely(story, reading, present, actors, issue)
            # What is asked of someone ("Zelensky asked Trump to send troops") states no position:
            # the model chooses nobody there.
            may_choose = not wished(norm, sentence.start, anchor.start)
            holders = _with_model(
                norm, sentence, holders, likely, present, around, actors, model.holders, may_choose
            )
        found.extend(
            _observation(
                holder,
                issue,
                guessed.label,
                ("learned",),
                weight * guessed.probability,
                sentence,
                norm[anchor.start : anchor.end],
                version,
                part,
            )
            for holder in holders
        )
    return found


def _with_model(
    norm: str,
    sentence: Sentence,
    holders: list[Holder],
    likely: dict[str, float],
    present: list[Mention],
    around: list[Frame],
    actors: dict[str, Actor],
    model: HolderModel,
    may_choose: bool = True,
) -> list[Holder]:
    """The rules' holders of a guessed stance that the holder model does not find unlikely, and
    those it is sure of; where the rules found nobody (or nobody it believes), those it finds
    likely, unless ``may_choose`` is false."""
    kept = [h for h in holders if _believed(h, likely, model)]
    if not kept and not may_choose:
        return []
    # Where it believes none of the rules' holders, it chooses as if they had found nobody.
    bar = model.sure if kept else model.choose
    taken = {h.mention.actor_id for h in kept}
    for actor_id, probability in likely.items():
        if probability >= bar and actor_id not in taken:
            # The actor's mention in this sentence's own words (not a speaker carried from before),
            # unless it only qualifies others ("Ukraine's allies said they were ready").
            mention = next(
                m for m in present if m.actor_id == actor_id and sentence.start <= m.start < sentence.end
            )
            if modifier(norm, mention):
                continue
            kept.append(_chosen(norm, sentence, mention, around, actors))
            taken.add(actor_id)
    return kept


def _believed(holder: Holder, likely: dict[str, float], model: HolderModel) -> bool:
    """Whether a holder the rules chose survives the holder model: the agent of a passive always
    does; an actor the model did not score (a speaker carried from before) too."""
    return holder.how in GRAMMATICAL or likely.get(holder.mention.actor_id, 1.0) >= model.confirm


def _observation(
    holder: Holder,
    issue: Issue,
    label: str,
    qualifiers: tuple[str, ...],
    weight: float,
    sentence: Sentence,
    cue: str,
    version: str,
    part: str,
) -> StanceObservation:
    confidence = CONFIDENCE[holder.how] * weight
    for qualifier in (*qualifiers, "claim") if holder.attribution == "claim" else qualifiers:
        confidence *= QUALIFIER_WEIGHT.get(qualifier, 1.0)
    return StanceObservation(
        actor_id=holder.mention.actor_id,
        issue_id=issue.id,
        stance=label,
        confidence=round(confidence, 3),
        evidence=sentence.text,
        sentence_index=sentence.index,
        start=sentence.start,
        end=sentence.end,
        cue=cue,
        rules_version=version,
        attribution=holder.attribution,
        claimed_by=holder.claimed_by,
        part=part,
        qualifiers=qualifiers,
    )


def _topic_spans(norm: str, sentence: Sentence, issue: Issue) -> list[tuple[int, int]]:
    pattern = terms_pattern(issue.topic)
    if pattern is None:
        return []
    spans = [m.span() for m in pattern.finditer(norm, sentence.start, sentence.end)]
    excluded = _excluded_spans(norm, sentence, issue)
    return [(a, b) for a, b in spans if not any(x <= a < y for x, y in excluded)]


def _excluded_spans(norm: str, sentence: Sentence, issue: Issue) -> list[tuple[int, int]]:
    """Where the issue's ``not_topic`` phrases stand ("American troops"), unless coordinated with
    what the issue is about ("European and US troops" share their noun)."""
    pattern = terms_pattern(issue.not_topic) if issue.not_topic else None
    if pattern is None:
        return []
    return [
        m.span()
        for m in pattern.finditer(norm, sentence.start, sentence.end)
        if not _COORDINATED.search(norm, max(sentence.start, m.start() - 6), m.start())
    ]


_COORDINATED = re.compile(r"(?:,|\band|\bor)\s+$")


# Not across a new clause: "peacekeepers as US and Russia open talks in Riyadh" sends no one.
_DESTINATION = re.compile(
    r"(?:(?!\b(?:as|while|but|and|after|before|when|where|during)\b)[^,;.]){0,40}?"
    r"\b(?:to|in|into|inside)\s+(?:the\s+)?([A-Z][\w-]+)"
)
_NEIGHBOURS = re.compile(
    r"(?:(?!\b(?:as|while|but|and|after|before|when|where|during)\b)[^,;.]){0,40}?"
    r"\b(?:to|in|on|into|inside)\s+(?:the\s+)?(?:neighbou?ring|nearby|bordering|adjacent)\b"
)
# Capitalised words after "to" or "in" that are not a destination.
_NOT_PLACES = frozenset(
    re.findall(
        r"\w+",
        "Europe European NATO Nato UN Parliament Commons MPs January February March April May June July "
        "August September October November December Monday Tuesday Wednesday Thursday Friday Saturday "
        "Sunday",
    )
)


def _elsewhere(norm: str, start: int, end: int, rules: Relevance) -> bool:
    """Whether the words after a cue send it somewhere the story is not ("troops to Estonia"):
    a capitalised place after "to" or "in" that is not one of the story's places (its first
    relevance group)."""
    found = _DESTINATION.match(norm, start, end)
    if found is not None and rules.require_all:
        place = found.group(1)
        story_places = terms_pattern(rules.require_all[0])
        named = names_pattern(rules.names) if rules.names else None
        if story_places and story_places.fullmatch(place):
            return False  # "to Ukraine to deter attacks on neighbouring countries"
        if not (place in _NOT_PLACES or (named and named.fullmatch(place))):
            return True
    # "deploy forces to neighbouring NATO territory" is not in Ukraine
    return _NEIGHBOURS.match(norm, start, end) is not None


def _deployment_elsewhere(
    norm: str, sentence: Sentence, topics: dict[str, list[tuple[int, int]]], rules: Relevance
) -> bool:
    """Whether the sentence sends its troops somewhere else ("troops to Estonia and Romania")
    and never names a place of the story."""
    places = terms_pattern(rules.require_all[0]) if rules.require_all else None
    if places is None or places.search(norm, sentence.start, sentence.end):
        return False
    return any(_elsewhere(norm, end, sentence.end, rules) for spans in topics.values() for _, end in spans)


def _topic_in_clause(
    norm: str, clause: int, cue: re.Match, sentence: Sentence, spans: list[tuple[int, int]]
) -> bool:
    after = next_clause(norm, cue.end(), sentence.end)
    return any(clause <= start < after for start, _ in spans)


def _about(
    issue: Issue,
    cue: re.Match,
    topics: dict[str, list[tuple[int, int]]],
    every: dict[str, list[tuple[int, int]]] | None = None,
) -> bool:
    """Whether the cue speaks to ``issue``: its own topic is named in or after it no later
    than another issue's topic (one of ``topics``, not also its own) after the cue. ``every``
    issue's topics (default ``topics``) take the topics inside their longer ones."""
    # A topic inside another issue's longer one is that issue's ("the force" in "back the force"),
    # even an issue the holder cannot speak to.
    mine = [
        (a, b)
        for a, b in topics[issue.id]
        if not any(
            x <= a and b <= y and y - x > b - a
            for other, spans in (every or topics).items()
            if other != issue.id
            for x, y in spans
        )
    ]
    if topics[issue.id] and not mine:
        return False
    # A verb-and-object cue is judged by its verb: "offer a guarantee to the force" offers a guarantee.
    cue_end = cue.end(cue.lastgroup) if cue.lastgroup and cue.lastgroup.startswith("l") else cue.end()
    own = [start for start, _ in mine if start >= cue.start()]
    if not own and any(start >= cue.start() for start, _ in topics[issue.id]):
        return False  # what follows the cue is another issue's ("... whether the US would back the force")
    if not own:
        return True  # the topic came before the cue ("troops ... which it opposes")
    if own[0] < cue_end:
        return True  # the cue names the topic itself ("send troops")
    others = [
        start
        for other, spans in topics.items()
        if other != issue.id
        for start, end in spans
        if start >= cue_end and not any(a < end and start < b for a, b in mine)
    ]
    return not others or own[0] <= min(others)


def _cues(norm: str, sentence: Sentence, issue: Issue) -> list[tuple[re.Match, str]]:
    """Every cue in the sentence: the phrase cues in reading order (at one place the longest
    wins), then the verb-and-object and object-first cues that do not overlap them."""
    found = []
    for label, cues in issue.cues.items():
        pattern = terms_pattern(cues)
        if pattern is not None:
            found.extend((m, label) for m in pattern.finditer(norm, sentence.start, sentence.end))
    chosen = _in_order(found)
    # After the phrase cues: in "sending soldiers would be reckless" the phrase speaks. But a
    # verb of another label before a phrase governs it: "weighs sending troops" is weighing.
    actions = _actions_pattern(issue)
    for pattern in (actions, _after_objects_pattern(issue)):
        if pattern is None:
            continue
        matches = [
            (m, issue.labels[int(m.lastgroup[1:])])
            for m in pattern.finditer(norm, sentence.start, sentence.end)
        ]
        for match, label in _in_order(matches):
            crossed = [c for c in chosen if _overlap(match, c[0])]
            governs = pattern is actions and all(
                c[1] != label
                and match.end(match.lastgroup) <= c[0].start()
                # "US balks as UK, France pledge troops": the verb ends its clause first.
                and not _GOVERN_BREAK.search(norm, match.end(match.lastgroup), c[0].start())
                for c in crossed
            )
            if not crossed:
                chosen.append((match, label))
            elif governs:  # in the place of the phrase it governs
                at = chosen.index(crossed[0])
                chosen = [*chosen[:at], (match, label), *(c for c in chosen[at:] if c not in crossed)]
    return chosen


_GOVERN_BREAK = re.compile(r"[,;:]|\s(?:as|while|but|and|after|before|when|because)\s", re.IGNORECASE)


def _in_order(found: list[tuple[re.Match, str]]) -> list[tuple[re.Match, str]]:
    """In reading order, without overlaps; at one place the longest wins."""
    found.sort(key=lambda f: (f[0].start(), -len(f[0].group())))
    chosen: list[tuple[re.Match, str]] = []
    for match, label in found:
        if not chosen or match.start() >= chosen[-1][0].end():
            chosen.append((match, label))
    return chosen


def _overlap(a: re.Match, b: re.Match) -> bool:
    return a.start() < b.end() and b.start() < a.end()


# How many words may stand between an action and its object ("commit its own troops").
ACTION_REACH_WORDS = 5


def _actions_pattern(issue: Issue) -> re.Pattern[str] | None:
    """Verb ... object, the verb's label in the group that matched (l0, l1, ... by label order)."""
    if not issue.actions or not issue.objects:
        return None
    actions = tuple((issue.labels.index(label), verbs) for label, verbs in issue.actions.items() if verbs)
    return _compile_actions(actions, issue.objects)


@lru_cache(maxsize=64)
def _compile_actions(
    actions: tuple[tuple[int, tuple[str, ...]], ...], objects: tuple[str, ...]
) -> re.Pattern[str]:
    groups = "|".join(f"(?P<l{n}>{alternation(verbs, fold_case=True)})" for n, verbs in actions if verbs)
    gap = rf"(?:[\s,]+[\w'’-]+){{0,{ACTION_REACH_WORDS}}}?[\s,]+"
    target = alternation(objects, fold_case=True)
    # A verb runs on only into its own endings: "put" finds "putting", never "Putin".
    return re.compile(rf"(?<!\w)(?:{groups}){_VERB_ENDING}{gap}(?:{target})\w*", re.IGNORECASE)


_VERB_ENDING = r"(?:e?s|e?d|ing|[b-df-hj-np-tv-z](?:ed|ing))?(?!\w)"


def _after_objects_pattern(issue: Issue) -> re.Pattern[str] | None:
    """Object ... phrase ("troops will be there"), the label in the group (o0, o1, ...)."""
    if not issue.after_objects or not issue.objects:
        return None
    phrases = tuple((issue.labels.index(label), words) for label, words in issue.after_objects.items())
    return _compile_after_objects(phrases, issue.objects)


@lru_cache(maxsize=64)
def _compile_after_objects(
    phrases: tuple[tuple[int, tuple[str, ...]], ...], objects: tuple[str, ...]
) -> re.Pattern[str]:
    groups = "|".join(f"(?P<o{n}>{alternation(words, fold_case=True)})" for n, words in phrases)
    target = alternation(objects, fold_case=True)
    return re.compile(
        rf"(?<!\w)(?:{target})\w*(?:[\s,]+[\w'’-]+){{0,3}}?[\s,]+(?:{groups})(?!\w)", re.IGNORECASE
    )


def _qualify(
    norm: str,
    sentence: Sentence,
    cue: re.Match,
    label: str,
    issue: Issue,
    mentions: list[Mention] = (),
    holders: list[Holder] = (),
) -> tuple[str, tuple[str, ...]]:
    """The label after negation, hedging and conditions, and which of them applied."""
    qualifiers: list[str] = []
    # Between a verb and its object counts too: "gives no outright guarantee".
    gap = None
    if cue.lastgroup and cue.lastgroup.startswith("l"):  # verb ... object
        gap = (cue.end(cue.lastgroup), cue.end())
    elif cue.lastgroup:  # object ... phrase: "troops would not be permitted"
        gap = (cue.start(), cue.start(cue.lastgroup))
    if _just_before(norm, sentence.start, cue.start(), issue.softeners) or _within(
        norm, gap, issue.softeners
    ):
        label = issue.softened.get(label, label)
        qualifiers.append("softened")
    elif (
        _just_before(norm, sentence.start, cue.start(), issue.negators) or _within(norm, gap, issue.negators)
    ) and not _TIMING.match(norm, cue.end(), sentence.end):
        label = issue.negation.get(label, label)
        qualifiers.append("negated")
    after = exact_pattern(issue.trailing)
    trailing = after.search(norm, cue.end(), sentence.end) if after is not None else None
    if trailing is not None:
        # In the cue's clause ("..., without saying what"), or a next one that goes on with the
        # same subject ("..., though he gave no details"); not one about something else ("but
        # the details would be worked out later").
        end = next_clause(norm, cue.end(), sentence.end)
        if trailing.start() >= end:
            opening = _CLAUSE_OPENING.match(norm, end)
            if not (opening and opening.end() == trailing.start()):
                trailing = None
    own = {h.mention.actor_id for h in holders}
    if (
        trailing is not None
        and "softened" not in qualifiers
        and label in issue.softened
        # "UK troops ready, US role still being worked out": the hedge is another's
        and not any(cue.end() <= m.start < trailing.start() and m.actor_id not in own for m in mentions)
    ):
        label = issue.softened.get(label, label)
        qualifiers.append("softened")
    if _just_before(norm, sentence.start, cue.start(), issue.hedges) or _within(norm, gap, issue.hedges):
        label = issue.hedged.get(label, label)
        qualifiers.append("hedged")
    conditions = exact_pattern(issue.conditions)
    if (conditions is not None and conditions.search(norm, sentence.start, sentence.end)) or (
        (
            _ONLY.search(cue.group())
            or _ONLY_BEFORE.search(norm, max(sentence.start, cue.start() - 12), cue.start())
        )
        and _IF.search(norm, cue.end(), next_clause(norm, cue.end(), sentence.end))
    ):  # "would only back the force if Europe pays": "only ... if" is "only if"
        label = issue.conditional.get(label, label)
        qualifiers.append("conditional")
    return label, tuple(qualifiers)


_OF_A_REPORT = re.compile(
    r"\s+(?:the\s+|a\s+)?(?:\w+['’]s?\s+)?(?:claims?|reports?|suggestions?|assertions?|rumou?rs?|talk)\s+"
    r"(?:that|of)\b",
    re.IGNORECASE,
)
# The start of a clause that goes on with the subject before it: ", though he ...", "but ...".
_CLAUSE_OPENING = re.compile(
    r"[\s,;—-]*(?:and|but|while|whereas|although|though|yet)?\s*(?:(?:he|she|it|they)\s+)?(?:also\s+)?",
    re.IGNORECASE,
)
_SAME_SUBJECT = re.compile(
    r"(?:(?:he|she|it|they)\s+)?(?:(?:\w+ly|also|still|has|had|have|then)\s+)*", re.IGNORECASE
)
# A clause that turns against the one before it.
_CONTRAST = re.compile(r"[\s,]*(?:but|though|although|yet)\b", re.IGNORECASE)


def _clause_break_before(norm: str, clause: int) -> int:
    """Where the break that opens the clause at ``clause`` begins (``clause`` if none)."""
    k = clause
    while k > 0 and (norm[k - 1].isspace() or norm[k - 1] in ",;"):
        k -= 1
    for word in ("but", "though", "although", "yet"):
        if norm[max(0, k - len(word)) : k].lower() == word:
            return max(0, k - len(word))
    return clause


_ONLY = re.compile(r"\bonly\b", re.IGNORECASE)
_ONLY_BEFORE = re.compile(r"\bonly\s+$", re.IGNORECASE)
# A condition, not a question ("asked if", "unclear if") nor a concession ("even if").
_IF = re.compile(r"(?<!\basked )(?<!\bunclear )(?<!\beven )\b(?:if|unless)\b", re.IGNORECASE)


def _within(norm: str, span: tuple[int, int] | None, phrases: tuple[str, ...]) -> bool:
    pattern = exact_pattern(phrases)
    return span is not None and pattern is not None and pattern.search(norm, *span) is not None


_SHOUTED = re.compile(r"[^a-z]*")
# An answer to the question before it: "Should Britain send troops? Starmer says yes".
_ANSWER = re.compile(
    r"(?:[\w.'’-]+\s+){1,4}(?:says?|said|answers?|answered)\s+['‘\"“]?(?:yes|no)\b", re.IGNORECASE
)
# A question that opens a sentence, up to its last question mark that more words follow.
# Only a question proper: "UK troops for Ukraine? Only with a US backstop" names its topic.
_QUESTION = re.compile(
    r"^[\s'\"‘“]*(?:will|would|should|could|can|is|are|was|were|does|do|did|has|have|why|what|who|"
    r"how|when|where)\b.*\?[\s'\"’”]+(?=\S)",
    re.DOTALL | re.IGNORECASE,
)
# "will not send troops until a ceasefire": a when, not a no.
_TIMING = re.compile(r"[^,;.]{0,60}?\b(?:until|before|unless\s+and\s+until)\b", re.IGNORECASE)


def _just_before(norm: str, sentence_start: int, cue_start: int, phrases: tuple[str, ...]) -> bool:
    pattern = exact_pattern(phrases)
    if pattern is None:
        return False
    # Searched in place, not in a slice: the slice would hide "K" and let "Knot" read as "not".
    found = list(pattern.finditer(norm, max(sentence_start, cue_start - WINDOW_CHARS), cue_start))
    for qualifier in reversed(found):
        between = norm[qualifier.end() : cue_start]
        if norm[max(sentence_start, qualifier.start() - 2) : qualifier.start()].strip() == ",":
            between = re.sub(
                r"^\s*,", " ", between
            )  # the qualifier is the aside: "could, in principle, send"
        # An aside between commas stands apart ("will not, however, send"); a lone comma ends the
        # clause ("Whether or not Washington helps, Germany has ruled out ..." is no negation).
        between = _ASIDE.sub(" ", between)
        if len(between.split()) <= QUALIFIER_WINDOW_WORDS and not _CLAUSE_MARK.search(between):
            return True
    return False


_ASIDE = re.compile(r",[^,;:]{1,40},")
_CLAUSE_MARK = re.compile(r"[,;:]")

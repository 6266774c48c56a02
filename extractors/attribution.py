"""Who holds a stance that a sentence expresses: the speaker, the subject, or nobody.

A sentence often names several actors, and only one of them holds the position its cue
expresses. The rules, in order:
1. a cue inside a quotation belongs to the quotation's speaker ("'...', Lavrov said");
2. a cue inside reported speech belongs to the speaker ("Trump said the US would ..."),
   unless the reported clause has another actor as its subject, who is then the holder
   of a *claim* made by the speaker ("Zelensky said Moscow would never accept ...");
   anonymous speakers (officials, critics, analysts) make the subject's stance a claim;
3. otherwise the holder is the actor named right before the cue ("a US guarantee"), else
   the first actor named before the cue in its clause who is not the object of a
   preposition ("troops in Ukraine" hold no stance);
4. a sentence that only reports what others believe ("is said to", "reportedly") makes the
   stance a claim by the journalist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.records import Actor, Mention
from extractors.sentences import Sentence

# How far around a name attribution looks, so that tagging stays linear in the text.
WINDOW_CHARS = 80

SPEECH_VERBS = (
    r"said|says|say|told|tells|stated|states|responded|replied|added|warned|warns|warning|insisted|"
    r"insists|argued|argues|declared|declares|announced|announces|pledged|pledges|promised|"
    r"promises|confirmed|confirms|emphasi[sz]ed|stressed|stresses|signall?ed|signals|suggested|"
    r"claimed|claims|vowed|vows|wrote|writes|posted|noted|reiterated|repeated|made clear|"
    r"makes clear|indicated|indicates|hinted|admitted|acknowledged|conceded|explained|"
    r"maintained|maintains|asserted|assured|reaffirmed|underlined|cautioned|threatened|"
    r"believes|believed|thinks|accused|countered|retorted|dismissed|rejected|told reporters"
)
_VERB = rf"(?:{SPEECH_VERBS})\b"
# Between a speaker's name and the verb: "has", "also", "on Tuesday", a role in commas.
# Between a speaker's name and the verb: "has", "also", "on Tuesday", a role in commas, or
# a title and a name ("Russia's foreign minister", "US Defence Secretary Pete Hegseth").
TITLE_WORDS = (
    r"officials?|spokes(?:man|woman|person)|sources?|diplomats?|ministers?|ministry|government|"
    r"leaders?|envoys?|secretary|chancellor|president|prime|foreign|defen[cs]e|deputy|aide|adviser|"
    r"advisor|ambassador|state|department|chief|special|senior|top|vice|press|office|"
    r"administration|authorities|negotiators?|embassy|presidency|delegation"
)
_SPEAKER_GAP = (
    r"(?:\s*,[^,]{1,60},)?\s*(?:(?:has|have|had|also|again|then|later|once|previously|repeatedly|"
    rf"publicly|flatly|on\s+\w+|in\s+a\s+\w+(?:\s+\w+)?|in\s+[A-Z][\w'-]+|{TITLE_WORDS}|[A-Z][\w'-]+)[\s,]+)*"
    r"(?:,[^,]{1,60},\s*)?"
)
# The comma that closes an appositive may stand before the verb ("..., Sergei Lavrov, repeated").
_SPEAKER_AFTER = re.compile(rf"{_SPEAKER_GAP}(?:,\s*)?{_VERB}")
# ... but only when a comma opened it too.
_COMMA_VERB = re.compile(rf"\s*,\s*{_VERB}")
_COMMA_BEFORE = re.compile(r",\s*$")
# "..., said Lavrov" (after a comma or a quotation), or "according to the Kremlin".
_VERB_BEFORE = re.compile(rf"[,\"”’']\s*{_VERB}\s*(?:on\s+\w+\s+)?$|\b[Aa]ccording\s+to\s+$")
# Speakers who are not actors: what they say about an actor is a claim.
_ANONYMOUS = re.compile(
    rf"\b(?:critics|analysts|experts|observers|commentators|diplomats|officials|sources|"
    rf"insiders|people\s+familiar\s+with[^,]{{0,40}}|some|many|others|opponents|allies|"
    rf"a\s+(?:senior\s+)?(?:official|diplomat|source))\s+(?:have\s+|had\s+)?{_VERB}",
    re.IGNORECASE,
)
_HEARSAY = re.compile(
    r"\b(?:is|are|was|were)\s+(?:said|understood|believed|thought|reported|expected)\s+to\b|"
    r"\breportedly\b|\ballegedly\b|\bit\s+is\s+(?:understood|believed)\b",
    re.IGNORECASE,
)
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:from|to|in|into|with|against|for|of|on|by|about|at|over|between|among|towards?"
    r"|than|like|as|inside|across|within|without|onto|including|involving|beside|alongside|behind|and)\s+"
    r"(?:the\s+|a\s+|an\s+)?$",
    re.IGNORECASE,
)
_PARTICIPLE = re.compile(
    r"(?:,\s+|\b(?:before|after|while|when)\s+)(?:telling|saying|adding|warning|insisting|arguing|"
    r"stressing|noting|announcing|declaring|repeating|confirming)\b",
    re.IGNORECASE,
)
# Hopes and demands are not positions: "Zelensky said he hoped Washington would back ...".
_DESIRE = re.compile(
    r"\b(?:hoped?|hopes|hoping|urged?|urges|urging|called\s+on|calls\s+on|wants?|wanted|"
    # "asked Trump to", not "Asked whether ..., Trump said": a question is no wish.
    r"ask(?:ed|s)?\s+(?:\w+\s+){1,3}to|press(?:ed|es)?\s+(?:\w+\s+){1,3}to|pressing\s+for|"
    r"appealed\s+to|demanded|demands?|needs?|needed|seeks?|seeking|sought|"
    # A warning to others is what the speaker wants of them: "warned Britain against sending".
    # Only against sending them: "warned Putin against threatening British troops" is no wish
    # about the deployment.
    r"(?:warn|caution)(?:ed|s|ing)?\s+(?:\w+\s+){1,4}?(?:against|not\s+to)\s+"
    r"(?:send|deploy|put|commit|station|join|contribut)\w*|"
    r"aims?\s+to\s+secure|to\s+secure|push(?:es|ed)?\s+for|lobb(?:y|ies|ied)\s+for)\b",
    re.IGNORECASE,
)
# Someone the story does not know speaks ("Pompeo argued that ..."): what follows is a claim.
_UNNAMED_SPEAKER = re.compile(rf"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\s+(?:has\s+|had\s+)?{_VERB}\s+(?:that\s+)?")
# A name that modifies what follows it: "US-led", "UK-backed".
_MODIFIER = re.compile(r"-[a-z]")
_POSSESSIVE = re.compile(r"['’]s?(?=\s)")
# After a possessive, others: "Ukraine's allies", "Britain's European partners".
_OTHERS_OF = re.compile(
    r"\s+(?:\w+\s+)?(?:allies|partners|backers|friends|neighbou?rs|enemies|critics|opponents|"
    r"supporters|foes|rivals)\b",
    re.IGNORECASE,
)
# After "said": where or when it was said, not what ("..., Starmer wrote in a newspaper article").
_ADVERBIAL = re.compile(
    r"(?:in|on|at|during|after|before|while|when|from|to\s+(?:reporters|journalists|MPs))\b(?![^.]*\bthat\b)"
)
# A clause that goes straight on with a verb (or a pronoun) has no subject of its own.
_NO_NEW_SUBJECT = re.compile(r"\s*(?:(?:he|she|it|then|also|later|has|have|had|will|would|now)\s+)*")
_COLON = re.compile(r"\s*:\s")
_AND = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s+)(?:the\s+)?")
# Before a speaker, "and" and "as" join clauses ("Britain and France said", "as Lavrov said").
_OBJECT_BEFORE = re.compile(
    _PREPOSITION_BEFORE.pattern.replace("|and)", ")").replace("|like|as|", "|like|"),
    re.IGNORECASE,
)
_ADJACENT_GAP = re.compile(r"^[\s,]*(?:[A-Za-z-]+\s+){0,2}$")
# Clause breaks: a stance after "but" or "while" has its own subject.
# Clause breaks; "as" only before a name ("... as Lavrov repeated"), not "regarded as targets".
_CLAUSE_BREAK = re.compile(
    r";|,\s+and\s+|,?\s+(?:but|while|whereas|although|though|yet)\s+|\s+as\s+(?=(?:the\s+)?[A-Z])|\s+—\s+|\s+-\s+"
)
# Single quotes may hold apostrophes ("'It's a question for later,' Peskov said").
_QUOTES = re.compile(r"[\"“]([^\"“”]{3,}?)[\"”]|(?<![\w])['‘]((?:[^'‘’]|(?<=\w)['’](?=\w)){3,}?)['’](?![\w])")


@dataclass(frozen=True)
class Holder:
    """Who holds a stance, how that was found, and whose word it is."""

    mention: Mention
    how: str  # quote | speaker | agent (of a passive) | adjacent | subject
    attribution: str = "own"  # own | claim
    claimed_by: str | None = None  # the actor id, or "journalist", or "others"
    fallback: bool = False  # holds only if none of the holders before it may hold the issue


@dataclass(frozen=True)
class Frame:
    """A stretch of a sentence that reports someone's words."""

    start: int
    end: int
    speaker: Mention | None  # None for anonymous speakers
    quoted: bool = False


def frames(norm: str, sentence: Sentence, mentions: list[Mention]) -> list[Frame]:
    """The quotations and reported speech in a sentence, with their speakers."""
    found: list[Frame] = []
    for quote in _QUOTES.finditer(norm, sentence.start, sentence.end):
        speaker = _quote_speaker(norm, sentence, quote.start(), quote.end(), mentions)
        if speaker is not None:
            found.append(Frame(quote.start(), quote.end(), speaker, quoted=True))
    for mention in mentions:
        after = _SPEAKER_AFTER.match(norm, mention.end, min(sentence.end, mention.end + WINDOW_CHARS))
        if (
            after
            and _COMMA_VERB.match(norm, mention.end)
            and not _COMMA_BEFORE.search(norm, max(sentence.start, mention.start - 3), mention.start)
        ):
            after = None  # "Macron, standing next to Zelensky and Starmer, said": Macron speaks
        if after:
            if _OBJECT_BEFORE.search(norm, max(sentence.start, mention.start - 30), mention.start):
                continue  # "troops from Britain said" names who, not who speaks
            # The reported words follow the verb, or came before it ("..., Lavrov said." or
            # "..., Starmer wrote in a newspaper article").
            tail = norm[after.end() : min(sentence.end, after.end() + 100)].strip(" ,.:")
            if len(tail.split()) >= 3 and not _ADVERBIAL.match(tail):
                found.append(Frame(after.end(), sentence.end, mention))
            else:
                found.append(Frame(sentence.start, mention.start, mention))
            continue
        before = _VERB_BEFORE.search(norm, max(sentence.start, mention.start - 30), mention.start)
        if before:  # "..., said Lavrov" or "according to the Kremlin, ..."
            if before.group().lower().startswith("according"):
                found.append(Frame(sentence.start, sentence.end, mention))
            else:
                found.append(Frame(sentence.start, before.start(), mention))
    for participle in _PARTICIPLE.finditer(norm, sentence.start, sentence.end):
        # "Lavrov spoke ..., telling reporters that ...": the sentence's subject speaks.
        subject = next((m for m in mentions if m.end <= participle.start()), None)
        if subject is not None and not _OBJECT_BEFORE.search(norm, sentence.start, subject.start):
            found.append(Frame(participle.end(), sentence.end, subject))
    first = mentions[0] if mentions else None
    if first is not None and first.start == sentence.start and _COLON.match(norm, first.end, sentence.end):
        found.append(Frame(first.end, sentence.end, first))  # a headline's "Starmer: UK ready to ..."
    for anonymous in _ANONYMOUS.finditer(norm, sentence.start, sentence.end):
        found.append(Frame(anonymous.end(), sentence.end, None))
    trailing = _TRAILING_SPEAKER.search(norm, sentence.start, sentence.end)
    if (
        trailing is not None
        and trailing.group(1).split()[0].lower() not in _PRONOUNS
        and not any(trailing.start() <= m.start < trailing.end() for m in mentions)
    ):
        # "..., analysts said." / "..., Herbst says": someone the story does not follow said it.
        found.append(Frame(sentence.start, trailing.start(), None))
    return found


_OPENING = re.compile(r"[\"“]")
_CLOSING = re.compile(r"[\"”]")


def open_quotes(norm: str, sentences: list[Sentence], mentions: list[Mention]) -> dict[int, Frame]:
    """Quotations that run on past their first sentence ('Peskov said: "... . ..."'): for each
    later sentence inside one, a frame that gives its words to the quotation's speaker.

    A quotation left open by mistake stops at a new paragraph, at a sentence whose own actor
    speaks, or after ``QUOTE_REACH`` sentences.
    """
    by_sentence: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention.sentence_index, []).append(mention)
    carried: dict[int, Frame] = {}
    speaker: Mention | None = None
    run = 0  # sentences carried so far
    previous_end = 0
    for sentence in sentences:
        if speaker is not None and (
            run >= QUOTE_REACH
            or sentence.end - sentence.start > MAX_QUOTED_CHARS
            or "\n" in norm[previous_end : sentence.start]
            or _speaks(norm, sentence, by_sentence)
        ):
            speaker = None  # a new paragraph or a new speaker: the quotation was left open by mistake
        previous_end = sentence.end
        if speaker is not None:
            closing = _CLOSING.search(norm, sentence.start, sentence.end)
            carried[sentence.index] = Frame(
                sentence.start, closing.start() if closing else sentence.end, speaker, quoted=True
            )
            run += 1
            if closing is not None:
                speaker = None
            continue
        run = 0
        marks = [m.start() for m in _QUOTE_MARKS.finditer(norm, sentence.start, sentence.end)]
        if len(marks) % 2 == 1 and norm[marks[-1]] in '"“':  # the last quotation stays open
            present = by_sentence.get(sentence.index, [])
            speaker = _quote_speaker(norm, sentence, marks[-1], sentence.end, present)
    return carried


_QUOTE_MARKS = re.compile(r"[\"“”]")
# How many sentences after its first a quotation may run on, and how long each may be.
QUOTE_REACH = 3
MAX_QUOTED_CHARS = 1500


def _speaks(norm: str, sentence: Sentence, by_sentence: dict[int, list[Mention]]) -> bool:
    """Whether one of the sentence's own actors speaks in it ("..., Starmer said.")."""
    own = by_sentence.get(sentence.index, [])
    return any(f.speaker is not None for f in frames(norm, sentence, own[:MAX_SPEAKERS]))


# Past this many names, a sentence is a list, not speech: how many are checked for a speaker.
MAX_SPEAKERS = 12


# A speaker named after the words, at the end of the sentence, and perhaps a source's name
# after a headline ("..., Herbst says Novyny.LIVE").
_TRAILING_SPEAKER = re.compile(
    r",\s+((?:[\w'’.-]+\s+){1,5}?)(?:has\s+|have\s+)?"
    r"(?:said|says|told\s+\w+|tells\s+\w+|added|adds|wrote|writes|noted|argued|argues|insisted|stressed)"
    r"(?:\s+(?:on|in|at|to)\s+[\w-]+)*\s*[.\"”'’]*(?:\s+\S+)?\s*$"
)
# Not a speaker's first word: a pronoun stands for one named before, "as he has said" or
# "a move critics dismissed" qualify what went before.
_PRONOUNS = frozenset(
    {"he", "she", "they", "it", "we", "i", "you", "who", "which", "as", "a", "an", "this", "that", "what"}
)


# The second speaker opens what the first reports ("Zelensky said (that) Trump told him"), or
# one of its "that" clauses ("Zelensky said Ukraine wanted ... and that Trump said ...").
_OPENS_REPORT = re.compile(r"[\s,:]*(?:that\s+)?")
# Not "now that", "so that", "the day that": those open no report.
_THAT_CLAUSE = re.compile(
    r"(?<!\bnow )(?<!\bso )(?<!\bday )(?<!\btime )(?<!\bgiven )(?<!\bsuch )"
    r"\bthat\s+(?:the\s+)?(?:[A-Z][\w.'-]*\s+){0,3}$"
)


def _relays(norm: str, report_start: int, speaker_start: int) -> bool:
    """Whether the speaker at ``speaker_start`` is the subject of words reported from ``report_start``."""
    if _OPENS_REPORT.fullmatch(norm, report_start, speaker_start):
        return True
    that = _THAT_CLAUSE.search(norm, max(report_start, speaker_start - 40), speaker_start)
    # ... and still inside the first report: "..., but now that Starmer has said" is not.
    return that is not None and not _CLAUSE_BREAK.search(norm, report_start, that.start())


def _quote_speaker(
    norm: str, sentence: Sentence, start: int, end: int, mentions: list[Mention]
) -> Mention | None:
    # '"...", Lavrov said' / '"...," said Lavrov' / 'Lavrov said: "..."'
    for mention in mentions:
        if end <= mention.start <= end + 40:
            gap = norm[end : mention.start]
            if re.fullmatch(rf"[\s,.]*(?:{_VERB}\s+)?(?:the\s+)?", gap, re.IGNORECASE) and (
                _VERB_BEFORE.search(gap)
                or _SPEAKER_AFTER.match(norm, mention.end, min(sentence.end, mention.end + WINDOW_CHARS))
            ):
                return mention
        if start - 60 <= mention.end <= start:
            gap = norm[mention.end : start]
            if _SPEAKER_AFTER.match(gap) and re.search(r"[:,]?\s*(?:that\s+)?$", gap):
                return mention
    # 'Starmer stood beside Zelensky and Macron and said: "..."': the clause's subject speaks.
    joined = _AND_SAID.search(norm, max(sentence.start, start - 40), start)
    if joined is not None:
        clause = clause_start(norm, sentence.start, joined.start())
        # "After meeting Trump, Starmer returned to London and said": after the opening phrase.
        clause = max(clause, norm.rfind(",", clause, joined.start()) + 1)
        free = [
            m
            for m in mentions
            if clause <= m.start < joined.start()
            and not _PREPOSITION_BEFORE.search(norm, max(sentence.start, m.start - WINDOW_CHARS), m.start)
        ]
        if free:
            return free[0]
    return None


_AND_SAID = re.compile(rf"\s+and\s+(?:then\s+)?{_VERB}\s*[:,]?\s*$")


def find_holders(
    norm: str,
    sentence: Sentence,
    mentions: list[Mention],
    cue_start: int,
    cue_end: int,
    actors: dict[str, Actor],
    around: list[Frame] | None = None,
) -> list[Holder]:
    """The actors who hold the stance the cue at ``cue_start`` expresses (several when
    coordinated: "France and Britain signed ..."), or none.

    ``around`` are the sentence's frames (see :func:`frames`), when already known.
    """
    if _asked(norm, sentence.start, cue_start):
        return []  # a question put to someone ("Trump was asked whether he offered ...") is no answer
    # A name inside the cue ("no US troops") is part of the wording, not the holder.
    mentions = [m for m in mentions if not (cue_start <= m.start < cue_end)]
    if around is None:
        around = frames(norm, sentence, mentions)
    inside = [
        f for f in around if f.start <= cue_start < f.end and (f.speaker is None or f.speaker in mentions)
    ]
    # The innermost report wins: a quotation within reported speech is the quoted speaker's;
    # of two speakers of the same words, the one nearer them ("Putin's foreign minister,
    # Sergei Lavrov, said": Lavrov).
    inside.sort(key=lambda f: (not f.quoted, f.end - f.start, -(f.speaker.start if f.speaker else 0)))
    for frame in inside:
        clause = clause_start(norm, frame.start, cue_start)
        subject = _subject(norm, sentence, mentions, clause, cue_start, frame.speaker)
        if frame.speaker is None:
            if subject is None:
                continue
            return [Holder(m, subject[1], "claim", "others") for m in subject[0]]
        speaker = frame.speaker
        how = "quote" if frame.quoted else "speaker"
        # Those who speak together ("Starmer and Macron said", "UK, France say").
        together = _coordinated(
            norm,
            speaker,
            [m for m in mentions if m.end <= speaker.end],
            clause_start(norm, sentence.start, speaker.start),
        )
        # From the speaker on: "warned Britain against sending" begins before the reported words.
        wish_from = speaker.end if speaker.end <= frame.start else frame.start
        if subject is not None and _wish(norm, wish_from, subject[0][0].start, cue_end):
            subject = None  # what the speaker wants of others is not their position
        if subject is not None and not any(
            same_side(s.actor_id, m.actor_id, actors) for s in together for m in subject[0]
        ):
            claims = [Holder(m, subject[1], "claim", speaker.actor_id) for m in subject[0]]
            # When the issue cannot be held by those named, the words may be the speaker's own
            # ("Lavrov said Britain had no right to send troops"): the stance module decides.
            return [*claims, Holder(speaker, how, "own", None, fallback=True)]
        # One side speaking of itself: the person who speaks for it holds the stance
        # ("the Kremlin said Putin would never accept ...", "Peskov said Moscow ...").
        voices = [
            speaker,
            *(f.speaker for f in inside if f.speaker is not None),
            *(subject[0] if subject else []),
        ]
        holder = next(
            (
                person
                for person in voices
                if _kind(person, actors) == "person" and same_side(speaker.actor_id, person.actor_id, actors)
            ),
            speaker,
        )
        # Words passed on by someone else ("Zelensky said that Trump told him the US would ..."):
        # the one who passes them on makes a claim about the one who said them.
        relaying = next(
            (
                f.speaker
                for f in inside
                if f.speaker is not None
                and f.start <= speaker.start < f.end
                and _relays(norm, f.start, _phrase_start(norm, speaker, mentions))
                and not same_side(f.speaker.actor_id, speaker.actor_id, actors)
            ),
            None,
        )
        if relaying is not None:
            return [Holder(holder, how, "claim", relaying.actor_id)]
        return [Holder(m, how) for m in (together if holder is speaker else [holder])]
    agent = _passive_agent(norm, sentence, mentions, cue_end)
    if agent is not None:  # "... was ruled out by Moscow"
        return [Holder(agent, "agent")]
    start = clause_start(norm, sentence.start, cue_start)
    subject = _subject(norm, sentence, mentions, start, cue_start, None)
    if subject is None and start > sentence.start and _NO_NEW_SUBJECT.fullmatch(norm, start, cue_start):
        # "Trump backs European troops but rules out ...": the verb shares the first subject.
        before = clause_start(norm, sentence.start, start - 1)
        subject = _subject(norm, sentence, mentions, before, start, None)
        start = before
    if subject is None or _wish(norm, start, subject[0][0].start, cue_end):
        return []  # nobody, or the object of someone's wish ("Ukraine needs a US guarantee")
    if _HEARSAY.search(norm, sentence.start, sentence.end):
        return [Holder(m, subject[1], "claim", "journalist") for m in subject[0]]
    if _UNNAMED_SPEAKER.search(norm, start, cue_start):
        return [Holder(m, subject[1], "claim", "others") for m in subject[0]]
    return [Holder(m, subject[1]) for m in subject[0]]


_DENY = (
    r"(?:denie[sd]|deny|rebuff(?:s|ed)?|reject(?:s|ed)?|dismiss(?:es|ed)?|dispute[sd]?|"
    r"contradict(?:s|ed)?)"
)
# Before the claim: "Peskov rebuffed Trump's claim that Putin would accept ...".
_DENIAL_BEFORE = re.compile(
    rf"^\s+(?:\w+ly\s+)?{_DENY}\s+(?:(?:the|an?|\w+['’]s?|[A-Z][\w.-]*)\s+){{0,3}}"
    r"(?:claims?|suggestions?|assurances?|assertions?|reports?|insistence|statements?)?\s*(?:that\s+)?",
    re.IGNORECASE,
)
# After it: "..., a claim Peskov flatly denied"; "...; Kremlin disagrees"; "despite Kremlin denials".
_DENIAL_AFTER = re.compile(
    r"^[^;]*?(?:,\s+an?\s+(?:claim|suggestion|assertion|assurance|report|idea)\s+(?:that\s+|which\s+)?"
    r"|;\s*|\bdespite\s+(?:the\s+)?)$",
    re.IGNORECASE,
)
_DENIAL_VERB_AFTER = re.compile(
    rf"^\s+(?:(?:has|had|have|swiftly|quickly|flatly|promptly|firmly|immediately|later|also)\s+)*"
    rf"(?:{_DENY}|disagree[sd]?|denials)\b",
    re.IGNORECASE,
)


def deniers(norm: str, sentence: Sentence, mentions: list[Mention], cue_start: int) -> list[Mention]:
    """Who denies the reported claim that holds the cue: "Peskov rebuffed Trump's claim that
    Putin would accept ..."; "..., a suggestion Moscow swiftly denied"; "...; Kremlin
    disagrees"."""
    found = []
    for mention in mentions:
        if mention.end <= cue_start:
            between = norm[mention.end : cue_start]
            denial = _DENIAL_BEFORE.match(between)
            # What is denied is a claim, and it runs on to the cue in one clause.
            if (
                denial
                and _CLAIMED.search(denial.group())
                and not _CLAUSE_BREAK.search(between[denial.end() :])
            ):
                found.append(mention)
        elif (
            cue_start < mention.start < sentence.end
            and _DENIAL_AFTER.match(norm[cue_start : mention.start])
            and _DENIAL_VERB_AFTER.match(norm[mention.end : sentence.end])
        ):
            found.append(mention)
    return found


_CLAIMED = re.compile(r"\bthat\b|\bclaims?\b|\bsuggestion|\bassurance", re.IGNORECASE)
_CLAIM_NOUN = re.compile(
    r"(?:['’]s?)?\s+(?:claims?|suggestions?|assurances?|assertions?|insistence|statements?)\b",
    re.IGNORECASE,
)


def claimant(norm: str, mentions: list[Mention], start: int, cue_start: int) -> Mention | None:
    """Whose claim holds the cue, when named before it ("Trump's claim that ...")."""
    return next(
        (m for m in mentions if start <= m.start and m.end <= cue_start and _CLAIM_NOUN.match(norm, m.end)),
        None,
    )


def next_clause(norm: str, position: int, end: int) -> int:
    """Where the clause after the one holding ``position`` begins (or ``end``)."""
    found = _CLAUSE_BREAK.search(norm, position, end)
    return found.start() if found else end


def clause_start(norm: str, start: int, cue_start: int) -> int:
    """Where the clause that holds ``cue_start`` begins ("..., but Berlin refused ...")."""
    breaks = list(_CLAUSE_BREAK.finditer(norm, start, cue_start))
    return breaks[-1].end() if breaks else start


def _subject(
    norm: str,
    sentence: Sentence,
    mentions: list[Mention],
    start: int,
    cue_start: int,
    speaker: Mention | None,
) -> tuple[list[Mention], str] | None:
    """The clause's subject before the cue, with the actors coordinated with it."""
    # Who is named inside a question or a condition ("asked whether Russia could accept",
    # "only if the United States provided a backstop") states nothing there.
    inside = [
        (q.start(), _clause_end(norm, q.end(), cue_start)) for q in _WHETHER.finditer(norm, start, cue_start)
    ]
    before = [
        m
        for m in mentions
        if start <= m.start
        and m.end <= cue_start
        and m is not speaker
        and not any(a <= m.start < b for a, b in inside)
    ]
    free = [
        m
        for m in before
        if not _object_of_preposition(norm, sentence, _phrase_start(norm, m, before))
        # "a US-led mission" is the mission's, and what "Ukraine's allies" do is theirs
        and not modifier(norm, m)
    ]
    for mention in reversed(free):
        if cue_start - mention.end <= WINDOW_CHARS and _ADJACENT_GAP.match(norm[mention.end : cue_start]):
            return _coordinated(norm, mention, before, start), "adjacent"
    return (_coordinated(norm, free[0], before, start), "subject") if free else None


_WHETHER = re.compile(r"\b(?:whether|if)\b", re.IGNORECASE)


# A question reported, not answered: "was asked whether", "it is unclear if".
_ASKED = re.compile(
    r"\b(?:ask(?:ed|ing|s)?|question(?:ed|ing|s)?|press(?:ed)?\s+on|quizzed|wonder(?:ed|ing|s)?|"
    r"unclear|unknown|uncertain|remains\s+to\s+be\s+seen)\s+(?:\w+\s+){0,3}?(?:whether|if)\s",
    re.IGNORECASE,
)


def _asked(norm: str, start: int, cue_start: int) -> bool:
    """Whether the cue stands inside a reported question ("was asked whether he offered ..."),
    which ends at a comma, a new clause or an answer ("... and replied that ...")."""
    found = list(_ASKED.finditer(norm, start, cue_start))
    if not found:
        return False
    rest = found[-1].end()
    return (
        "," not in norm[rest:cue_start]
        and not _CLAUSE_BREAK.search(norm, rest, cue_start)
        and not _ANSWERED.search(norm, rest, cue_start)
    )


_ANSWERED = re.compile(rf"\band\s+(?:(?:he|she|it|they)\s+)?(?:{SPEECH_VERBS}|replied|answered)\b")


def _clause_end(norm: str, start: int, end: int) -> int:
    """Where a clause opened by "if" or "whether" ends: at its comma ("If a deal is signed,
    Britain will ..."), or at ``end`` when the cue is inside it."""
    comma = norm.find(",", start, end)
    return comma if comma >= 0 else end


_BY = re.compile(r"\s+(?:(?:on|in)\s+\w+\s+)?by\s+(?:the\s+)?$")


def _passive_agent(norm: str, sentence: Sentence, mentions: list[Mention], cue_end: int) -> Mention | None:
    """The actor after "by" that follows a cue in the passive ("ruled out by Moscow")."""
    before = norm[max(sentence.start, cue_end - 25) : cue_end]
    # "was ruled out", not the active "is rejecting".
    if not re.search(r"\b(?:was|were|been|being|is|are)\s+(?!\w+ing\b)\w+(?:\s+\w+)?$", before):
        return None
    for mention in mentions:
        if mention.start >= cue_end and _BY.match(norm, cue_end, mention.start):
            return mention
    return None


def _phrase_start(norm: str, mention: Mention, mentions: list[Mention]) -> int:
    """Where the name phrase of a mention begins, looking back past a title of the same actor
    ("with US President Donald Trump": the name is as much the object of "with" as the title)."""
    start = mention.start
    for other in reversed(mentions):
        if other.end <= start and other.actor_id == mention.actor_id and not norm[other.end : start].strip():
            start = other.start
    return start


def _object_of_preposition(norm: str, sentence: Sentence, start: int) -> bool:
    return _PREPOSITION_BEFORE.search(norm, max(sentence.start, start - WINDOW_CHARS), start) is not None


_STRAIGHT_OPENING = re.compile(r'(?<!\d)"')


def modifier(norm: str, mention: Mention) -> bool:
    """Whether a mention only qualifies what follows it ("a US-led mission", "Ukraine's allies")."""
    if _MODIFIER.match(norm, mention.end):
        return True
    # A possessive, in the mention ("Ukraine's") or just after it ("the United States' allies").
    after = _POSSESSIVE.match(norm, mention.end)
    if after is None and not norm[mention.start : mention.end].endswith(("'s", "’s")):
        return False
    return _OTHERS_OF.match(norm, after.end() if after else mention.end) is not None


def quoted(norm: str, sentence: Sentence, position: int) -> bool:
    """Whether ``position`` lies inside a quotation of the sentence, or after a double quotation
    mark the sentence opens and does not close (the quotation runs on into the next one)."""
    if any(q.start() < position < q.end() for q in _QUOTES.finditer(norm, sentence.start, sentence.end)):
        return True
    before = norm[sentence.start : position]
    if before.rfind("“") > before.rfind("”"):
        return True
    # Straight marks that open a quotation: not an inch mark ('12" guns'), and not the mark that
    # closes one begun in an earlier sentence ('... security," Trump said').
    marks = [m.start() for m in _STRAIGHT_OPENING.finditer(before)]
    return len(marks) % 2 == 1 and (not marks or marks[0] == 0 or before[marks[0] - 1] in " (:—-")


def wished(norm: str, start: int, cue_start: int) -> bool:
    """Whether a hope, request or demand comes before the cue ("asked Trump to send troops")."""
    return _DESIRE.search(norm, start, cue_start) is not None


def _wish(norm: str, start: int, subject_start: int, cue_end: int) -> bool:
    """Whether the subject is the object of a wish: searched up to the cue's end, so that
    "asked Trump to" and "warned Britain against" are seen, but only a wish that begins
    before the subject counts."""
    found = _DESIRE.search(norm, start, cue_end)
    return found is not None and found.start() < subject_start


def _coordinated(norm: str, head: Mention, mentions: list[Mention], clause: int) -> list[Mention]:
    """``head`` and the actors joined to it by "and" or commas ("Zelensky, Macron and Starmer"),
    after it and before it, within the clause that begins at ``clause`` ("Britain and France
    said", when the verb's neighbour is France). A comma joins a name before only when that
    name opens the clause, or follows an opening phrase's comma ("UK, France say", "On Monday,
    Britain, France and Germany said"): after "Meeting Trump, Macron and Starmer said" or
    "..., to protect Kyiv, Starmer and Macron said" it ends a phrase."""
    mentions = [m for m in mentions if m.start >= clause]
    chain = [head]
    for mention in mentions:
        if mention.start > chain[-1].end and _AND.fullmatch(norm, chain[-1].end, mention.start):
            chain.append(mention)
    for mention in reversed(mentions):
        if mention.end <= chain[0].start:
            if not _AND.fullmatch(norm, mention.end, chain[0].start):
                break
            opening = norm[clause : mention.start].strip(" '\"‘“")
            if "," in norm[mention.end : chain[0].start] and not (
                opening.lower() in ("", "the") or opening.endswith(",")
            ):
                break
            chain.insert(0, mention)
    return list({m.actor_id: m for m in chain}.values())


def _kind(mention: Mention, actors: dict[str, Actor]) -> str:
    actor = actors.get(mention.actor_id)
    return actor.kind if actor else ""


def same_side(speaker: str, subject: str, actors: dict[str, Actor]) -> bool:
    """Whether one actor speaks for the other (Lavrov for Russia, Trump for the US)."""
    if speaker == subject:
        return True
    a, b = actors.get(speaker), actors.get(subject)
    sides = {speaker, subject}
    return bool(
        (a and a.affiliation in sides) or (b and b.affiliation in sides)
        or (a and b and a.affiliation and a.affiliation == b.affiliation)
    )  # fmt: skip

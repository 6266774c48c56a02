"""Load a story definition (``seeds/<story>/``) into a :class:`Story`.

A story is four small YAML files and the original article's text. Loading reads local
files only; every mistake is reported as a :class:`StoryError` that names the file and
the entry at fault, because users write these files by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from extractors.learned import MODEL_FILE, ModelError, parse_model
from extractors.records import (
    Actor,
    Feed,
    Issue,
    Relevance,
    Role,
    SeedArticle,
    Story,
)
from extractors.schedule import schedule_interval

STORY_FILES = ("story.yaml", "actors.yaml", "issues.yaml", "feeds.yaml")
ACTOR_KINDS = ("person", "state", "organisation")


class StoryError(ValueError):
    """A story folder is missing a file or holds an invalid entry."""


def load_story(folder: str | Path, with_model: bool = True) -> Story:
    """Read and validate the story in ``folder`` (``with_model``: and its learned model, if any)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StoryError(f"{folder}: story folder not found")
    docs = {name: _read_yaml(folder / name) for name in STORY_FILES}
    meta = _mapping(docs["story.yaml"], folder / "story.yaml")
    story_id = _required(meta, "id", folder / "story.yaml")
    seed_meta = _mapping(meta.get("seed"), folder / "story.yaml", "seed")
    seed = _load_seed(folder, seed_meta)
    actors = _load_actors(docs["actors.yaml"], folder / "actors.yaml")
    issues = _load_issues(docs["issues.yaml"], folder / "issues.yaml")
    feeds = _load_feeds(docs["feeds.yaml"], folder / "feeds.yaml")
    relevance = _load_relevance(meta.get("relevance"), folder / "story.yaml")
    schedule = str(meta.get("schedule", "*/15 * * * *"))
    try:
        schedule_interval(schedule)
    except ValueError as exc:
        raise StoryError(f"{folder / 'story.yaml'}: schedule: {exc}") from None
    # Named with an issue's topic, an actor makes an item more likely to be coverage; the
    # place the story happens in ("Ukraine") says nothing by itself.
    places = {i for g in relevance.require_all[:1] for i in g}
    relevance = replace(
        relevance,
        names=tuple(n for a in actors for n in (a.name, *a.aliases, *a.metonyms) if n not in places),
        topics=tuple(dict.fromkeys(t for i in issues for t in i.topic)),
    )
    known = {a.id for a in actors}
    for issue in issues:
        unknown = sorted((set(issue.holders) | set(issue.not_holders)) - known)
        if unknown:
            raise StoryError(
                f"{folder / 'issues.yaml'}: issue {issue.id!r}: unknown actor(s) {', '.join(unknown)}"
            )
    for actor in actors:
        if actor.affiliation and actor.affiliation not in known:
            raise StoryError(
                f"{folder / 'actors.yaml'}: actor {actor.id!r} is affiliated with "
                f"unknown actor {actor.affiliation!r}"
            )
    model = None
    digest = hashlib.sha256()
    for name in (*STORY_FILES, seed_meta["file"]):
        digest.update((folder / name).read_bytes())
    model_path = folder / MODEL_FILE
    if with_model and model_path.is_file():
        raw = model_path.read_bytes()  # once: what is parsed is what is fingerprinted
        try:
            model = parse_model(raw, model_path, str(story_id), {i.id: i.labels for i in issues})
        except ModelError as exc:
            raise StoryError(str(exc)) from None
        digest.update(raw)
    return Story(
        id=str(story_id),
        title=str(meta.get("title", story_id)),
        description=str(meta.get("description", "")).strip(),
        seed=seed,
        actors=actors,
        issues=issues,
        feeds=feeds,
        relevance=relevance,
        schedule=schedule,
        fingerprint=digest.hexdigest()[:16],
        model=model,
    )


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoryError(f"{path}: file missing (a story needs {', '.join(STORY_FILES)})") from None
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        # PyYAML raises ValueError for impossible dates such as 2025-02-30.
        raise StoryError(f"{path}: not valid YAML: {exc}") from None


def _mapping(value: Any, path: Path, what: str = "document") -> dict:
    if not isinstance(value, dict):
        raise StoryError(f"{path}: {what} must be a mapping of keys to values")
    return value


def _entries(doc: Any, key: str, path: Path) -> list[dict]:
    entries = _mapping(doc, path).get(key)
    if not isinstance(entries, list) or not entries:
        raise StoryError(f"{path}: expected a non-empty list under {key!r}")
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise StoryError(f"{path}: {key} entry {n} must be a mapping")
    ids = [str(e.get("id")) for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise StoryError(f"{path}: duplicate id(s) {', '.join(duplicates)}")
    return entries


def _required(entry: dict, key: str, path: Path, where: str = "") -> Any:
    value = entry.get(key)
    if value in (None, "", [], {}):
        label = f" {where}" if where else ""
        raise StoryError(f"{path}:{label} missing {key!r}")
    return value


def _strings(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list):
        raise StoryError(f"{path}: {where} must be a list of strings")
    for item in value:
        if isinstance(item, bool):
            # YAML reads an unquoted no, yes, on or off as true or false, not as the word.
            raise StoryError(f"{path}: {where}: {item!r} is not text; put the word in quotes")
        if not str(item).strip():
            raise StoryError(f"{path}: {where}: an empty phrase would match anything")
    return tuple(str(v) for v in value)


def _as_date(value: Any, path: Path, where: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()  # "since: 2025-01-20 10:00" means the day
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise StoryError(f"{path}: {where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _load_seed(folder: Path, meta: dict) -> SeedArticle:
    path = folder / "story.yaml"
    file = _required(meta, "file", path, "seed:")
    try:
        raw = (folder / file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryError(f"{path}: seed: cannot read the seed article {str(file)!r}: {exc}") from None
    drop = set(_strings(meta.get("drop_lines"), path, "seed: drop_lines"))
    lines = [line.strip() for line in raw.splitlines()]
    text = "\n".join(line for line in lines if line and line not in drop)
    published = meta.get("published")
    if isinstance(published, date) and not isinstance(published, datetime):
        published = datetime.combine(published, time(12), tzinfo=UTC)
    elif isinstance(published, datetime) and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    elif published is not None and not isinstance(published, datetime):
        raise StoryError(f"{path}: seed: published {published!r} is not a date")
    return SeedArticle(
        url=str(_required(meta, "url", path, "seed:")),
        title=str(_required(meta, "title", path, "seed:")),
        text=text,
        published=published,
        outlet=meta.get("outlet"),
        author=meta.get("author"),
    )


def _load_actors(doc: Any, path: Path) -> tuple[Actor, ...]:
    actors = []
    for entry in _entries(doc, "actors", path):
        actor_id = str(_required(entry, "id", path, "actor:"))
        where = f"actor {actor_id!r}"
        kind = _required(entry, "kind", path, where)
        if kind not in ACTOR_KINDS:
            raise StoryError(f"{path}: {where}: kind must be one of {', '.join(ACTOR_KINDS)}")
        affiliation = entry.get("affiliation")
        if affiliation is not None and not isinstance(affiliation, str):
            raise StoryError(f"{path}: {where}: affiliation must be one actor id")
        actors.append(
            Actor(
                id=actor_id,
                name=str(_required(entry, "name", path, where)),
                kind=kind,
                affiliation=affiliation,
                aliases=_strings(entry.get("aliases"), path, f"{where}: aliases"),
                roles=_dated(entry, "roles", "title", path, where),
                officials=_dated(entry, "officials", "name", path, where),
                metonyms=_strings(entry.get("metonyms"), path, f"{where}: metonyms"),
                demonyms=_strings(entry.get("demonyms"), path, f"{where}: demonyms"),
            )
        )
    return tuple(actors)


def _dated(entry: dict, key: str, field: str, path: Path, where: str) -> tuple[Role, ...]:
    """A list of names or titles, each a string or ``{<field>: ..., since: ..., until: ...}``."""
    listed = entry.get(key) or []
    if not isinstance(listed, list):
        raise StoryError(f"{path}: {where}: {key} must be a list")
    found = []
    for item in listed:
        if isinstance(item, str):
            item = {field: item}
        if not isinstance(item, dict) or not isinstance(item.get(field), str) or not item[field].strip():
            raise StoryError(f"{path}: {where}: each of {key} needs a {field}")
        found.append(
            Role(
                title=item[field].strip(),
                since=_as_date(item.get("since"), path, where),
                until=_as_date(item.get("until"), path, where),
            )
        )
    return tuple(found)


def _load_issues(doc: Any, path: Path) -> tuple[Issue, ...]:
    issues = []
    shared = _mapping(doc, path)
    negators = _strings(shared.get("negators"), path, "negators")
    hedges = _strings(shared.get("hedges"), path, "hedges")
    softeners = _strings(shared.get("softeners"), path, "softeners")
    trailing = _strings(shared.get("trailing"), path, "trailing")
    undecided = _strings(shared.get("undecided"), path, "undecided")
    conditions = _strings(shared.get("conditions"), path, "conditions")
    for entry in _entries(doc, "issues", path):
        issue_id = str(_required(entry, "id", path, "issue:"))
        where = f"issue {issue_id!r}"
        cues = _mapping(_required(entry, "cues", path, where), path, f"{where}: cues")
        for label in cues:
            if not isinstance(label, str):
                # YAML reads yes/no/on/off as booleans: a label must be quoted to stay text.
                raise StoryError(f"{path}: {where}: label {label!r} is not text; put it in quotes")
        cue_map = {str(k): _strings(v, path, f"{where}: cues for {k}") for k, v in cues.items()}
        softened = _label_map(entry, "softened", cue_map, path, where)
        if undecided and len(set(softened.values())) == 1:
            # Words of indecision give every issue the label its softeners give.
            [held_back] = set(softened.values())
            cue_map[held_back] = (*cue_map[held_back], *undecided)
        issues.append(
            Issue(
                id=issue_id,
                question=str(_required(entry, "question", path, where)),
                topic=_strings(_required(entry, "topic", path, where), path, f"{where}: topic"),
                cues=cue_map,
                negation=_label_map(entry, "negation", cue_map, path, where),
                negators=negators,
                softeners=softeners,
                trailing=trailing,
                softened=softened,
                hedges=hedges,
                hedged=_label_map(entry, "hedged", cue_map, path, where),
                conditions=conditions,
                conditional=_label_map(entry, "conditional", cue_map, path, where),
                actions=_actions(entry, cue_map, path, where, "actions"),
                objects=_strings(entry.get("objects"), path, f"{where}: objects"),
                after_objects=_actions(entry, cue_map, path, where, "after_objects"),
                holders=_strings(entry.get("holders"), path, f"{where}: holders"),
                not_holders=_strings(entry.get("not_holders"), path, f"{where}: not_holders"),
                not_topic=_strings(entry.get("not_topic"), path, f"{where}: not_topic"),
                related=_strings(entry.get("related"), path, f"{where}: related"),
                **_answers(entry, cue_map, path, where),
            )
        )
    known = {i.id: i for i in issues}
    for issue in issues:
        if not issue.answers:
            continue
        other = known.get(issue.answers)
        if other is None or other is issue:
            raise StoryError(f"{path}: issue {issue.id!r}: answers names no other issue: {issue.answers!r}")
        unknown = sorted(set(issue.answer_labels) - set(other.labels))
        if unknown:
            raise StoryError(
                f"{path}: issue {issue.id!r}: answers maps {', '.join(unknown)}, which issue "
                f"{other.id!r} does not have (its labels: {', '.join(other.labels)})"
            )
    return tuple(issues)


def _answers(entry: dict, cues: dict, path: Path, where: str) -> dict[str, Any]:
    """The ``answers`` entry: the other issue and how its labels map to this issue's."""
    value = entry.get("answers")
    if value is None:
        return {}
    answers = _mapping(value, path, f"{where}: answers")
    other = answers.get("issue")
    if not isinstance(other, str) or not other:
        raise StoryError(f"{path}: {where}: answers needs the other issue's id as 'issue'")
    labels = _mapping(answers.get("labels") or {}, path, f"{where}: answers: labels")
    for label, mine in labels.items():
        if not isinstance(mine, str) or mine not in cues:
            raise StoryError(
                f"{path}: {where}: answers maps {label} -> {mine}, which is no label of this "
                f"issue (labels: {', '.join(cues)})"
            )
    if not labels:
        raise StoryError(f"{path}: {where}: answers needs labels: the other issue's -> this one's")
    return {"answers": other, "answer_labels": {str(k): str(v) for k, v in labels.items()}}


def _actions(entry: dict, cues: dict, path: Path, where: str, key: str) -> dict[str, tuple[str, ...]]:
    """Label -> words that signal it before (``actions``) or after (``after_objects``) one of
    the issue's objects."""
    actions = _mapping(entry.get(key) or {}, path, f"{where}: {key}")
    for label in actions:
        if label not in cues:
            raise StoryError(f"{path}: {where}: {key} for {label!r}, a label that has no cues")
    if actions and not entry.get("objects"):
        raise StoryError(f"{path}: {where}: {key} need objects (the nouns they go with)")
    verbs = {str(k): _strings(v, path, f"{where}: {key} for {k}") for k, v in actions.items()}
    return {label: words for label, words in verbs.items() if words}


def _label_map(entry: dict, key: str, cues: dict, path: Path, where: str) -> dict[str, str]:
    """A label -> label mapping (negation, hedged, conditional) whose labels all have cues."""
    mapping = _mapping(entry.get(key) or {}, path, f"{where}: {key}")
    for label, other in mapping.items():
        if not isinstance(other, str) or label not in cues or other not in cues:
            raise StoryError(
                f"{path}: {where}: {key} {label} -> {other} names a label "
                f"that has no cues (labels: {', '.join(cues)})"
            )
    return {str(k): str(v) for k, v in mapping.items()}


def _load_feeds(doc: Any, path: Path) -> tuple[Feed, ...]:
    feeds = []
    for entry in _entries(doc, "feeds", path):
        feed_id = str(_required(entry, "id", path, "feed:"))
        url = str(_required(entry, "url", path, f"feed {feed_id!r}"))
        if not url.startswith(("http://", "https://")):
            raise StoryError(f"{path}: feed {feed_id!r}: url must start with http:// or https://")
        feeds.append(
            Feed(id=feed_id, name=str(entry.get("name", feed_id)), url=url, kind=entry.get("kind", "rss"))
        )
    return tuple(feeds)


def _load_relevance(value: Any, path: Path) -> Relevance:
    meta = _mapping(value, path, "relevance")
    groups = meta.get("require_all") or []
    if not isinstance(groups, list) or not all(isinstance(g, list) and g for g in groups):
        raise StoryError(f"{path}: relevance: require_all must be a list of non-empty term lists")
    groups = [_strings(g, path, "relevance: require_all") for g in groups]
    any_of = _strings(meta.get("any_of"), path, "relevance: any_of")
    if not groups and not any_of:
        raise StoryError(f"{path}: relevance needs require_all groups or any_of terms")
    threshold = meta.get("threshold", 2.0)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise StoryError(f"{path}: relevance: threshold must be a number above 0, not {threshold!r}")
    return Relevance(
        require_all=tuple(tuple(str(t) for t in g) for g in groups),
        any_of=any_of,
        not_when=_strings(meta.get("not_when"), path, "relevance: not_when"),
        threshold=float(threshold),
    )

"""Grow a story's actor registry from the candidates its coverage turned up."""

from __future__ import annotations

import re
from pathlib import Path

from extractors.records import Actor
from extractors.story import ACTOR_KINDS, StoryError, load_story
from flows.settings import Settings
from flows.stories import prepare_story
from warehouse import store


def promote_actor(
    settings: Settings,
    story_name: str | None,
    name: str,
    actor_id: str | None = None,
    kind: str = "person",
    affiliation: str | None = None,
) -> tuple[Path, Actor]:
    """Append ``name`` to the story's actors.yaml, check the file still loads, and record
    the candidate as promoted. The file is left as it was if the new entry is invalid."""
    folder = settings.story_dir(story_name)
    story = load_story(folder)
    if kind not in ACTOR_KINDS:
        raise StoryError(f"--kind must be one of {', '.join(ACTOR_KINDS)}, not {kind!r}")
    clean = " ".join(name.split())  # no line breaks: a name is one line of YAML
    if not clean:
        raise StoryError("--promote needs a name")
    known = {a.id for a in story.actors}
    if any(clean in (a.name, *a.aliases) for a in story.actors):
        raise StoryError(f"{clean!r} is already in {folder / 'actors.yaml'}")
    new_id = actor_id or _slug(clean.split()[-1] if kind == "person" else clean)
    for value, what in ((new_id, "--id"), (affiliation or "x", "--affiliation")):
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise StoryError(
                f"{what} must be lower-case letters, digits, - or _ (an actor id), not {value!r}"
            )
    if new_id in known:
        raise StoryError(f"actor id {new_id!r} is taken in {folder / 'actors.yaml'}; choose one with --id")
    entry = [f"  - id: {_quoted(new_id)}", f"    name: {_quoted(clean)}", f"    kind: {kind}"]
    if affiliation:
        entry.append(f"    affiliation: {_quoted(affiliation)}")
    entry.append(f"    aliases: [{_quoted(clean)}]")
    path = folder / "actors.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.rstrip("\n") + "\n" + "\n".join(entry) + "\n", encoding="utf-8")
    try:
        story = load_story(folder)
        added = story.actor(new_id)
    except Exception:
        path.write_text(original, encoding="utf-8")  # the file as the user left it
        raise
    prepare_story(settings, story_name)
    with settings.open_warehouse() as con:
        store.promote_candidate(con, story.id, clean)
    return path, added


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "actor"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

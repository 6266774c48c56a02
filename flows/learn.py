"""Train a story's stance model from its labelled examples and write it beside the story files."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from extractors.learned import MODEL_FILE
from extractors.story import load_story
from extractors.training import example_files, load_examples, train
from flows.settings import Settings


@dataclass(frozen=True)
class Learned:
    """What ``storywatch learn`` wrote."""

    path: Path
    examples: int
    files: int
    per_issue: dict[str, dict[str, int]]  # issue -> label -> examples
    min_probability: float  # what a guess needs, chosen on folds of the examples
    holders: dict[str, int] | None  # (actor, issue) pairs the holder model learned from: "holds", "does not"


def learn_story(settings: Settings, story_name: str | None = None, extra: tuple[Path, ...] = ()) -> Learned:
    """Train on ``seeds/<story>/examples/*.yaml`` (and ``extra`` files) and write ``model.json``.

    The file is replaced whole (written beside it, then renamed), so a cycle reading the story
    meanwhile sees the old model or the new one, never half of one.
    """
    folder = settings.story_dir(story_name)
    story = load_story(folder, with_model=False)  # the model is what is being replaced
    files = [*example_files(folder), *extra]
    cases = load_examples(files, story)
    doc = train(story, cases)
    doc["trained_on"] = [_shown(f, folder) for f in files]
    path = folder / MODEL_FILE
    partial = path.with_name(f".{MODEL_FILE}.{os.getpid()}")
    partial.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)
    load_story(folder)  # the written model loads
    per_issue = {issue: entry["examples"] for issue, entry in doc["issues"].items()}
    holders = doc["holders"]["examples"] if doc.get("holders") else None
    return Learned(path, len(cases), len(files), per_issue, doc["min_probability"], holders)


def _shown(path: Path, folder: Path) -> str:
    """A training file as the model records it: relative to the story folder when inside it."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path.name

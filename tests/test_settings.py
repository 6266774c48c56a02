"""Settings come from the environment, then the settings file, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.settings import Settings, SettingsError, load_settings


def test_defaults_work_locally(tmp_path: Path):
    settings = load_settings(env={}, file=tmp_path / "absent.toml")
    assert settings.warehouse == Path("data/storywatch.duckdb")
    assert settings.story == "uk-troops-ukraine"
    assert settings.alert_urls == ()
    assert (settings.story_dir() / "story.yaml").exists()


def test_the_environment_overrides_the_file(tmp_path: Path):
    file = tmp_path / "storywatch.toml"
    file.write_text('warehouse = "from-file.duckdb"\nmax_alert_attempts = 7\n[http]\ntimeout = 3.5\n')
    settings = load_settings(env={"STORYWATCH_WAREHOUSE": "from-env.duckdb"}, file=file)
    assert settings.warehouse == Path("from-env.duckdb")
    assert settings.max_alert_attempts == 7
    assert settings.http.timeout == 3.5


def test_alert_urls_split_on_spaces_and_commas():
    urls = "json://127.0.0.1:8080/hook, mailto://user:pass@example.com  slack://a/b/c"
    settings = load_settings(env={"STORYWATCH_ALERT_URLS": urls, "STORYWATCH_CONFIG": "/nonexistent"})
    assert settings.alert_urls == (
        "json://127.0.0.1:8080/hook",
        "mailto://user:pass@example.com",
        "slack://a/b/c",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("warehose = 'typo.duckdb'", r"storywatch.toml: unknown setting\(s\) warehose"),
        ("warehouse = ", "not valid TOML"),
        ("[http]\ntimeout = -1", "must be greater than 0"),
        ("max_alert_attempts = 'many'", "is not a number"),
    ],
)
def test_a_bad_settings_file_is_named_with_the_problem(tmp_path: Path, content: str, message: str):
    file = tmp_path / "storywatch.toml"
    file.write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings(env={}, file=file)


def test_a_story_can_be_named_or_given_as_a_folder(tmp_path: Path):
    settings = Settings(seeds=tmp_path / "seeds")
    assert settings.story_dir("other-story") == tmp_path / "seeds" / "other-story"
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "story.yaml").write_text("id: elsewhere\n")
    assert settings.story_dir(str(folder)) == folder


def test_alert_kinds_and_digest_are_read_and_checked(tmp_path: Path):
    absent = tmp_path / "absent.toml"
    settings = load_settings(env={"STORYWATCH_ALERT_KINDS": "stance_change, flow_failed"}, file=absent)
    assert settings.alert_kinds == ("stance_change", "flow_failed")
    assert load_settings(env={"STORYWATCH_ALERT_DIGEST": "yes"}, file=absent).alert_digest is True
    assert load_settings(env={}, file=absent).alert_digest is False
    with pytest.raises(SettingsError, match=r"unknown kind.*stance_shift"):
        load_settings(env={"STORYWATCH_ALERT_KINDS": "stance_shift"}, file=absent)
    with pytest.raises(SettingsError, match="alert_digest: 'maybe' is not true or false"):
        load_settings(env={"STORYWATCH_ALERT_DIGEST": "maybe"}, file=absent)

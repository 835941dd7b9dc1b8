"""The one prompt-settings record (`estbench.prompts.PromptSettings`): saved beside a model, read back, overridden by
flags, refused when wrong; no model needed (CPU, milliseconds)."""

from __future__ import annotations

import argparse
import json

import pytest

from estbench.prompts import SETTINGS_FILE, PromptSettings, build_prompt, chat_prompt
from estbench.schema import TASKS, Task


def test_settings_round_trip_through_their_file(tmp_path):
    settings = PromptSettings(prompt_mode="per-task", prompt_language="zh-labels", max_context_chars=120,
                              chat_template=True)
    path = settings.save(tmp_path)
    assert path == tmp_path / SETTINGS_FILE
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "prompt_mode": "per-task", "prompt_language": "zh-labels", "max_context_chars": 120, "chat_template": True}
    assert PromptSettings.load(tmp_path) == settings


def test_a_folder_without_settings_gets_the_defaults_and_a_partial_file_keeps_the_rest(tmp_path):
    assert PromptSettings.load(tmp_path) == PromptSettings()
    (tmp_path / SETTINGS_FILE).write_text('{"prompt_mode": "per-task"}', encoding="utf-8")
    assert PromptSettings.load(tmp_path) == PromptSettings(prompt_mode="per-task")


@pytest.mark.parametrize("content, message", [
    ('{"prompt_mode": "per-turn"}', "unknown prompt mode 'per-turn'"),
    ('{"max_context_chars": 0}', "max_context_chars must be a positive integer"),
    ('{"chat_template": "yes"}', "chat_template must be true or false"),
    ('{"temperature": 0}', "unknown keys ['temperature']"),
    ("[1, 2]", "not a JSON object"),
    ("{", "not a JSON object"),
])
def test_a_bad_settings_file_is_one_clear_error(tmp_path, content, message):
    (tmp_path / SETTINGS_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        PromptSettings.load(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_overrides_replace_only_what_was_given():
    trained = PromptSettings(prompt_mode="per-task", max_context_chars=200, chat_template=True)
    assert trained.override(prompt_mode=None, chat_template=None) == trained
    assert trained.override(chat_template=False) == PromptSettings(prompt_mode="per-task", max_context_chars=200)
    with pytest.raises(ValueError, match="unknown prompt settings"):
        trained.override(temperature=0.1)


def _override_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    PromptSettings.add_override_arguments(parser)
    return parser


@pytest.mark.parametrize("argv, expected", [
    ([], PromptSettings(chat_template=True)),
    (["--no_chat_template"], PromptSettings()),
    (["--chat-template", "false"], PromptSettings()),
    (["--prompt_mode", "per-task", "--max-context-chars", "50"],
     PromptSettings(prompt_mode="per-task", max_context_chars=50, chat_template=True)),
])
def test_override_flags_are_generated_from_the_fields(argv, expected):
    args = _override_parser().parse_args(argv)
    assert PromptSettings(chat_template=True).override_from(args) == expected


@pytest.mark.parametrize("argv", [["--max_context_chars", "0"], ["--prompt_language", "fr"],
                                  ["--chat_template", "maybe"]])
def test_a_bad_override_value_is_a_usage_error(argv, capsys):
    parser = argparse.ArgumentParser()
    PromptSettings.add_override_arguments(parser)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(argv)
    assert exit_.value.code == 2 and "error: argument" in capsys.readouterr().err


def test_prompts_are_the_plain_functions_and_chat_needs_a_tokenizer():
    settings = PromptSettings(max_context_chars=5)
    expected = build_prompt("用户：很长的一段上下文", "你好", TASKS, "zh", 5, anchor="网断了")
    assert settings.prompts(["用户：很长的一段上下文"], ["你好"], ["网断了"], TASKS) == [expected]
    assert settings.completion({"emotion": "Anger"}, (Task.EMOTION,)) == "情绪：Anger"
    with pytest.raises(ValueError, match="need the model's tokenizer"):
        PromptSettings(chat_template=True).prompts(["x"], ["y"], None, TASKS)
    with pytest.raises(ValueError, match="1 contexts, 2 texts"):
        settings.prompts(["x"], ["y", "z"], None, TASKS)

    class Tokenizer:  # the interface chat_prompt uses, without transformers
        chat_template = "<u>{content}</u><a>"
        bos_token = None

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return f"<u>{messages[0]['content']}</u><a>"

    chat = PromptSettings(chat_template=True)
    prompt = chat.prompts(["x"], ["y"], None, TASKS, Tokenizer())[0]
    assert prompt == chat_prompt(Tokenizer(), build_prompt("x", "y", TASKS)) and prompt.endswith(chat.end(Tokenizer()))


def test_doctests():
    import doctest

    import estbench.cli
    import estbench.prompts

    for module in (estbench.prompts, estbench.cli):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module

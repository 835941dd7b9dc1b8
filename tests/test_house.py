"""The shape of the tree: one package whose layers never import upward, a thin builder, no symlinks, no sys.path
edits, settings from one place, and the command lines checking their arguments before any work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "estbench"
# estbench's layers, lowest first: a module may import only from a lower layer or from its own sub-package
LAYERS = (
    {"schema", "errors", "io", "cli", "agreement"},
    {"paper", "layout", "conventions", "consistency", "slices", "prompts"},
    {"scoring", "raw", "simulator", "built", "answers"},
    {"results", "convert", "significance", "gold", "hub_eval"},
    {"dataset", "submission"},
    {"spaces", "testing"},
)
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


def _tracked_files() -> list[str]:
    try:
        return subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")


def _internal_imports(path: Path) -> set[str]:
    """Top-level estbench parts (`schema`, `raw`, ...) that the module at `path` imports."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                base = list(parts[: len(parts) - node.level])
                target = base + (node.module.split(".") if node.module else [])
                if not target:  # `from .. import x`: x is the part
                    found.update(alias.name for alias in node.names)
                else:
                    found.add(target[0])
            elif node.module and node.module.split(".")[0] == "estbench":
                rest = node.module.split(".")[1:]
                found.update(rest[:1] or [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("estbench."):
                    found.add(alias.name.split(".")[1])
    return found


def test_no_module_imports_a_layer_above_it():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    for path in modules:
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",):
            assert _internal_imports(path) == set(), "importing estbench must import nothing"
            continue
        own = parts[0]
        assert own in LAYER_OF, f"{path}: add its part to LAYERS"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        outside = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                               if isinstance(node, ast.ImportFrom) and node.module and not node.level}
        assert not outside & {"est_dataset", "est_leaderboard", "est_baselines"}, f"{path} imports the folders above"
        for imported in _internal_imports(path) - {own}:
            assert LAYER_OF[imported] < LAYER_OF[own], f"{path.relative_to(ROOT)} imports estbench.{imported}"


def test_every_module_says_its_one_job_first():
    for path in sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "leaderboard" / "est_leaderboard").glob("*.py")):
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path} has no docstring"


def test_no_symlink_is_tracked():
    assert [line for line in _tracked_files() if line.startswith("120000")] == []


def test_no_sys_path_edits_outside_the_tests_conftest():
    offenders = []
    for line in _tracked_files():
        name = line.split("\t", 1)[1]
        if not name.endswith(".py") or name == "tests/conftest.py":
            continue
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in {"insert", "append", "extend"}
                    and ast.unparse(node.value) == "sys.path"):
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_the_builder_script_is_the_builder_class_and_the_cli():
    source = (ROOT / "est_dataset.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 350  # "a few hundred lines at most"
    defined = {node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert {"Est", "EstConfig", "make_parser", "main"} <= defined
    assert defined - {"Est", "EstConfig", "make_parser", "main"} <= {
        f"_cmd_{c}" for c in ("build", "simulate", "push", "convert")} | {"_print_summary", "_non_negative_int", "_positive_int"}


def test_track_names_come_from_the_layout():
    for path in [*ROOT.glob("baselines/**/*.py"), *ROOT.glob("leaderboard/**/*.py"), ROOT / "est_dataset.py"]:
        text = path.read_text(encoding="utf-8")
        assert '["balanced", "full"]' not in text and "('balanced', 'full')" not in text, path


def test_the_gradio_port_variable_is_honoured():
    from est_leaderboard.settings import Settings

    assert Settings.from_env({"GRADIO_SERVER_PORT": "7999"}).port == 7999
    assert Settings.from_env({"GRADIO_SERVER_PORT": "7999", "EST_LB_PORT": "8001"}).port == 8001


def test_the_leaderboard_refuses_a_busy_port_in_one_line(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, str(ROOT / "leaderboard" / "app.py"), "--port", str(port)],
                             capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr.strip() == (f"error: port {port} on 127.0.0.1 is in use; pick another with --port N "
                                  "(or EST_LB_PORT / GRADIO_SERVER_PORT)")


@pytest.mark.parametrize("args, message", [
    (["lora", "--track", "balanced", "--model", "m", "--output", "p.txt"], "--output p.txt: prediction files must end"),
    (["tfidf", "--track", "balanced", "--est-dir", "missing", "--output", "p.csv"], "--est-dir missing: no such folder"),
    (["majority", "--track", "full", "--output", "p.csv", "--est-dir", ".", "--results", "r.txt"], "must end in .json"),
])
def test_baseline_arguments_are_checked_before_any_work(args, message, tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "baselines" / "run.py"), *args], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 2 and message in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_lora_help_lists_the_training_options():
    run = subprocess.run([sys.executable, str(ROOT / "baselines" / "run.py"), "lora", "--help"], capture_output=True,
                         text=True)
    assert run.returncode == 0
    assert "LoRA training options" in run.stdout and "--lora_r" in run.stdout and "--learning_rate" in run.stdout


def test_simulate_help_shows_the_real_defaults():
    from estbench import simulator

    run = subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "simulate", "--help"], capture_output=True,
                         text=True)
    assert f"default: {simulator.DEFAULT_SESSIONS}" in run.stdout and f"default: {simulator.DEFAULT_SEED}" in run.stdout


def test_the_citation_has_one_home():
    from estbench.paper import CITATION

    assert CITATION in (ROOT / "metrics" / "est_metric" / "README.md").read_text(encoding="utf-8")
    assert "{{ citation }}" in (ROOT / "dataset_card.md").read_text(encoding="utf-8")
    for path in [*ROOT.glob("*.md"), *ROOT.glob("*/*.md"), *ROOT.glob("*/*/*.md"), *PACKAGE.rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "@misc{bian2025est" not in text, path
        if path.name != "paper.py":
            assert text.count("@article{bian2025est") <= (path.name == "README.md" and "est_metric" in str(path)), path

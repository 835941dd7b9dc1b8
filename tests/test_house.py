"""The shape of the tree: one package whose layers never import upward, a thin builder, no symlinks, no sys.path
edits, settings from one place, and the command lines checking their arguments before any work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from estbench import LAYERS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "estbench"
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
        f"_cmd_{c}" for c in ("build", "simulate", "push", "convert")} | {"_print_summary"}


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
    (["tfidf", "--track", "balanced", "--est-dir", "missing", "--output", "p.csv"],
     "--est_dir missing: no such folder"),
    (["majority", "--track", "full", "--output", "p.csv", "--est-dir", ".", "--results", "r.txt"], "must end in .json"),
    (["lora", "--track", "balanced", "--model_name_or_path", "m", "--output", "p.csv", "--est_dir", ".",
      "--batch_size", "0"], "argument --batch_size/--batch-size: 0 must be positive"),
    (["tfidf", "--track", "balanced", "--output", "p.csv", "--est_dir", ".", "--bootstrap", "-5"],
     "argument --bootstrap: -5 must be at least 0"),
    (["tfidf", "--track", "balanced", "--output", "p.csv", "--train-subsample", "0"], "0 must be positive"),
    (["encoder", "--track", "balanced", "--output", "p.csv", "--encoder_epochs", "x"], "invalid float value: 'x'"),
])
def test_baseline_arguments_are_checked_before_any_work(args, message, tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "baselines" / "run.py"), *args], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 2 and message in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("script, old, new", [
    ("baselines/run.py", ["tfidf", "--track", "full", "--output", "p.csv", "--est-dir", "e", "--train-subsample", "9",
                          "--batch-size", "3", "--output-dir", "o", "--model", "m", "--encoder-recipe", "r.yaml"],
     ["tfidf", "--track", "full", "--output", "p.csv", "--est_dir", "e", "--train_subsample", "9", "--batch_size", "3",
      "--output_dir", "o", "--model_name_or_path", "m", "--encoder_recipe", "r.yaml"]),
    ("baselines/predict.py", ["--model_path", "m", "--output", "p.csv", "--est-dir", "e", "--batch-size", "2",
                              "--chat-template", "--max-context-chars", "80"],
     ["--model_name_or_path", "m", "--output", "p.csv", "--est_dir", "e", "--batch_size", "2", "--chat_template",
      "--max_context_chars", "80"]),
])
def test_old_flag_spellings_are_still_accepted(script, old, new, tmp_path, monkeypatch):
    """One flag style (--snake_case) everywhere; the earlier spellings parse to the same arguments."""
    from est_baselines import prediction, runner

    monkeypatch.chdir(tmp_path)
    (tmp_path / "e").mkdir()

    parse = {"baselines/run.py": lambda argv: vars(runner.parse_args(argv)[0]),
             "baselines/predict.py": lambda argv: vars(prediction.parse_args(argv))}[script]
    assert parse(old) == parse(new)


def test_every_entry_point_shows_one_flag_style():
    """Every documented command's help lists its flags in --snake_case (the kebab-case spellings only as aliases)."""
    import re

    scripts = [[ROOT / "est_dataset.py", "build"], [ROOT / "est_dataset.py", "simulate"],
               [ROOT / "baselines" / "run.py"], [ROOT / "baselines" / "predict.py"],
               [ROOT / "baselines" / "from_lm_eval.py"], [ROOT / "metrics" / "deploy.py"],
               [ROOT / "leaderboard" / "deploy.py"], [ROOT / "leaderboard" / "app.py"]]
    for script in scripts:
        run = subprocess.run([sys.executable, *map(str, script), "--help"], capture_output=True, text=True)
        assert run.returncode == 0, (script, run.stderr)
        for line in run.stdout.splitlines():
            flags = re.findall(r"(?<![\w-])--[a-z][a-z0-9_-]*", line.split("  ")[0] if line.startswith("  -") else "")
            kebab = [flag for flag in flags if "-" in flag[2:]]
            for flag in kebab:  # an alias is listed right after its --snake_case spelling
                assert "--" + flag[2:].replace("-", "_") in flags or flag.startswith("--no-"), (script, line)


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


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_requirement_files_are_thin_entry_points_into_pyproject():
    extras = _pyproject()["project"]["optional-dependencies"]
    expected = {"requirements.txt": "-e .", "requirements-baselines.txt": "-e .[baselines]",
                "requirements-vllm.txt": "-e .[vllm]", "requirements-dev.txt": "-e .[dev]"}
    for name, line in expected.items():
        lines = [raw.split("#")[0].strip() for raw in (ROOT / name).read_text(encoding="utf-8").splitlines()]
        assert [entry for entry in lines if entry] == [line], name
    assert {"baselines", "vllm", "dev"} <= set(extras)
    assert not any(r.startswith("torch") for r in _pyproject()["project"]["dependencies"])  # the main job: no torch


def test_the_spaces_requirements_have_the_projects_version_floors():
    """A Space installs only its own requirements.txt, so it lists what it needs; the floors are pyproject's."""
    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    floors = {}
    for entry in [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]:
        requirement = Requirement(entry)
        floors.setdefault(requirement.name.lower().replace("_", "-"), requirement.specifier)
    for path in (ROOT / "metrics" / "est_metric" / "requirements.txt", ROOT / "leaderboard" / "requirements.txt"):
        for raw in path.read_text(encoding="utf-8").splitlines():
            entry = raw.split("#")[0].strip()
            if entry:
                requirement = Requirement(entry)
                name = requirement.name.lower().replace("_", "-")
                assert name in floors and requirement.specifier == floors[name], (path.name, entry)


def test_packages_are_discovered_not_listed():
    """Every package folder reaches the wheel (a hand-written list once left estbench.convert out)."""
    find = _pyproject()["tool"]["setuptools"]["packages"]["find"]
    assert set(_pyproject()["tool"]["setuptools"]["packages"]) == {"find"}  # not a hand-written list
    from setuptools import find_packages

    found = {name for where in find["where"] for name in find_packages(str(ROOT / where), include=find["include"])}
    assert found == {str(path.parent.relative_to(ROOT / where)).replace("/", ".")
                     for where, name in (("", "estbench"), ("leaderboard", "est_leaderboard"),
                                         ("baselines", "est_baselines"))
                     for path in (ROOT / where / name).rglob("__init__.py")}
    for package in ("estbench", "estbench.convert", "estbench.raw", "estbench.dataset", "estbench.simulator",
                    "estbench.testing", "est_leaderboard", "est_baselines"):
        assert package in found


def _code_files(*folders: str) -> list[Path]:
    """Tracked Python files under `folders` (all of the tree when none is given), tests excluded."""
    names = [line.split("\t", 1)[1] for line in _tracked_files()]
    return [ROOT / name for name in names if name.endswith(".py") and not name.startswith("tests/")
            and (not folders or name.startswith(folders))]


def test_no_module_imports_a_private_name_of_another():
    """`from x import _name` across modules couples them through what x keeps to itself (tests may test it)."""
    found = set()
    for path in _code_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")}
    assert found == set()


def test_the_harness_tasks_import_only_estbench_of_the_project():
    """lm-evaluation-harness task utilities import only the benchmark's library (the harness's convention)."""
    project = {"estbench", "est_baselines", "est_leaderboard", "est_dataset"}
    files = _code_files("lm_eval_tasks/")
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                       [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            for module in modules:
                assert module.split(".")[0] not in project - {"estbench"}, f"{path.name} imports {module}"


TREE = {"leaderboard", "baselines", "metrics", "lm_eval_tasks", "bench", "app.py"}  # what sits around estbench


def test_estbench_never_reaches_the_tree_around_it_by_path():
    """No estbench module builds a path above its own package (e.g. to leaderboard/app.py): what sits above the
    library is handed to it. A wheel has no such tree."""
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith(".parents"):
                depth = node.slice.value if isinstance(node.slice, ast.Constant) else None
                assert depth == 0 and path.parent == PACKAGE or depth is not None and depth < len(
                    path.relative_to(PACKAGE).parts) - 1, f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "parent":
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} walks up with .parent.parent")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant) \
                    and str(node.right.value).split("/")[0] in TREE:
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} joins a path to {node.right.value!r}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/" in node.value \
                    and node.value.split("/")[0] in TREE:
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} names the path {node.value!r}")


def test_the_layers_are_stated_once():
    """`estbench.LAYERS` is the statement; the README and the package docstring point to it instead of restating
    an order, and every part it names exists."""
    assert set(LAYER_OF) == {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
                             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "estbench.LAYERS" in readme and "→" not in readme.split("## Where things are")[1].split("##")[0]


def test_no_two_modules_of_a_package_import_each_other():
    """Import cycles, even through imports inside functions (prediction <-> vllm_engine once), mean two modules
    that are really one; every package's modules form a hierarchy."""
    for package in (PACKAGE, ROOT / "leaderboard" / "est_leaderboard", ROOT / "baselines" / "est_baselines"):
        edges: dict[str, set[str]] = {}
        for path in package.rglob("*.py"):
            name = ".".join(path.relative_to(package).with_suffix("").parts)
            here = name.split(".")[:-1]
            targets = edges.setdefault(name, set())
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level:
                    base = here[: len(here) - node.level + 1] if node.level > 1 else here
                    stem = base + (node.module.split(".") if node.module else [])
                    targets.update(".".join(stem + [alias.name]) if not node.module else ".".join(stem)
                                   for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package.name + "."):
                    targets.add(node.module[len(package.name) + 1:])
        known = set(edges)
        for module, targets in edges.items():
            for target in targets & known:
                assert module not in _reachable(edges, target, known), f"{package.name}: {module} <-> {target}"


def _reachable(edges: dict[str, set[str]], start: str, known: set[str]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in edges.get(todo.pop(), set()) & known:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_readme_quotes_the_measured_figures_and_nothing_else():
    """The README's table is what the bench scripts recorded (bench/results/*.json), row for row."""
    from estbench import measured

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files = measured.read_all(ROOT / "bench" / "results")
    assert measured.section(readme) == measured.markdown_table(files)
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "figures.py"), "--check"], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    for bench in files:  # every file names what it measured on, and a figure for the table
        assert bench.rows and bench.command.startswith("python bench/") and bench.machine

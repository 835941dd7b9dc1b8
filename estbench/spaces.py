"""The one assembler of both Hugging Face Spaces (the `evaluate` metric and the leaderboard).

A Space runs from its own folder with nothing else importable, so the assembler copies the Space's own files and
adds what it needs of this package, in one of two forms:

- the leaderboard (a Gradio app that imports `estbench` as a package) gets the estbench modules its code imports,
  and the modules those import, vendored into `<space>/estbench/` byte for byte (`vendored_files`, found by reading
  the imports, so a module that starts importing another never leaves the Space short of it);
- the metric gets the scoring core as ONE module file beside `est_metric.py` (`single_file(METRIC_CORE)`),
  because `evaluate.load` copies only the module file and the files it imports relatively, one level deep: a
  vendored package folder is never seen, on the Hub or anywhere else. The file is generated from estbench's own
  modules at assembly: each module's code verbatim, in import order, minus its docstring and the relative imports
  that joining them makes unnecessary (an aliased one becomes an assignment); two modules defining one name is an
  error, so nothing is silently shadowed.

The result is staged beside `out` and renamed into place; an existing folder is replaced only with
`overwrite=True`. `metrics/deploy.py` and `leaderboard/deploy.py` are its two command lines.
"""

from __future__ import annotations

import ast
import importlib
import shutil
from pathlib import Path
from typing import Mapping, Sequence

from .io import staged_folder

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_FILES = {"paper": ("paper_table4.json",)}  # files a vendored module reads beside itself
# The metric's scoring core, in import order: (module, names to take; None = the whole module).
METRIC_CORE: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("schema", None), ("conventions", None), ("consistency", None), ("slices", None), ("scoring", None),
    ("paper", ("CITATION",)),
)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "data", ".*")


class SpaceExists(FileExistsError):
    """`out` exists and overwrite was not asked for."""


def _statement_lines(node: ast.stmt) -> tuple[int, int]:
    """The 1-based first and last line of a top-level statement, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    return first, node.end_lineno


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _imported(node: ast.Import | ast.ImportFrom) -> dict[str, object]:
    """Bound name -> the object an absolute import binds (a typing alias counts as the class it stands for, so
    `typing.Sequence` and `collections.abc.Sequence` bind the same thing)."""
    bound = {}
    for alias in node.names:
        if isinstance(node, ast.Import):
            value = importlib.import_module(alias.name if alias.asname else alias.name.split(".")[0])
        else:
            value = getattr(importlib.import_module(node.module), alias.name)
        bound[alias.asname or alias.name.split(".")[0]] = getattr(value, "__origin__", value)
    return bound


def _module_part(name: str, only: tuple[str, ...] | None) -> tuple[str, set[str], dict[str, object]]:
    """(code, names it defines, what its absolute imports bind) of one estbench module."""
    path = PACKAGE_DIR / f"{name}.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    kept: list[str] = [f"# --- estbench/{name}.py{'' if only is None else ' (' + ', '.join(only) + ')'} ---"]
    defined: set[str] = set()
    imports: dict[str, object] = {}
    for index, node in enumerate(tree.body):
        first, last = _statement_lines(node)
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring (doctests of the package, not of this file)
        if isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__"):
            if node.level:  # joined into this file: only an alias needs a name of its own
                kept += [f"{alias.asname} = {alias.name}" for alias in node.names if alias.asname]
            continue
        if only is not None and not _defined_names(node) & set(only):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.update(_imported(node))
        defined |= _defined_names(node)
        kept += lines[first - 1:last]
    if only is not None and not set(only) <= defined:
        raise ValueError(f"estbench/{name}.py defines none of {sorted(set(only) - defined)}")
    return "\n".join(kept), defined, imports


def single_file(modules: Sequence[tuple[str, tuple[str, ...] | None]] = METRIC_CORE) -> str:
    """estbench modules joined into one importable module's source (see the module docstring)."""
    parts, owner, imported = [], {}, {}
    for name, only in modules:
        code, defined, imports = _module_part(name, only)
        for symbol in defined:
            if symbol in owner:
                raise ValueError(f"single_file: {symbol!r} is defined by both estbench/{owner[symbol]}.py and "
                                 f"estbench/{name}.py")
            owner[symbol] = name
        for symbol, value in imports.items():
            if imported.setdefault(symbol, value) is not value or symbol in owner:
                raise ValueError(f"single_file: {symbol!r} is bound differently in estbench/{name}.py")
        parts.append(code)
    header = ('"""The EST scoring core as one file, generated from the estbench package by estbench.spaces.single_file '
              f"({', '.join(name for name, _ in modules)}): do not edit; edit estbench and assemble again.\"\"\"\n\n"
              "from __future__ import annotations\n")
    return header + "\n\n" + "\n\n\n".join(parts) + "\n"


def _estbench_imports(tree: ast.AST, inside: bool) -> set[str]:
    """The top-level estbench modules a module imports (`inside`: it is an estbench module itself)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and inside:
            found |= {alias.name for alias in node.names} if node.module is None else {node.module.split(".")[0]}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "estbench":
            parts = node.module.split(".")
            found |= {alias.name for alias in node.names} if len(parts) == 1 else {parts[1]}
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("estbench.")}
    return found


def vendored_files(sources: Sequence[str | Path]) -> list[str]:
    """The estbench files a Space whose Python files are `sources` needs: the modules they import and, in turn,
    everything those import, with `__init__.py` and the data files they read (`DATA_FILES`)."""
    todo = set()
    for path in sources:
        todo |= _estbench_imports(ast.parse(Path(path).read_text(encoding="utf-8")), inside=False)
    modules: set[str] = set()
    while todo:
        name = todo.pop()
        if name in modules:
            continue
        path = PACKAGE_DIR / f"{name}.py"
        if not path.is_file():
            raise ValueError(f"a Space imports estbench.{name}, which is not a single module (not vendored)")
        modules.add(name)
        todo |= _estbench_imports(ast.parse(path.read_text(encoding="utf-8")), inside=True) - modules
    return ["__init__.py", *sorted(f"{m}.py" for m in modules), *(f for m in sorted(modules)
                                                                  for f in DATA_FILES.get(m, ()))]


def assemble(source: str | Path, files: Sequence[str], out: str | Path, *, overwrite: bool = False,
             vendor: bool = True, generated: Mapping[str, str] | None = None) -> Path:
    """Copy `files` (file or folder names inside `source`) to the Space folder `out`, then write `generated`
    (file name -> text) and, with `vendor`, the vendored estbench package core."""
    source, out = Path(source).resolve(), Path(out).resolve()
    if out.exists() and not overwrite:
        raise SpaceExists(f"{out.name} exists already; pass --overwrite to replace it")
    missing = [name for name in files if not (source / name).exists()]
    if missing:
        raise FileNotFoundError(f"the Space source lacks {', '.join(missing)}")
    with staged_folder(out) as staged:
        for name in files:
            if (source / name).is_dir():
                shutil.copytree(source / name, staged / name, ignore=_IGNORE)
            else:
                shutil.copyfile(source / name, staged / name)
        for name, text in (generated or {}).items():
            (staged / name).write_text(text, encoding="utf-8")
        if vendor:
            (staged / "estbench").mkdir()
            for name in vendored_files(sorted(staged.rglob("*.py"))):
                shutil.copyfile(PACKAGE_DIR / name, staged / "estbench" / name)
        for path in staged.rglob("*"):  # ordinary permissions whatever the umask of the checkout
            path.chmod(0o755 if path.is_dir() else 0o644)
    return out


def upload(folder: Path, repo_id: str) -> str:
    """Create (if needed) the Gradio Space `repo_id` and upload `folder` to it. Needs network and a write token."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True)
    return str(api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="space"))

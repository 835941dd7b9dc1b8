"""The one command-line convention of every EST entry point (est_dataset.py, baselines/*.py, metrics/deploy.py,
leaderboard/*.py, bench/*.py), and the generator of options declared as dataclass fields (the TRL pattern).

- Flags are spelled `--snake_case`, as the dataclass fields, the recipe YAML keys and TRL / transformers spell them;
  the `--kebab-case` spelling of every flag is accepted too (`option_names`), so older commands keep working.
- A boolean option is `--flag` / `--flag true|false` / `--no_flag`, as `transformers.HfArgumentParser` reads it.
- Counts are checked when the command line is read, before any work (`positive_int`, `non_negative_int`).
- A bad value is a usage error: argparse's one line and exit status 2, never a traceback. A data error found later
  (a missing folder, a malformed file) is one line `error: ...` and exit status 1 (`fail`).

`add_dataclass_arguments(parser, Options)` adds a flag per field of a dataclass (help, choices and aliases from the
field's metadata, the default from the field), and `dataclass_values(args, Options)` reads them back, so a set of
options is declared once.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import NoReturn

TRUE_WORDS = ("yes", "true", "t", "y", "1")
FALSE_WORDS = ("no", "false", "f", "n", "0")


def option_names(name: str) -> list[str]:
    """The accepted spellings of the flag of `name`: `--snake_case` first, then `--kebab-case`.

    >>> option_names("est_dir")
    ['--est_dir', '--est-dir']
    """
    names = [f"--{name}"]
    if "_" in name:
        names.append(f"--{name.replace('_', '-')}")
    return names


def add_option(parser, name: str, *aliases: str, **kwargs) -> argparse.Action:
    """`parser.add_argument` under both spellings of `name` (plus older `aliases`); the destination is `name`."""
    return parser.add_argument(*option_names(name), *aliases, dest=name, **kwargs)


def _count(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} must be {'positive' if least == 1 else 'at least ' + str(least)}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _count(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _count(text, 0)


def boolean(text: str | bool) -> bool:
    """An argparse type: yes/true/1 or no/false/0 (any case), as HfArgumentParser reads them."""
    if isinstance(text, bool):
        return text
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean (use true or false)")


def fail(message: str) -> NoReturn:
    """End the command on a data error: one line on stderr, exit status 1."""
    raise SystemExit(f"error: {message}")


def _plain_type(annotation) -> type:
    """`int` of `int | None`, else the annotation itself."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def add_dataclass_arguments(parser, cls, *, optional: bool = False, help_prefix: str = "",
                            exclude: tuple[str, ...] = ()) -> None:
    """A flag per field of the dataclass `cls`, by this module's convention.

    The field's metadata gives `help`, `choices` and `aliases` (older spellings); `int` fields take `positive_int`
    unless their metadata says `"minimum": 0` (a key HfArgumentParser does not know: keep it out of dataclasses that
    TRL parses). With `optional`, every default is None (a flag not given overrides
    nothing: see `dataclass_values`)."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in exclude or not field.init:
            continue
        kind = _plain_type(hints[field.name])
        default = None if optional else (field.default if field.default is not dataclasses.MISSING else
                                         field.default_factory() if field.default_factory is not dataclasses.MISSING
                                         else None)
        required = (not optional and field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING)
        shown = "" if optional or default in (None, "", ()) else " (default: %(default)s)"
        kwargs = dict(help=help_prefix + field.metadata.get("help", "") + shown, default=default)
        if required:
            kwargs["required"] = True
        if field.metadata.get("choices"):
            kwargs["choices"] = list(field.metadata["choices"])
        if field.metadata.get("metavar"):
            kwargs["metavar"] = field.metadata["metavar"]
        aliases = tuple(field.metadata.get("aliases", ()))
        if kind is bool:
            add_option(parser, field.name, *aliases, type=boolean, nargs="?", const=True, metavar="{true,false}",
                       **kwargs)
            parser.add_argument(*dict.fromkeys([f"--no_{field.name}", f"--no-{field.name.replace('_', '-')}"]),
                                dest=field.name, action="store_false", help=argparse.SUPPRESS)
        elif kind is int:
            minimum = field.metadata.get("minimum", 1)
            add_option(parser, field.name, *aliases, type=positive_int if minimum == 1 else non_negative_int,
                       **kwargs)
        else:
            add_option(parser, field.name, *aliases, type=kind if kind in (str, float) else str, **kwargs)


def dataclass_values(args: argparse.Namespace, cls, *, given_only: bool = True) -> dict:
    """The values of `cls`'s fields in parsed `args` (with `given_only`, those not None)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return {k: v for k, v in values.items() if v is not None} if given_only else values


def parse_dataclass(parser: argparse.ArgumentParser, cls, args: argparse.Namespace, **extra):
    """`cls` built from the parsed flags (and `extra`); a value its own checks refuse is a usage error."""
    try:
        return cls(**dataclass_values(args, cls), **extra)
    except (TypeError, ValueError) as error:
        parser.error(str(error))

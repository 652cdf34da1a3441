"""`fcn` command line: one module per subcommand, each with ``register(subparsers)``.

Each subcommand module defines ``register(sub: argparse._SubParsersAction) -> None`` which adds its
parser and sets ``func=run`` where ``run(args) -> int`` returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Subcommand modules, in the order `fcn --help` lists them. A module that is missing is skipped so the
# CLI keeps working while parts are developed; a module that fails to import for another reason raises.
SUBCOMMANDS = ("predict", "evaluate", "regions", "train", "export", "info", "demo_data", "bench", "convert")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fcn",
        description="Fully Convolutional Networks (FCN-32s/16s/8s): predict, evaluate, train, export.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"fcn_core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"fcn_core.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`, which closed early: not an error of ours, no traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 141


if __name__ == "__main__":
    sys.exit(main())

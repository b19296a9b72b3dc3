"""The ``edge-ser`` command line: argument parsing and printing only.

Each sub-command lives in its own module of this package and defines ``HELP`` (one line),
``configure(parser)`` and ``run(args) -> int``. Command modules import heavy libraries
inside ``run`` so that ``--help`` starts fast. User errors (``EdgeSerError``) become
``error: <message>`` on stderr and exit code 2. Other libraries' messages are hidden unless
``--verbose`` is given (``edge_ser.quiet``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import edge_ser
from edge_ser import quiet
from edge_ser.errors import CheckFailed, EdgeSerError

# The reference preprocessor's one matrix product is small: a multi-threaded BLAS only adds
# contention (about 10x slower on a loaded 2-core machine). Set before NumPy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

COMMANDS: tuple[str, ...] = (
    "data",
    "train",
    "ensemble",
    "evaluate",
    "cv",
    "export",
    "verify",
    "predict",
    "bench",
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class _VersionAction(argparse.Action):
    """``--version``, looking the version up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        print(f"edge-ser {edge_ser.__version__}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error of the command line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command attached."""
    parser = _Parser(
        prog="edge-ser",
        description="Train, export and verify compact on-device speech emotion recognition models.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"edge_ser.cli.{name}")
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        sub.add_argument(
            "--verbose",
            action="store_true",
            help=f"also show other libraries' log lines, warnings and progress bars "
            f"(or set {quiet.VERBOSE_ENV_VAR}=1)",
        )
        sub.set_defaults(_run=module.run)
    return parser


def fail(message: str, exit_code: int = EXIT_BAD_INPUT) -> int:
    """Print a one-line error and return ``exit_code``."""
    print(f"error: {message}", file=sys.stderr)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-ser`` console script."""
    args = build_parser().parse_args(argv)
    try:
        with quiet.third_party_quieted(args.verbose or quiet.verbose_from_env()):
            return int(args._run(args) or EXIT_OK)
    except EdgeSerError as exc:
        if isinstance(exc, CheckFailed) and exc.report:  # where the check failed, then why
            print(exc.report, file=sys.stderr)
        return fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED

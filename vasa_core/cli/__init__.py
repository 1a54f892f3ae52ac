"""The `vasa` command (also `python -m vasa_core`): the parser of every verb, and `main`.

Each verb is a pair of small functions over the package's public API, one that adds its
subparser and one that runs it, grouped by theme:

- `make`: generate, render, reenact (the verbs that write a talking-face video);
- `inspect`: analyze, schema, features, eval, bench, doctor (the verbs that look and report);
- `data`: tts, corpus, ingest, train (speech and training data);
- `common`: what they share (portraits, output options, `--device`, ranged options).

A user's mistake is one line on stderr and exit status 1 (2 for a malformed command line),
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings

from vasa_core.cli import data, inspect, make
from vasa_core.errors import VasaError

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C
EXIT_TERMINATED = 143  # ... and for one stopped by SIGTERM (kill, a timeout, a scheduler)

# In the order `vasa --help` lists them.
ADD_VERBS = (
    inspect.add_analyze,
    make.add_render,
    make.add_generate,
    make.add_reenact,
    inspect.add_bench,
    data.add_tts,
    inspect.add_features,
    data.add_corpus,
    data.add_ingest,
    data.add_train,
    inspect.add_eval,
    inspect.add_schema,
    inspect.add_doctor,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vasa", description="vasa-kit: audio-driven talking faces, to learn and demo."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for add_verb in ADD_VERBS:
        add_verb(verbs)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line for a user, not the file and line it came from."""
    print(f"vasa: warning: {message}", file=sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as from Ctrl-C: every
    `finally` runs, and partial outputs and temporary folders are removed."""


def _terminate(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup short
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main_thread else None
    try:
        args.run(args)
    except VasaError as error:
        print(f"vasa: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Terminated:
        print("vasa: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("vasa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away, e.g. `vasa tts --list-voices | head`
        # Point stdout at /dev/null, so that flushing it on exit raises nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if previous is not None:  # main(argv) called in-process leaves no trace
            signal.signal(signal.SIGTERM, previous)
    return 0

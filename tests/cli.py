"""The ``helpdesk`` command run in the test's own process, as a subprocess would run it.

Starting ``python -m helpdesk`` costs about 1.5 s of CPU, most of it importing; hundreds
of such starts were most of the suite's time. ``helpdesk()`` runs the same click group with
the same arguments, environment, working directory and standard input, and answers what
``subprocess.run`` answers (exit code, stdout, stderr), an uncaught exception's traceback
included on stderr as the interpreter would print it. A few tests still start the real
program (tests/integration/test_cli.py: the console script, ``python -m helpdesk``, and
one-line errors on the real stderr)."""

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from click.testing import CliRunner

from helpdesk.cli import main

__all__ = ["helpdesk"]


class _Stderr(logging.Handler):
    """What ``logging.basicConfig`` in ``main`` does in a fresh process (here pytest has
    configured logging already, so it does nothing): warnings go to stderr, where a test
    that expects one line on stderr sees them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")  # the runner's stderr at the time


@contextlib.contextmanager
def _logging_to_stderr() -> Iterator[None]:
    handler = _Stderr()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def helpdesk(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``helpdesk ARGS`` in ``cwd`` with exactly the environment ``env``."""
    # Variables of this process that the subprocess would not have had are unset.
    changes: dict[str, str | None] = {key: None for key in os.environ if key not in env}
    changes.update(env)

    def invoke() -> subprocess.CompletedProcess[str]:
        with contextlib.chdir(cwd), _logging_to_stderr():
            result = CliRunner().invoke(
                main, list(args), input=stdin, env=changes, prog_name="helpdesk"
            )
        stderr = result.stderr
        failed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if failed and result.exc_info is not None:
            stderr += "".join(traceback.format_exception(*result.exc_info))
        return subprocess.CompletedProcess(
            ["helpdesk", *args], result.exit_code, result.stdout, stderr
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_async_test = False
    else:
        in_async_test = True
    if not in_async_test:
        return invoke()
    # The command runs an event loop of its own, which needs a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(invoke).result()

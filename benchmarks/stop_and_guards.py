"""How fast Stop ends a request, and what the output guards cost.

Against the project's fake OpenAI-compatible server on 127.0.0.1, printed:

* Stop latency: from the cancel flag to ``stream_chat`` returning, and to the server
  seeing the connection close, in three states: the server still silent before its
  headers, headers sent but no token yet (a local model reading a long prompt), and
  mid-stream;
* the guards' cost: ``check_output`` and ``strip_prompt_markup`` on a 4,000-character draft;
* the prompt estimate: ``estimate_tokens`` on a full draft prompt.

    .venv/bin/python benchmarks/stop_and_guards.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

from agent_assist.assist import guards  # noqa: E402
from agent_assist.assist.context import estimate_tokens  # noqa: E402
from agent_assist.assist.provider import Provider, ProviderConfig, ProviderError  # noqa: E402
from tests.assist.openai_server import OpenAIStubServer  # noqa: E402

MESSAGES = [{"role": "user", "content": "Hello"}]


def stop_latency(server: OpenAIStubServer, script: dict, runs: int, *, after_tokens: int = 0) -> tuple[float, float]:
    returned, closed = [], []
    config = ProviderConfig.for_preset("llamacpp", base_url=server.base_url, model="m", timeout_s=120)
    with Provider(config) as provider:
        for _ in range(runs):
            server.script(**script)
            server.client_gone.clear()
            flag = threading.Event()
            got: list[str] = []
            done = threading.Event()

            def run() -> None:
                try:
                    for delta in provider.stream_chat(MESSAGES, cancel=flag.is_set):
                        got.append(delta)
                except ProviderError:
                    pass
                done.set()

            before = len(server.chat_requests)
            threading.Thread(target=run, daemon=True).start()
            while len(server.chat_requests) == before or len(got) < after_tokens:
                time.sleep(0.002)
            time.sleep(0.05)
            t0 = time.perf_counter()
            flag.set()
            done.wait(30)
            returned.append(time.perf_counter() - t0)
            server.client_gone.wait(30)
            closed.append(time.perf_counter() - t0)
    return statistics.median(returned), statistics.median(closed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with OpenAIStubServer() as server:
        for label, script, tokens in (("before headers", {"hang": True}, 0),
                                      ("headers, no token yet", {"first_token_delay": 60}, 0),
                                      ("mid-stream", {"reply": "word " * 2000, "token_delay": 0.01}, 5)):
            back, gone = stop_latency(server, script, args.runs, after_tokens=tokens)
            print(f"Stop {label:>22}: stream_chat returns in {back * 1000:6.1f} ms, "
                  f"server sees the close in {gone * 1000:6.1f} ms (median of {args.runs})")
    draft = ("<customer_thread>\n" + "Hi Tom, the late fee is removed [KB-1]. " * 100 +
             "\n</customer_thread>\n[customer, 2024-05-02 09:05]\nThanks")
    t0 = time.perf_counter()
    for _ in range(200):
        guards.check_output(draft, mapping={"[CARD_1]": "4111 1111 1111 1111"}, offered=[1, 2, 3])
    print(f"check_output on a {len(draft):,}-character draft: {(time.perf_counter() - t0) / 200 * 1000:.2f} ms")
    prompt = "A customer wrote about a late fee and a refund. " * 300
    t0 = time.perf_counter()
    for _ in range(200):
        estimate_tokens(prompt)
    print(f"estimate_tokens on a {len(prompt):,}-character prompt: {(time.perf_counter() - t0) / 200 * 1000:.2f} ms "
          f"(estimate {estimate_tokens(prompt):,} tokens)")


if __name__ == "__main__":
    main()

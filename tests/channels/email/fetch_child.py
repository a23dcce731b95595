"""A desk fetching a team mailbox in its own process, so a test can kill it for real (SIGKILL).

    python -m tests.channels.email.fetch_child '{"db": <team URL>, "mailbox": {...}, "password": ...,
                                                 "desk": "...", "ttl": 4, "renew": 0.5}'

Prints each watch event's kind on its own line (``fetching`` once it holds the mailbox).
"""

from __future__ import annotations

import json
import sys
import threading

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.fetcher import watch_as_one_desk
from tests.channels.email.conftest import open_target


def main() -> int:
    args = json.loads(sys.argv[1])
    store = open_target(args["db"])
    stop = threading.Event()
    watch_as_one_desk(store, MailboxConfig.from_dict(args["mailbox"]), args["password"], desk=args["desk"],
                      stop=stop, on_event=lambda e: print(e.kind, flush=True),
                      lease_ttl_s=args["ttl"], renew_s=args["renew"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

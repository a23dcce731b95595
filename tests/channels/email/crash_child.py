"""A deliverer in its own process: one that dies for real (SIGKILL, no clean-up) at a chosen stage of
sending, or one of several that start together.

    python -m tests.channels.email.crash_child '{"db": <file or team URL>, "mailbox": {...}, "password": ...,
                                                 "smtp_password": ..., "die_at": "accepted", "nth": 1,
                                                 "barrier": false}'

``die_at`` (optional): the stage to die at, its ``nth`` occurrence (default the first). ``barrier``: open the
store, print ``ready``, and deliver only once a line arrives on stdin (so several senders start at once).
``limit``: rows per run (the default of :func:`deliver_pending` otherwise).
Prints the delivery report's sent ids as JSON. Exit code 0 means it never reached the stage; a kill shows as
-9 to the parent.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.smtp_send import deliver_pending
from tests.channels.email.conftest import open_target


def main() -> int:
    args = json.loads(sys.argv[1])
    store = open_target(args["db"])  # a database file, or a team database URL (signed in as its person)
    mailbox = MailboxConfig.from_dict(args["mailbox"])
    left = [int(args.get("nth", 1))]

    def on_stage(stage: str, _outbox_id: int) -> None:
        if stage == args.get("die_at"):
            left[0] -= 1
            if left[0] == 0:
                os.kill(os.getpid(), signal.SIGKILL)

    if args.get("barrier"):
        print("ready", flush=True)
        sys.stdin.readline()
    report = deliver_pending(store, mailbox, args["password"], smtp_password=args["smtp_password"],
                             on_stage=on_stage, **({"limit": args["limit"]} if "limit" in args else {}))
    store.close()
    print(json.dumps({"sent": report.sent, "recovered": report.recovered, "busy": report.busy}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

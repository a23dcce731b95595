"""A deliverer that dies for real (SIGKILL, no clean-up) at a chosen stage of sending.

    python -m tests.channels.email.crash_child '{"db": ..., "mailbox": {...}, "password": ...,
                                                 "smtp_password": ..., "die_at": "accepted"}'

Exit code 0 means it never reached the stage; a kill shows as -9 to the parent.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from agent_assist.channels.email.config import MailboxConfig
from agent_assist.channels.email.smtp_send import deliver_pending
from tests.channels.email.conftest import email_store


def main() -> int:
    args = json.loads(sys.argv[1])
    store = email_store(args["db"])
    mailbox = MailboxConfig.from_dict(args["mailbox"])

    def on_stage(stage: str, _outbox_id: int) -> None:
        if stage == args["die_at"]:
            os.kill(os.getpid(), signal.SIGKILL)

    deliver_pending(store, mailbox, args["password"], smtp_password=args["smtp_password"], on_stage=on_stage)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

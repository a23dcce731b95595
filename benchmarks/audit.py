"""The audit trail's cost: appending rows unsigned vs signed (HMAC under a keyring key), and verifying.

Printed: microseconds per appended row (each in its own write transaction, as state changes
are), the time ``audit verify`` takes for the whole trail, and what opening a ticket writes
(nothing: data version, change counter and audit rows before and after).

    .venv/bin/python benchmarks/audit.py [--rows 20000]
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a queue.py: keep it off the import path so the standard library's queue wins
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def _run(folder: Path, rows: int, keyed: bool) -> tuple[float, float, int | None]:
    import keyring.core

    from agent_assist.store import Store, audit, audit_key

    if keyed:  # a file keyring chosen explicitly, in a temp folder
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
        os.environ["XDG_DATA_HOME"] = str(folder / "keyring")
    else:
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    keyring.core._keyring_backend = None
    audit_key.forget()
    with Store(folder / f"audit-{'keyed' if keyed else 'plain'}.db") as store:
        times = []
        for n in range(rows):
            t0 = time.perf_counter()
            with store.transaction() as db:
                audit.record(db, actor="alex", action="kb.viewed", ticket_id=n % 500 + 1, article=n % 97,
                             terms=["refund", "återbetalning"])
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = audit.verify(store.db)
        verify_s = time.perf_counter() - t0
        assert result.ok, result.problems
        return statistics.median(times) * 1e6, verify_s, result.keyed_from


def _opening_writes(folder: Path) -> tuple[tuple, tuple]:
    from agent_assist.assist import workspace
    from agent_assist.channels import demo
    from agent_assist.store import Store
    from agent_assist.store.bulk import import_dataset

    with Store(folder / "open.db") as store:
        import_dataset(store, demo.generate(seed=3, tickets=60), label="bench")

        def changes() -> tuple:
            return (store.data_version(), store.db.conn.total_changes,
                    store.db.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])

        before = changes()
        for tid in range(1, 61):
            workspace.open_ticket(store, tid, agent="alex")
        return before, changes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for keyed in (False, True):
            per_row, verify_s, keyed_from = _run(folder, args.rows, keyed)
            label = "signed (HMAC-SHA256)" if keyed else "unsigned (SHA-256)"
            print(f"{label:22s} append p50 {per_row:7.1f} µs/row · verify {args.rows:,} rows "
                  f"{verify_s * 1000:7.1f} ms · keyed from {keyed_from}")
        before, after = _opening_writes(folder)
        print(f"opening 60 tickets: (data_version, total_changes, audit rows) {before} -> {after}"
              f"{' — nothing written' if before == after else ' — WROTE'}")


if __name__ == "__main__":
    main()

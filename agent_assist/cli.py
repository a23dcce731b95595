"""The ``agent-assist`` command: start the app, or run headless commands.

    agent-assist [--db PATH] [--user NAME]          start the desktop app
    agent-assist --demo                            start it on the demo database (created if needed)
    agent-assist demo [--force] [--seed N]         create a fresh demo database
    agent-assist demo --arrivals N [--interval S]  trickle N new tickets into an existing database
    agent-assist kb search "query" [--locale xx]   search the knowledge base
    agent-assist audit verify                      check the audit trail's hash chain
    agent-assist model-check [--set FILE] [--out DIR]  try the configured model on a labelled set of tickets
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from agent_assist import __version__, config
from agent_assist.store import Store, StoreError

DEMO_DB_NAME = "demo.db"


def _demo_db_path(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db).expanduser()
    return config.data_dir() / DEMO_DB_NAME


def _db_path(args: argparse.Namespace) -> Path:
    return config.resolve_db_path(args.db)


def create_demo_database(path: Path, *, seed: int = 7, tickets: int = 360, force: bool = False) -> dict[str, int]:
    """Write a fresh demo database at ``path``. Refuses to replace a file unless ``force``."""
    from agent_assist.channels import demo
    from agent_assist.store.bulk import import_dataset

    if path.exists() and path.stat().st_size > 0:
        if not force:
            raise StoreError(f"{path} already exists; pass --force to replace it with fresh demo data.")
        with Store(path):  # refuse (with a clear error) to delete anything that is not ours
            pass
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    from agent_assist.assist.escalation import retriage_many
    from agent_assist.store import people, quality
    from agent_assist.store.bulk import import_draft_history

    with Store(path) as store:
        counts = import_dataset(store, demo.generate(seed=seed, tickets=tickets), label="demo data")
        for name in demo.AGENTS:
            people.save_profile(store, name, "supervisor" if name == demo.SUPERVISOR else "agent")
        retriage_many(store)
        replies = [dict(zip(("ticket_id", "message_id", "author", "body", "created_at"), r)) for r in store.db.conn.execute(
            "SELECT ticket_id, id, author, body_text, created_at FROM messages WHERE direction = 'outbound' ORDER BY id")]
        import_draft_history(store, demo.draft_history(replies, seed=seed))
        quality.update_cache(store)
        return counts


def ensure_demo_database(path: Path) -> None:
    """Create the demo database when it does not exist yet (or is empty)."""
    if not path.exists() or path.stat().st_size == 0:
        create_demo_database(path)


def _cmd_demo(args: argparse.Namespace) -> int:
    path = _demo_db_path(args)
    if args.arrivals:
        return _arrivals(path, args.arrivals, args.interval, args.seed)
    counts = create_demo_database(path, seed=args.seed, tickets=args.tickets, force=args.force)
    print(f"Demo database written to {path}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _arrivals(path: Path, count: int, interval: float, seed: int | None) -> int:
    from agent_assist.assist.escalation import retriage
    from agent_assist.channels import demo
    from agent_assist.store import tickets

    if not path.exists():
        raise StoreError(f"{path} does not exist; create it first with `agent-assist demo`.")
    rng = random.Random(seed)
    with Store(path) as store:
        for i in range(count):
            t = demo.new_arrival(rng)
            first = t["messages"][0]
            tid = tickets.create_ticket(
                store, actor="demo-channel", customer_name=t["customer"]["name"],
                customer_email=t["customer"]["email"], subject=t["subject"], body_text=first["body_text"],
                body_html=first.get("body_html"), language=t["language"], priority=t["priority"],
                channel=t["channel"], tags=t.get("tags", ()), topic=t.get("topic"),
            )
            retriage(store, tid, actor="demo-channel")
            print(f"#{tid} [{t['priority']}] {t['subject']}", flush=True)
            if i + 1 < count:
                time.sleep(interval)
    return 0


def _cmd_kb_search(args: argparse.Namespace) -> int:
    from agent_assist.knowledge.search import search

    with Store(_db_path(args)) as store:
        hits = search(store.db, args.query, locale=args.locale, section=args.section, limit=args.limit)
    if not hits:
        print("No articles match.")
        return 1
    color = sys.stdout.isatty()
    for h in hits:
        meta = " · ".join(x for x in (h.section, h.locale) if x)
        print(f"{h.citation} {h.title}" + (f"  ({meta})" if meta else ""))
        print("    " + (h.snippet_terminal() if color else h.snippet_terminal("", "")).replace("\n", " "))
    return 0


def _cmd_kb_import(args: argparse.Namespace) -> int:
    from agent_assist.knowledge.importers import ImportCancelled
    from agent_assist.knowledge.sync import import_sources

    last = [0.0]

    def progress(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if sys.stderr.isatty() and (now - last[0] > 0.1 or done == total):
            last[0] = now
            print(f"\r{what}: {done:,}/{total:,}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    with Store(_db_path(args)) as store:
        try:
            report = import_sources(store, args.paths, actor=config.current_user(args.user), progress=progress)
        except ImportCancelled:
            print("Import cancelled; the knowledge base is as it was.", file=sys.stderr)
            return 130
    lines = report.lines()
    if args.verbose or len(lines) <= 21:
        print("\n".join(lines))
    else:
        print("\n".join(lines[:21]))
        print(f"… {len(lines) - 21} more lines: run with -v to see them all")
    return 0


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from agent_assist.store import audit

    with Store(_db_path(args)) as store:
        result = audit.verify(store.db)
    if result.ok:
        print(f"Audit trail intact: {result.rows} rows.")
        return 0
    print(f"Audit trail broken at row {result.first_broken_id}: {result.reason}.")
    return 3


def _cmd_run(args: argparse.Namespace) -> int:
    if args.demo:
        path = _demo_db_path(args)
        ensure_demo_database(path)
        default_user = "alex"
    else:
        path = _db_path(args)
        default_user = config.current_user()
    user = args.user or os.environ.get(config.USER_ENV) or None
    from agent_assist.app import run  # Qt is only imported when a window is wanted

    return run(path, user=user, default_user=default_user, qt_args=[sys.argv[0], *args.qt_args],
               quit_after_ms=args.quit_after)


def _model_check_provider(args: argparse.Namespace):
    from dataclasses import replace

    from agent_assist.assist import secrets
    from agent_assist.assist.provider import Provider, ProviderConfig
    from agent_assist.settings import Settings

    config_ = ProviderConfig.from_dict(Settings().get("ai.provider"))
    if args.preset:
        config_ = ProviderConfig.for_preset(args.preset, model=config_.model)
    changes = {k: v for k, v in (("base_url", args.base_url), ("model", args.model), ("profile", args.profile),
                                 ("context_window", args.context_window), ("timeout_s", args.timeout)) if v}
    if args.redact is not None:
        changes["redact"] = args.redact
    config_ = replace(config_, **changes)
    return Provider(config_, secrets.get_api_key(config_))


def _cmd_model_check(args: argparse.Namespace) -> int:
    from agent_assist import model_check
    from agent_assist.assist.provider import ProviderError

    try:
        data = model_check.load_set(Path(args.set)) if args.set else model_check.demo_set()
    except ValueError as err:
        print(f"agent-assist: {err}", file=sys.stderr)
        return 2

    def progress(done: int, total: int, what: str) -> None:
        print(f"[{done}/{total}] {what}", file=sys.stderr, flush=True)

    try:
        with _model_check_provider(args) as provider:
            report = model_check.run_check(provider, data, limit=args.limit, progress=progress)
    except ProviderError as err:
        print(f"agent-assist: {err}", file=sys.stderr)
        return 2
    out = Path(args.out).expanduser() if args.out else config.data_dir() / "model-checks"
    md, csv_path = report.write(out, args.name)
    print(report.to_markdown(), end="")
    print(f"\nReport written to {md} and {csv_path}.")
    if not report.passed:
        print("The model leaked payment data, obeyed an injected instruction or failed on some tickets: "
              "do not switch the team to it as it is.", file=sys.stderr)
        return 1
    return 0


def _cmd_diagnostics(args: argparse.Namespace) -> int:
    from agent_assist import logs

    print(logs.diagnostics(_db_path(args)), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-assist", description="Live queue, knowledge and AI drafts that a person approves.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", help=f"the database file (default: ${config.DB_ENV} or the data folder)")
    parser.add_argument("--demo", action="store_true", help="start on the demo database, creating it if needed")
    parser.add_argument("--user", help=f"who you are (default: ${config.USER_ENV} or your login name)")
    parser.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)  # close the window after MS
    parser.set_defaults(func=_cmd_run, qt_args=[])
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="create demo data, or trickle in new tickets")
    demo.add_argument("--db", default=argparse.SUPPRESS, help="where to write (default: demo.db in the data folder)")
    demo.add_argument("--force", action="store_true", help="replace an existing file")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--tickets", type=int, default=360)
    demo.add_argument("--arrivals", type=int, default=0, metavar="N", help="add N new tickets to an existing database")
    demo.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between arrivals")
    demo.set_defaults(func=_cmd_demo)

    kb = sub.add_parser("kb", help="knowledge base commands").add_subparsers(dest="kb_command", required=True)
    kb_search = kb.add_parser("search", help="search the knowledge base")
    kb_search.add_argument("query")
    kb_search.add_argument("--locale")
    kb_search.add_argument("--section")
    kb_search.add_argument("--limit", type=int, default=10)
    kb_search.add_argument("--db", default=argparse.SUPPRESS, help="the database file")
    kb_search.set_defaults(func=_cmd_kb_search)

    kb_import = kb.add_parser("import", help="import or re-import Markdown/HTML/text folders, CSV or JSON exports")
    kb_import.add_argument("paths", nargs="+", metavar="PATH")
    kb_import.add_argument("-v", "--verbose", action="store_true", help="list every added, changed, removed "
                                                                         "and skipped article")
    kb_import.add_argument("--db", default=argparse.SUPPRESS, help="the database file")
    kb_import.set_defaults(func=_cmd_kb_import)

    aud = sub.add_parser("audit", help="audit trail commands").add_subparsers(dest="audit_command", required=True)
    verify = aud.add_parser("verify", help="check the hash chain")
    verify.add_argument("--db", default=argparse.SUPPRESS, help="the database file")
    verify.set_defaults(func=_cmd_audit_verify)

    check = sub.add_parser("model-check", help="try the configured model on a labelled set of tickets and write "
                                               "a Markdown/CSV report")
    check.add_argument("--set", metavar="FILE", help="a JSON ticket set (default: the demo set)")
    check.add_argument("--limit", type=int, help="check only the first N tickets")
    check.add_argument("--out", metavar="DIR", help="where the report goes (default: model-checks in the data folder)")
    check.add_argument("--name", help="the report's file name without extension")
    check.add_argument("--preset", help="override the configured provider preset (ollama, llamacpp, openai, …)")
    check.add_argument("--base-url", help="override the configured base URL")
    check.add_argument("--model", help="override the configured model")
    check.add_argument("--profile", choices=("standard", "small"), help="the prompt profile")
    check.add_argument("--context-window", type=int, help="the model's context in tokens (default: ask the server)")
    check.add_argument("--timeout", type=float, help="first-token timeout in seconds")
    check.add_argument("--redact", action=argparse.BooleanOptionalAction, default=None,
                       help="redact personal data before sending (default: the setting)")
    check.set_defaults(func=_cmd_model_check)

    diag = sub.add_parser("diagnostics", help="print versions, paths and database facts for a bug report")
    diag.add_argument("--db", default=argparse.SUPPRESS, help="the database file")
    diag.set_defaults(func=_cmd_diagnostics)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.func is not _cmd_run:
        parser.error("unrecognized arguments: " + " ".join(unknown))
    args.qt_args = unknown  # e.g. -platform offscreen, passed on to Qt
    try:
        return args.func(args)
    except StoreError as exc:
        print(f"agent-assist: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

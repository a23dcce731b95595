"""The ``agent-assist`` command: start the app, or run headless commands.

    agent-assist [--db PATH] [--user NAME]          start the desktop app
    agent-assist --demo                            start it on the demo database (created if needed)
    agent-assist demo [--force] [--seed N]         create a fresh demo database
    agent-assist demo --arrivals N [--interval S]  trickle N new tickets into an existing database
    agent-assist kb search "query" [--locale xx]   search the knowledge base
    agent-assist audit verify [--head FILE]        check the audit trail's chain, triggers and replies
    agent-assist audit export-head [--out FILE]    the trail's newest row id and MAC, to keep elsewhere
    agent-assist team init URL --supervisor NAME   set up a team database on PostgreSQL
    agent-assist team add-person NAME --role ROLE  give a person their own login there
    agent-assist team import-sqlite FILE           move a desk's data and audit trail there
    agent-assist model-check [--set FILE] [--out DIR]  try the configured model on a labelled set of tickets

Which database: ``--db``, else ``$AGENT_ASSIST_DB``, else the one last opened (by the
app or ``demo``), else the default (config.choose_db, shared with the app). Commands
that only read never create a database, and a ``--db`` in a folder that does not
exist is refused rather than created.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

from agent_assist.store.backend import is_team_url
from agent_assist import __version__, config
from agent_assist.store import Store, StoreError
from agent_assist.store.database import in_use_elsewhere, translate_error

DEMO_DB_NAME = "demo.db"


def _demo_db_path(args: argparse.Namespace) -> Path:
    if args.db:
        return _checked_folder(Path(args.db).expanduser())
    return config.data_dir() / DEMO_DB_NAME


def _checked_folder(path: Path) -> Path:
    """A path the person named: its folder must exist (a typo must not become a new, empty database)."""
    if not path.parent.is_dir():
        raise StoreError(f"The folder {path.parent} does not exist, so {path.name} was not created there; "
                         "create the folder first, or check the path.")
    return path


def _choice(args: argparse.Namespace) -> config.DbChoice:
    choice = config.choose_db(args.db)
    if choice.explicit:
        _checked_folder(choice.path)
    return choice


def _db_path(args: argparse.Namespace) -> Path:
    return _choice(args).path


def _open_existing(args: argparse.Namespace) -> Store:
    """The store for a command that only reads: a missing file is an error, never a new database."""
    choice = _choice(args)
    if not choice.path.exists():
        raise StoreError(f"There is no database at {choice.describe()}; this command only reads, so it "
                         "created none. Name the file with --db, or make demo data with `agent-assist demo`.")
    return Store(choice.path, create=False)


def create_demo_database(path: Path, *, seed: int = 7, tickets: int = 360, force: bool = False) -> dict[str, int]:
    """Write a fresh demo database at ``path``. Refuses to replace a file unless ``force``."""
    from agent_assist.channels import demo
    from agent_assist.store.bulk import import_dataset

    if path.exists() and path.stat().st_size > 0:
        if not force:
            raise StoreError(f"{path} already exists; pass --force to replace it with fresh demo data.")
        with Store(path):  # refuse (with a clear error) to delete anything that is not ours
            pass
        if in_use_elsewhere(path):
            raise StoreError(f"{path} is open in another program (the app, or `demo --arrivals`); close it "
                             "there first. Nothing was replaced.")
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}{suffix} could not be deleted ({exc.strerror or exc}); "
                                 "close it where it is open, or check the folder's permissions.") from exc
    from agent_assist.assist.escalation import retriage_many
    from agent_assist.store import people, quality
    from agent_assist.store.bulk import import_draft_history, outbound_replies

    with Store(path) as store:
        config.remember_db(path)  # the next command finds it
        counts = import_dataset(store, demo.generate(seed=seed, tickets=tickets), label="demo data")
        people.save_profile(store, demo.SUPERVISOR, "supervisor", actor=demo.SUPERVISOR)  # the first supervisor
        for name in demo.AGENTS:  # the supervisor adds the team
            people.save_profile(store, name, "supervisor" if name == demo.SUPERVISOR else "agent",
                                actor=demo.SUPERVISOR)
        retriage_many(store)
        import_draft_history(store, demo.draft_history(outbound_replies(store.db), seed=seed))
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
    with Store(path, create=False) as store:
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

    if not args.query.strip():
        print("agent-assist: a search needs a query: give the words to look for, e.g. kb search refund.",
              file=sys.stderr)
        return 2
    with _open_existing(args) as store:
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
    from agent_assist.sanitize import shown_name

    last = [0.0]

    def progress(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if sys.stderr.isatty() and (now - last[0] > 0.1 or done == total):
            last[0] = now
            print(f"\r{shown_name(what)}: {done:,}/{total:,}", end="" if done < total else "\n", file=sys.stderr,
                  flush=True)

    missing = [p for p in args.paths if not Path(p).expanduser().exists()]
    if missing:
        names = ", ".join(map(shown_name, missing))
        raise StoreError(f"Nothing was imported: {names} {'does' if len(missing) == 1 else 'do'} not exist.")
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
    if report.skipped and not (report.added or report.changed or report.unchanged or report.kept):
        print("agent-assist: nothing was imported: every file was skipped (the reasons are above).",
              file=sys.stderr)
        return 1
    return 0


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    import json

    from agent_assist.store import audit

    expected = None
    if args.head:
        try:
            expected = json.loads(Path(args.head).expanduser().read_text(encoding="utf-8"))
        except ValueError:  # not UTF-8 (a binary file) or not JSON
            print(f"agent-assist: {args.head} is not a head file written by 'audit export-head'.", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"agent-assist: the head file {args.head} cannot be read ({exc.strerror or exc}).", file=sys.stderr)
            return 2
        if not isinstance(expected, dict):
            print(f"agent-assist: {args.head} is not a head file written by 'audit export-head'.", file=sys.stderr)
            return 2
    with _open_existing(args) as store:
        result = audit.verify(store.db, expected_head=expected)
        if result.ok:
            audit.remember_head(store.db)
    signed = f", signed from row {result.keyed_from}" if result.keyed_from else ""
    for note in result.notes:
        print(f"Note: {note[0].upper()}{note[1:]}.")
    if result.ok:
        print(f"Audit trail intact: {result.rows} rows{signed}.")
        return 0
    if result.first_broken_id is not None:
        print(f"Audit trail broken at row {result.first_broken_id}: {result.reason.split(': ', 1)[-1]}.")
    else:
        print("Audit trail not verified:")
    for problem in result.problems:
        print(f"  - {problem[0].upper()}{problem[1:]}.")
    return 3


def _cmd_audit_export_head(args: argparse.Namespace) -> int:
    import json

    from agent_assist.store import audit

    with _open_existing(args) as store:
        head = audit.head(store.db)
        kept = audit.remember_head(store.db) is not None
    text = json.dumps(head, indent=2, sort_keys=True) + "\n"
    if args.out and not args.force and os.path.lexists(Path(args.out).expanduser()):
        print(f"agent-assist: {args.out} already exists; nothing was written (add --force to replace it).",
              file=sys.stderr)
        return 2
    if args.out:
        try:
            Path(args.out).expanduser().write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"agent-assist: the head could not be written to {args.out} ({exc.strerror or exc}).",
                  file=sys.stderr)
            return 2
        print(f"Audit head (row {head['last_id']}) written to {args.out}; keep it somewhere else and check "
              f"against it with: agent-assist audit verify --head {args.out}")
    else:
        sys.stdout.write(text)
    if not kept:
        print("Note: the head was not kept in a keyring (none is usable here, or the trail is not signed).",
              file=sys.stderr)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from agent_assist.app import explain_missing_display, run  # Qt is only imported when a window is wanted

    if not explain_missing_display(args.qt_args):  # before any demo data is made for a window that cannot open
        return 2
    ask_folder = False
    if args.demo:
        path = _demo_db_path(args)
        ensure_demo_database(path)
        default_user = "alex"
    elif is_team_url(named := args.db or os.environ.get(config.DB_ENV)):  # a team server: sign in there
        path, default_user = named.strip(), config.current_user()
    elif not named and (team := config.last_team()):  # the window signed in to a team server last time
        path, default_user = team, config.current_user()
    else:
        choice = config.choose_db(args.db)  # the window asks about a missing folder (the CLI refuses)
        path, ask_folder = choice.path, choice.explicit
        default_user = config.current_user()
    user = args.user or os.environ.get(config.USER_ENV) or None
    return run(path, user=user, default_user=default_user, qt_args=[sys.argv[0], *args.qt_args],
               quit_after_ms=args.quit_after, ask_folder=ask_folder)


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

    from agent_assist.settings import Settings

    settings = Settings()
    if not (args.model or args.base_url or args.preset) and not (
            settings.get("ai.enabled") and str(settings.get("ai.provider").get("model", "")).strip()):
        print("agent-assist: no model is configured to check: turn one on in Preferences (AI), or name it with "
              "--preset, --base-url and --model.", file=sys.stderr)
        return 2
    try:
        with _model_check_provider(args) as provider:
            report = model_check.run_check(provider, data, limit=args.limit, progress=progress)
    except ProviderError as err:
        print(f"agent-assist: {err}", file=sys.stderr)
        return 2
    if report.rows and all(r.error for r in report.rows):  # nothing was measured: a report would mislead
        print(f"agent-assist: no ticket could be checked ({report.rows[0].error.rstrip('.')}), so no report "
              "was written.", file=sys.stderr)
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

    choice = _choice(args)
    print(logs.diagnostics(choice.path, db_reason=choice.reason), end="")
    if not choice.path.exists():
        print(f"agent-assist: there is no database at {choice.describe()}; nothing was created.", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    choice = config.choose_db()  # read once: every --db help names the same file
    db_help = f"the database file; now {choice.path}, chosen by {choice.reason}".replace("%", "%%")
    parser = argparse.ArgumentParser(
        prog="agent-assist", description="Live queue, knowledge and AI drafts that a person approves.",
        epilog=f"Database: {choice.path}, chosen by {choice.reason}. The rule, for the app and every command alike: --db, else "
               f"${config.DB_ENV}, else the database last opened, else {config.default_db_path()}. Commands "
               "that only read (kb search, audit verify, diagnostics) never create a database.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    parser.add_argument("--db", metavar="PATH", help=db_help)
    parser.add_argument("--demo", action="store_true", help="start on the demo database, creating it if needed")
    parser.add_argument("--user", metavar="NAME", help=f"who you are (default: ${config.USER_ENV} or your login name)")
    parser.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)  # close the window after MS
    parser.set_defaults(func=_cmd_run, qt_args=[])
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    demo = sub.add_parser("demo", help="create demo data, or trickle in new tickets",
                          description="Write a fresh demo database (then the app and commands use it), or add "
                                      "new tickets to an existing one as if customers were writing in.")
    demo.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                      help="where to write (default: demo.db in the data folder)")
    demo.add_argument("--force", action="store_true",
                      help="replace an existing demo file (refused while another program has it open)")
    demo.add_argument("--seed", type=int, default=7, help="random seed: the same seed makes the same data "
                                                           "(default: %(default)s)")
    demo.add_argument("--tickets", type=int, default=360, metavar="N", help="how many tickets (default: %(default)s)")
    demo.add_argument("--arrivals", type=int, default=0, metavar="N", help="add N new tickets to an existing database")
    demo.add_argument("--interval", type=float, default=2.0, metavar="S",
                      help="seconds between arrivals (default: %(default)s)")
    demo.set_defaults(func=_cmd_demo)

    kb = sub.add_parser("kb", help="knowledge base commands", description="Search or import knowledge articles.")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, title="commands", metavar="COMMAND")
    kb_search = kb_sub.add_parser("search", help="search the knowledge base (reads only)",
                                  description="Search the knowledge base; prints citations, titles and snippets.")
    kb_search.add_argument("query", help="words to look for, in any language")
    kb_search.add_argument("--locale", help="only articles in this language, e.g. en or sv")
    kb_search.add_argument("--section", help="only articles in this section")
    kb_search.add_argument("--limit", type=int, default=10, metavar="N", help="at most N hits (default: %(default)s)")
    kb_search.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
    kb_search.set_defaults(func=_cmd_kb_search)

    kb_import = kb_sub.add_parser("import", help="import or re-import Markdown/HTML/text folders, CSV or JSON exports",
                                  description="Import files and folders as knowledge articles; importing again "
                                              "updates what changed. All of it goes in, or nothing does.")
    kb_import.add_argument("paths", nargs="+", metavar="PATH", help="a file or folder to import")
    kb_import.add_argument("-v", "--verbose", action="store_true", help="list every added, changed, removed "
                                                                         "and skipped article")
    kb_import.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
    kb_import.set_defaults(func=_cmd_kb_import)

    aud = sub.add_parser("audit", help="audit trail commands", description="Check the append-only audit trail.")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True, title="commands", metavar="COMMAND")
    verify = aud_sub.add_parser("verify", help="check the chain, its triggers and the sent replies (reads only)",
                                description="Check that no audit row was changed or removed since it was written, "
                                            "that the append-only triggers are in place and that every sent "
                                            "reply has its audit row.")
    verify.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
    verify.add_argument("--head", metavar="FILE", help="also check against a head written by export-head")
    verify.set_defaults(func=_cmd_audit_verify)
    export = aud_sub.add_parser("export-head", help="print (or write) the trail's newest row id and MAC",
                                description="Print (or write to a file) the audit trail's newest row id and MAC, "
                                            "to keep somewhere else and check against with verify --head.")
    export.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
    export.add_argument("--out", metavar="FILE", help="write the head to FILE instead of printing it "
                                                      "(an existing FILE is kept unless --force)")
    export.add_argument("--force", action="store_true", help="replace FILE when it already exists")
    export.set_defaults(func=_cmd_audit_export_head)

    check = sub.add_parser("model-check", help="try the configured model on a labelled set of tickets and write "
                                               "a Markdown/CSV report",
                           description="Run a labelled set of tickets through the configured model and report, per "
                                       "ticket and overall, citation validity, language match, placeholder "
                                       "integrity, payment data leaked, prompt markup leaked, cut-off replies, "
                                       "injection obeyed, speed and triage agreement.")
    check.add_argument("--set", metavar="FILE", help="a JSON ticket set (default: the demo set)")
    check.add_argument("--limit", type=int, metavar="N", help="check only the first N tickets")
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

    diag = sub.add_parser("diagnostics", help="print versions, paths and database facts for a bug report",
                          description="Print versions, paths and database facts for a bug report (no customer "
                                      "text, no keys); reads only.")
    diag.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
    diag.set_defaults(func=_cmd_diagnostics)

    from agent_assist import team_cli

    team_cli.add_subcommands(sub)
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
    except sqlite3.DatabaseError as exc:  # met outside the store's seam (e.g. a damaged page while reading rows)
        where = getattr(args, "db", None) or config.resolve_db_path()
        err = translate_error(exc, where)
        print(f"agent-assist: {err or f'the database {where} could not be used ({exc}).'}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`… | head`): stop quietly, as shell tools do
        _drop_stdout()
        return 141
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT) and exc.filename is None:
            _drop_stdout()  # the output itself could not be written (a full disk behind a redirect)
            print(f"agent-assist: the output could not be written ({exc.strerror or exc}).", file=sys.stderr)
            return 1
        where = f" {exc.filename}" if exc.filename else ""
        print(f"agent-assist: {exc.strerror or exc}{where}.", file=sys.stderr)
        return 1


def _drop_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)

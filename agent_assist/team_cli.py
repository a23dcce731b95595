"""``agent-assist team …``: set up a team database on PostgreSQL and its people.

    agent-assist team init URL --supervisor NAME      schema, roles, rules and the first supervisor
    agent-assist team add-person NAME --role ROLE     a person's own login (agent or supervisor)
    agent-assist team import-sqlite FILE              move a desk's tickets, drafts, articles and audit trail

Both run as the server's administrator (the URL's user: a superuser, or a role with CREATEROLE).
Passwords are read from a prompt, from one line of standard input (``--password-stdin``) or from
``$AGENT_ASSIST_TEAM_PASSWORD``; never from the command line (other users can read it there) and
never written anywhere. psycopg is imported only when these commands run.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from agent_assist import config
from agent_assist.store.errors import StoreError

PASSWORD_ENV = "AGENT_ASSIST_TEAM_PASSWORD"


def _password(args: argparse.Namespace, whose: str, *, required: bool = True) -> str | None:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise StoreError(f"No password for {whose} on standard input.")
        return line.rstrip("\r\n")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        if not required:
            return None
        raise StoreError(f"A password for {whose} is needed: type it at a prompt, pass --password-stdin, "
                         f"or set ${PASSWORD_ENV}.")
    first = getpass.getpass(f"Password for {whose}{'' if required else ' (Enter keeps the current one)'}: ")
    if not first and not required:
        return None
    if getpass.getpass("The same password again: ") != first:
        raise StoreError("The two passwords differ; nothing was changed.")
    return first


def _url(value: str | None) -> str:
    from agent_assist.store.postgres import is_postgres_url

    url = value or os.environ.get(config.DB_ENV, "")
    if not is_postgres_url(url):
        raise StoreError("Name the team database: --db postgresql://admin@host:port/database "
                         f"(or set ${config.DB_ENV} to that URL).")
    return url


def _cmd_init(args: argparse.Namespace) -> int:
    from agent_assist.store.postgres import is_postgres_url, team

    if not is_postgres_url(args.url):
        raise StoreError(f"{args.url!r} is not a PostgreSQL URL: postgresql://admin@host:port/database.")
    name = team.check_name(args.supervisor)
    report = team.init(args.url, name, _password(args, name) or "")
    applied = ", ".join(f"{v:03d}" for v in report.applied) or "none, it was up to date"
    print(f"Team database {report.database} is ready: schema version {report.schema_version} "
          f"(migrations applied: {applied}); {report.supervisor} signs in as its supervisor.")
    return 0


def _cmd_add_person(args: argparse.Namespace) -> int:
    from agent_assist.store.postgres import team

    url = _url(args.db)
    name, role = team.check_name(args.name), team.check_role(args.role)
    outcome = team.add_person(url, name, role, _password(args, name, required=False))
    print({"added": f"{name} joined the team as {role}; they sign in with their own password.",
           "changed": f"{name} is now {role}.",
           "unchanged": f"{name} was already {role}."}[outcome])
    return 0


def _cmd_import_sqlite(args: argparse.Namespace) -> int:
    from agent_assist.store.postgres import import_sqlite

    report = import_sqlite.import_file(_url(args.db), args.file)
    print("\n".join(report.lines()))
    return 0


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add ``team init`` and ``team add-person`` to the ``agent-assist`` parser."""
    team = sub.add_parser("team", help="team mode on PostgreSQL: set up the database and its people",
                          description="Set up a team's shared PostgreSQL database: its schema and roles, "
                                      "one login per person, and moving a desk's SQLite file there.")
    cmds = team.add_subparsers(dest="team_command", required=True, title="commands", metavar="COMMAND")

    init = cmds.add_parser("init", help="create or upgrade the team schema, its roles and the first supervisor",
                           description="Create (or upgrade) the team schema, its roles and the first supervisor's "
                                       "login. The password is asked for, or read from standard input or "
                                       "$AGENT_ASSIST_TEAM_PASSWORD; it is never stored in a file.")
    init.add_argument("url", metavar="URL", help="postgresql://admin@host:port/database (created when missing)")
    init.add_argument("--supervisor", required=True, metavar="NAME", help="the first supervisor's login name")
    init.add_argument("--password-stdin", action="store_true", help="read their password from standard input")
    init.set_defaults(func=_cmd_init)

    add = cmds.add_parser("add-person", help="give a person their own login, or change their role",
                          description="Give a person their own PostgreSQL login in the team (agent or "
                                      "supervisor), or change the role of one who has it.")
    add.add_argument("name", metavar="NAME", help="their login name")
    add.add_argument("--role", required=True, choices=("agent", "supervisor"),
                     help="agent (works the queue) or supervisor (also approves four-eyes replies, edits rules)")
    add.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                     help=f"the team database as its administrator (default: ${config.DB_ENV})")
    add.add_argument("--password-stdin", action="store_true", help="read their password from standard input")
    add.set_defaults(func=_cmd_add_person)

    imp = cmds.add_parser("import-sqlite", help="move a desk's SQLite file to the team database (all or nothing)",
                          description="Move a desk's tickets, drafts, articles and audit trail to the team "
                                      "database in one transaction, verifying counts and the audit chain.")
    imp.add_argument("file", metavar="FILE", help="the desk's database file")
    imp.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                     help=f"the team database as its administrator (default: ${config.DB_ENV})")
    imp.set_defaults(func=_cmd_import_sqlite)

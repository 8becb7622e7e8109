"""The ``neurallog`` command: serve, tenant create|check, audit verify, rotate, plugins, admin,
users import, recovery, custody, version.

Commands import their heavy modules (Sanic, Redis) only when they run, so ``--help`` and
``version`` stay fast. Exit codes are part of the interface (see ``EPILOG``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from neurallog import __version__
from neurallog.errors import NeuralLogError
from neurallog.wire.ids import TENANT_ID_RULE, is_tenant_id

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

REDIS_HELP = """\
Redis: NEURALLOG_REDIS_URL if set (redis://, rediss://, unix:// or redis+cluster://host:port
for a Redis Cluster). Otherwise the embedded Redis of the data directory
(NEURALLOG_DATA_DIR, default: the user data directory): the one a running `neurallog serve`
owns, or, if none runs, one started for this command only and stopped afterwards."""

EPILOG = """\
exit codes:
  0  success (for `audit verify`: the chain is intact)
  1  the operation failed (tenant exists, audit chain broken, KDF below the floors,
     plugin failed, server error)
  2  usage error (unknown command or option, malformed argument or setting)
  3  Redis unreachable, or the embedded Redis could not be started

environment:
  NEURALLOG_REDIS_URL    Redis to use; unset = embedded redis-server child
  NEURALLOG_DATA_DIR     directory of the embedded Redis (default: user data directory)
  NEURALLOG_HOST, NEURALLOG_PORT, NEURALLOG_WORKERS   defaults for `serve`
See docs/operations.md for every setting."""

USERS_IMPORT_HELP = """\
exit codes:
  0  every user enrolled; their API keys written
  1  the admin API key or the words were refused, or the server failed (nothing
     enrolled, no keys file left behind); or some users were not enrolled (id taken,
     refused, batch stopped) or not finished (incomplete: their keys are written too,
     with status incomplete); the others are enrolled and their keys written
  2  nothing sent: a bad line in FILE (each is named with its line number), FILE
     unreadable, or --keys-out exists already

FILE: one user per line, `user_id,role[,label]` (roles admin, member, auditor); a first
line `user_id,role[,label]` is a header and skipped; empty lines are skipped.
Keys are written as CSV `user_id,role,api_key,status`; each is shown only once."""

URL_HELP = (
    "server base URL (default: NEURALLOG_URL, else the address `serve` uses:"
    " NEURALLOG_HOST and NEURALLOG_PORT, 127.0.0.1:8000)"
)


def tenant_id(value: str) -> str:
    """argparse type: a tenant id as the API defines it."""
    if not is_tenant_id(value):
        raise argparse.ArgumentTypeError(f"invalid tenant id {value!r}: {TENANT_ID_RULE}")
    return value


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {number}")
    return number


def _port(value: str) -> int:
    number = _positive(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, every subcommand with its own ``--help``."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="neurallog",
        description="NeuralLog: zero-knowledge encrypted logging (server and operator tools).",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"neurallog {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the HTTP server",
        description="Run the NeuralLog HTTP server (Sanic). Flags override the "
        "NEURALLOG_* environment variables.\n\n" + REDIS_HELP,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    serve.add_argument("--host", help="address to bind (default: NEURALLOG_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="TCP port (default: NEURALLOG_PORT or 8000)")
    serve.add_argument(
        "--workers",
        type=_positive,
        help="worker processes (default: NEURALLOG_WORKERS or 1)",
    )
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (off by default)"
    )

    tenant = commands.add_parser(
        "tenant",
        help="manage tenants",
        description="Manage tenants.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    tenant_commands = tenant.add_subparsers(dest="tenant_command", metavar="ACTION", required=True)
    create = tenant_commands.add_parser(
        "create",
        help="create a tenant and print its one-time bootstrap token",
        description="Create a tenant and print its bootstrap token on stdout (once; the "
        "server keeps only its hash). The tenant's first admin enrols with it at "
        "POST /api/tenants/bootstrap.\n\n" + REDIS_HELP,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    create.add_argument("tenant_id", metavar="ID", type=tenant_id, help="new tenant id")
    create.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object {"tenant": ID, "bootstrap_token": TOKEN} instead',
    )

    check = tenant_commands.add_parser(
        "check",
        help="warn when a tenant's KDF is below the floors for new tenants",
        description="Read a tenant's profile and compare its KDF and parameters with the "
        "floors new tenants must meet (docs/decisions.md). Exit 0 when it meets them (or "
        "the tenant is not bootstrapped yet), 1 with a warning on stderr naming each floor "
        "it misses. Such a tenant keeps working; move its data to a new tenant with a "
        "generated mnemonic.\n\n" + REDIS_HELP,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    check.add_argument("tenant_id", metavar="ID", type=tenant_id, help="tenant id")
    check.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {tenant, bootstrapped, kdf, kdf_params, weak_kdf}; "
        "same exit code",
    )

    audit = commands.add_parser(
        "audit",
        help="check audit logs",
        description="Check audit logs.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="verify a tenant's hash-chained audit log",
        description="Recompute the hash chain of a tenant's audit log. Exit 0 when "
        "intact, 1 when a record was edited, removed or inserted (the first broken "
        "record is printed). With --url the log is read through the server's API with an "
        "admin or auditor API key (read without echo, or from stdin) and verified by this "
        "client, never by asking the server; TENANT is then optional and, when given, must "
        "be the key's tenant. Without --url it reads Redis as an operator.\n\n" + REDIS_HELP,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    verify.add_argument("tenant_id", metavar="TENANT", type=tenant_id, nargs="?", help="tenant id")
    verify.add_argument(
        "--url", help="verify through this server's API, here (see docs/formats.md)"
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help="print one JSON verdict {tenant, intact, records, first_broken, reason} "
        "(with --url also verified_by and checkpoint); same exit code",
    )

    plugins = commands.add_parser(
        "plugins",
        help="list the installed KDF and cipher plugins",
        description="List every KDF and cipher the client-side crypto can use, with the "
        "plugin that provides it and its origin: 'builtin', '<distribution> <version>' "
        "for an installed plugin package. NEURALLOG_PLUGINS_DISABLE (comma-separated "
        "entry-point or distribution names) hides installed plugins. See docs/plugins.md.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    plugins.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object {"kdfs": [...], "ciphers": [...]} instead of a table',
    )

    console = commands.add_parser(
        "admin",
        help="open the tenant admin console (terminal UI)",
        description="Open the Textual admin console: unlock a tenant with an admin API key "
        "and its recovery phrase or mnemonic, or bootstrap a new tenant. Keys stay in "
        "memory and are dropped after --lock-after idle seconds. See docs/tui.md.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    console.add_argument(
        "--url",
        help=URL_HELP,
    )
    console.add_argument(
        "--tenant", type=tenant_id, help="refuse API keys of any other tenant than this one"
    )
    console.add_argument(
        "--lock-after", type=_positive, help="idle seconds before the console locks (300)"
    )

    _add_recovery_parsers(commands, formatter)
    _add_rotate_parser(commands, formatter)
    _add_rewrap_parsers(commands, formatter)
    _add_users_parsers(commands, formatter)

    version = commands.add_parser(
        "version",
        help="print the version",
        description="Print the installed NeuralLog version (and, with --json, the Python "
        "version) and exit 0.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    version.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object {"neurallog": VERSION, "python": VERSION}',
    )
    return parser


def _add_recovery_parsers(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """``recovery split|check`` and ``custody enable|check|disable`` (docs/recovery.md)."""
    url_help = URL_HELP
    secrets_note = (
        "Secrets (API key, words, shares, passphrase) are read without echo from the "
        "terminal, or one per line from stdin when it is not a terminal; never from flags."
    )
    recovery = commands.add_parser(
        "recovery",
        help="SLIP-39 recovery shares of a tenant's mnemonic",
        description="Split a tenant's BIP-39 mnemonic into SLIP-39 shares, or check that a "
        "set of shares unlocks the tenant (the recovery drill). " + secrets_note,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    actions = recovery.add_subparsers(dest="recovery_command", metavar="ACTION", required=True)
    split = actions.add_parser(
        "split",
        help="check the words against the tenant and print SLIP-39 shares",
        description="Check the words against the tenant (admin API key), split them into "
        "SLIP-39 shares and print one per line on stdout. " + secrets_note,
        formatter_class=formatter,
    )
    split.add_argument("--url", help=url_help)
    split.add_argument(
        "--groups", default="2of3", help="M-of-N per group, comma separated (default 2of3)"
    )
    split.add_argument(
        "--group-threshold", type=_positive, default=1, help="groups needed (default 1)"
    )
    split.add_argument(
        "--iteration-exponent",
        type=int,
        default=1,
        choices=range(16),
        metavar="0..15",
        help="SLIP-39 passphrase stretching: 10000 * 2**E PBKDF2 rounds (default 1)",
    )
    check = actions.add_parser(
        "check",
        help="enter shares one by one and check they unlock the tenant (the drill)",
        description="Authenticate with an admin API key, then ask for shares one at a "
        "time (hidden, with progress) until the thresholds are met, and unlock the tenant "
        "with them. Exit 0 when they match, 1 when not. " + secrets_note,
        formatter_class=formatter,
    )
    check.add_argument("--url", help=url_help)

    custody = commands.add_parser(
        "custody",
        help="keep this admin's key wrapped by a custody plugin (OS keyring, HSM)",
        description="enable: unlock once with the words (or phrase) and store the Master KEK "
        "wrapped by a custody plugin in the user data directory (NEURALLOG_CUSTODY_DIR); "
        "check: unlock through it; disable: delete it. " + secrets_note,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    custody.add_argument("custody_command", choices=("enable", "check", "disable"))
    custody.add_argument("--url", help=url_help)
    custody.add_argument(
        "--plugin", default="keyring", help="custody plugin for enable (default keyring)"
    )


ROTATE_EPILOG = """\
exit codes of `rotate`:
  0  rotated: a new KEK version is active
  1  failed (wrong key or words, the server's state disagrees with the signed chain, ...)
  2  usage error, or a secret file that is not two lines or is readable by others
  3  the server is unreachable or unavailable (503): try again later
  4  --if-due and no rotation is due (no policy, or the active version is younger)"""


def _add_rotate_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """``rotate [--if-due]`` (docs/operations.md "Rotation policy")."""
    rotate = commands.add_parser(
        "rotate",
        help="rotate the tenant's KEK (with --if-due: only when the signed policy says so)",
        description="Rotate the tenant's KEK as its admin: a new version sealed to every "
        "active admin and member. With --if-due, only when the rotation policy signed in "
        "the tenant chain (set_rotation_policy) says the active version is due; the "
        "decision uses the verified chain, never the server's word. The admin API key "
        "and the words (or recovery phrase) come from --secret-file (two lines, mode "
        "0600) or stdin (hidden on a terminal, one line each from a pipe); never from "
        "flags or the environment.",
        epilog=ROTATE_EPILOG,
        formatter_class=formatter,
    )
    rotate.add_argument("--url", help=URL_HELP)
    rotate.add_argument(
        "--if-due", action="store_true", help="rotate only when the signed policy says so"
    )
    rotate.add_argument(
        "--secret-file",
        metavar="PATH",
        help="file with the admin API key (line 1) and the words or phrase (line 2)",
    )
    rotate.add_argument(
        "--reason", default="scheduled rotation", help="reason recorded with the new version"
    )
    rotate.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {tenant, due, policy_days, active_version, "
        "age_seconds, due_at, rotated}; same exit code",
    )


REWRAP_EPILOG = """\
exit codes of `rewrap` and `destroy`:
  0  done (rewrap: every entry of the older versions moved, or counted with --dry-run;
     destroy: the version and every key blob of it are gone)
  1  failed (wrong key or words, no access to a version, the server tampered, ...)
  2  usage error, or a secret file that is not the expected lines or is readable by others
  3  the server is unreachable or unavailable (503): run it again later (a rewrap resumes)
  4  destroy refused: entries of the version remain (run `neurallog rewrap` first)"""

_SECRETS_HELP = (
    "file (mode 0600) with the API key (line 1) and the admin's words or recovery phrase (line 2)"
)


def _add_rewrap_parsers(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """``rewrap`` and ``destroy VERSION`` (docs/operations.md "Rewrap and destroy")."""
    rewrap = commands.add_parser(
        "rewrap",
        help="re-encrypt the entries of older KEK versions under the active one",
        description="Re-encrypt every entry of older KEK versions under the active version, "
        "log by log, keeping each entry's data, time, order and id. Safe to interrupt and "
        "run again, and beside writers and readers. As an admin (API key and words) or as "
        "a member holding the versions (API key alone). Secrets come from --secret-file or "
        "stdin, never from flags or the environment.",
        epilog=REWRAP_EPILOG,
        formatter_class=formatter,
    )
    rewrap.add_argument("--url", help=URL_HELP)
    rewrap.add_argument(
        "--version",
        dest="versions",
        action="append",
        metavar="VERSION",
        help="an older version to rewrap (repeatable; default: every version held that is "
        "neither active nor destroyed)",
    )
    rewrap.add_argument("--dry-run", action="store_true", help="only count the entries")
    rewrap.add_argument(
        "--chunk", type=_chunk, default=500, help="entries per request (1..500, default 500)"
    )
    rewrap.add_argument("--secret-file", metavar="PATH", help=_SECRETS_HELP + " (optional)")
    rewrap.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object {versions, logs, moved, counted, dry_run}; no bar",
    )
    destroy = commands.add_parser(
        "destroy",
        help="destroy an older KEK version with no entries left",
        description="Destroy an older KEK version: every key blob of it is deleted and its "
        "status becomes destroyed, for good (a signed tenant chain link). Refused (exit 4) "
        "while entries of it remain: run `neurallog rewrap` first. Admins only: the API "
        "key and the words or recovery phrase come from --secret-file or stdin.",
        epilog=REWRAP_EPILOG,
        formatter_class=formatter,
    )
    destroy.add_argument("version_id", metavar="VERSION", type=_version_id)
    destroy.add_argument("--url", help=URL_HELP)
    destroy.add_argument("--secret-file", metavar="PATH", help=_SECRETS_HELP)
    destroy.add_argument(
        "--json", action="store_true", help="print one JSON object; same exit code"
    )


def _chunk(value: str) -> int:
    """argparse type: a rewrap chunk size, 1..500."""
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 500:
        raise argparse.ArgumentTypeError(f"invalid chunk {value!r}: an integer in 1..500")
    return int(value)


def _version_id(value: str) -> str:
    """argparse type: a KEK version id (a lowercase UUID)."""
    import re

    from neurallog.wire.ids import VERSION_ID

    if not re.fullmatch(VERSION_ID, value):
        raise argparse.ArgumentTypeError(f"invalid version id {value!r}: a lowercase UUID")
    return value


def _add_users_parsers(commands: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """``users import FILE.csv`` (bulk enrolment through the API, docs/client.md)."""
    users = commands.add_parser(
        "users",
        help="manage a tenant's users through the API",
        description="Manage a tenant's users through the server's API, as an admin.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    enrol = actions.add_parser(
        "import",
        help="enrol the users of a CSV file, each with its own key pair and API key",
        description="Enrol every user of FILE (user_id,role[,label]): each gets a key pair, "
        "an API key and a signed member.enrol link; admins and members also get the active "
        "KEK version. Every line is checked first: a bad line stops the import before "
        "anything is sent. The admin API key and the tenant's words (or recovery phrase) "
        "are read without echo from the terminal, or one per line from stdin when it is "
        "not a terminal; never from flags.",
        epilog=USERS_IMPORT_HELP,
        formatter_class=formatter,
    )
    enrol.add_argument("file", metavar="FILE", help="CSV file: user_id,role[,label]")
    enrol.add_argument("--url", help=URL_HELP)
    enrol.add_argument(
        "--keys-out",
        metavar="PATH",
        help="write the new API keys here (created with mode 0600; an existing file is "
        "refused) instead of stdout",
    )


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    )
    root = logging.getLogger("neurallog")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurallog`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging()
    try:
        if args.command == "version":
            if args.json:
                import json
                import platform

                print(json.dumps({"neurallog": __version__, "python": platform.python_version()}))
            else:
                print(f"neurallog {__version__}")
            return EXIT_OK
        if args.command == "plugins":
            from neurallog.cli.plugin_list import run_plugins

            return run_plugins(args.json)
        if args.command == "admin":  # the console lives in neurallog_tui
            import importlib

            console = importlib.import_module("neurallog_tui.app")
            console.run(args.url, tenant=args.tenant, lock_after=args.lock_after)
            return EXIT_OK
        if args.command == "serve":
            from neurallog.cli.serve import run_serve

            return run_serve(args)
        if args.command in ("recovery", "custody"):
            from neurallog.cli import recovery

            if args.command == "custody":
                return recovery.run_custody(args.custody_command, args.url, args.plugin)
            if args.recovery_command == "check":
                return recovery.run_recovery_check(args.url)
            try:
                return recovery.run_recovery_split(
                    args.url, args.groups, args.group_threshold, args.iteration_exponent
                )
            except ValueError as exc:
                print(f"neurallog: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
        if args.command == "rotate":
            from neurallog.cli.rotate import SecretFileError, run_rotate

            try:
                return run_rotate(
                    args.url,
                    if_due=args.if_due,
                    secret_file=args.secret_file,
                    reason=args.reason,
                    as_json=args.json,
                )
            except SecretFileError as exc:
                print(f"neurallog: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
        if args.command in ("rewrap", "destroy"):
            from neurallog.cli.rewrap import run_destroy, run_rewrap
            from neurallog.cli.rotate import SecretFileError

            try:
                if args.command == "destroy":
                    return run_destroy(
                        args.url, args.version_id, secret_file=args.secret_file, as_json=args.json
                    )
                return run_rewrap(
                    args.url,
                    versions=args.versions,
                    dry_run=args.dry_run,
                    chunk=args.chunk,
                    secret_file=args.secret_file,
                    as_json=args.json,
                )
            except SecretFileError as exc:
                print(f"neurallog: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
        if args.command == "users":
            from neurallog.cli.users_import import run_users_import

            return run_users_import(args.url, args.file, args.keys_out)
        from neurallog.cli import admin

        if args.command == "tenant" and args.tenant_command == "check":
            return admin.run_tenant_check(args.tenant_id, as_json=args.json)
        if args.command == "tenant":
            return admin.run_tenant_create(args.tenant_id, as_json=args.json)
        if args.url:
            from neurallog.cli.audit_client import run_audit_verify_client

            return run_audit_verify_client(args.url, args.tenant_id, as_json=args.json)
        if args.tenant_id is None:
            parser.error("audit verify: give TENANT (Redis) or --url (this client)")
        return admin.run_audit_verify(args.tenant_id, as_json=args.json)
    except NeuralLogError as exc:
        from neurallog.errors import OperationsError

        print(f"neurallog: error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE if isinstance(exc, OperationsError) else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

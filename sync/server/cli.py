"""``osler-server``: the operator's command line (init, invite, serve, revoke-device, backup, restore,
import-bundle).

``serve --relay-for URL`` runs an edge relay for the programme server at URL instead (sync/server/relay.py).

``--data-dir`` and ``--database`` may come before or after the verb: ``osler-server init --data-dir X``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import platformdirs

from sync.server.storage import ROLES, Storage


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("OSLER_SERVER_DATA") or platformdirs.user_data_path("osler-server"))


def open_storage(data_dir: Path, database: str | None) -> Storage:
    storage = Storage(database) if database else Storage.for_data_dir(data_dir)
    storage.create_schema()
    return storage


def _common(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--data-dir", default=default, help="folder for the SQLite database and blobs (env OSLER_SERVER_DATA)"
    )
    parser.add_argument("--database", default=default, help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="osler-server", description="Run and administer an Osler sync server.")
    _common(parser, None)
    after = argparse.ArgumentParser(add_help=False)  # the same options after the verb, without resetting them
    _common(after, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    def verb(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, parents=[after])

    verb("init", "create the database schema and data folder")
    invite = verb("invite", "print new single-use invite codes")
    invite.add_argument("--role", choices=ROLES, required=True)
    invite.add_argument("--count", type=int, default=1)
    serve = verb("serve", "serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8470)
    serve.add_argument("--auth-per-minute", type=int, default=10, help="sign-in attempts per client per minute")
    serve.add_argument(
        "--device-auth-per-minute", type=int, default=None, help="sign-in attempts per device per minute"
    )
    serve.add_argument(
        "--bundles-per-minute", type=int, default=120, help="sync bundles (POST /v1/bundles) per client per minute"
    )
    serve.add_argument(
        "--relay-for",
        metavar="URL",
        help="run an edge relay for the programme server at URL instead: store and forward sealed sync bundles "
        "(README, Edge relay)",
    )
    serve.add_argument(
        "--relay-interval", type=float, default=30.0, help="edge relay: seconds between tries to reach the server"
    )
    serve.add_argument(
        "--relay-refresh",
        type=float,
        default=300.0,
        help="edge relay: seconds between asking the server again for each device's fresh answer",
    )
    serve.add_argument(
        "--relay-max-mib",
        type=int,
        default=4096,
        help="edge relay: MiB of bundles it keeps waiting for the link, at most (then 507)",
    )
    serve.add_argument(
        "--advertise",
        action="store_true",
        help="edge relay: announce it on the LAN with zeroconf, so Osler finds it (needs python-zeroconf)",
    )
    revoke = verb("revoke-device", "revoke a device by id (32 hex digits)")
    revoke.add_argument("device")
    backup = verb("backup", "copy the database and blobs into a new folder, safely while serving (SQLite)")
    backup.add_argument("dest", type=Path, help="a new folder for this backup")
    restore = verb("restore", "put a backup folder into --data-dir (stop the server first)")
    restore.add_argument("source", type=Path, help="a folder written by `osler-server backup`")
    restore.add_argument("--force", action="store_true", help="replace the database already in --data-dir")
    bundle = verb("import-bundle", "answer a request bundle (.oslersync) carried from an offline device")
    bundle.add_argument("file", type=Path, help="the request bundle")
    bundle.add_argument("--out", type=Path, default=None, help="folder for the answer (default: beside the file)")
    args = parser.parse_args(argv)

    data_dir = _data_dir(args.data_dir)
    if args.command == "serve" and args.relay_for:
        return _serve_relay(args, data_dir)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args, data_dir)
    storage = open_storage(data_dir, args.database)
    if args.command == "init":
        print(f"ready: {args.database or data_dir / 'server.db'}")
    elif args.command == "invite":
        if not 1 <= args.count <= 1000:
            parser.error("--count must be between 1 and 1000")
        for code in storage.create_invites(args.role, args.count):
            print(code)
    elif args.command == "revoke-device":
        try:
            device = bytes.fromhex(args.device)
        except ValueError:
            parser.error("device must be 32 hex digits")
        if len(device) != 16 or not storage.revoke_device(device):
            print("no such active device", file=sys.stderr)
            return 1
        print("revoked")
    elif args.command == "import-bundle":
        from sync.server.bundle_cli import import_bundle

        return import_bundle(storage, data_dir, args.file, args.out)
    elif args.command == "serve":
        import uvicorn

        from sync.server.app import SERVE_OPTIONS, create_app

        app = create_app(
            storage,
            data_dir,
            auth_per_minute=args.auth_per_minute,
            device_auth_per_minute=args.device_auth_per_minute,
            bundles_per_minute=args.bundles_per_minute,
        )
        server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="info", **SERVE_OPTIONS))
        exit_handler = server.handle_exit

        def handle_exit(sig: int, frame: object) -> None:  # SIGTERM, Ctrl-C: held waits answer first
            app.state.live.close()
            exit_handler(sig, frame)

        server.handle_exit = handle_exit  # type: ignore[method-assign]
        server.run()
    return 0


def _serve_relay(args: argparse.Namespace, data_dir: Path) -> int:
    import uvicorn

    from sync.server.app import SERVE_OPTIONS
    from sync.server.relay import build

    if args.database:
        print(
            "osler-server serve --relay-for: the relay keeps its queue in --data-dir, not --database", file=sys.stderr
        )
        return 2
    if args.relay_interval <= 0 or args.relay_refresh <= 0 or args.relay_max_mib <= 0:
        print(
            "osler-server serve: --relay-interval, --relay-refresh and --relay-max-mib must be above 0", file=sys.stderr
        )
        return 2
    try:
        app, forwarder = build(
            data_dir,
            args.relay_for,
            interval=args.relay_interval,
            refresh=args.relay_refresh,
            bundles_per_minute=args.bundles_per_minute,
            max_queued_bytes=args.relay_max_mib << 20,
        )
    except ValueError as exc:
        print(f"osler-server serve: {exc}", file=sys.stderr)
        return 2
    # What the forwarder does, on stderr beside uvicorn's own lines: counts, sizes and id prefixes, never content.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    advertisement = None
    if args.advertise:
        from sync.bundle import programme_id
        from sync.server.relay_advertise import AdvertiseError, Advertisement

        try:
            advertisement = Advertisement(programme_id(args.relay_for), args.host, args.port)
        except (AdvertiseError, OSError) as exc:
            print(f"osler-server serve: {exc}", file=sys.stderr)
            app.state.store.close()
            return 2
    forwarder.start()
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="info", **SERVE_OPTIONS))
    try:
        server.run()
    finally:
        forwarder.stop()
        app.state.store.close()
        if advertisement is not None:
            advertisement.close()
    return 0


def _backup_or_restore(args: argparse.Namespace, data_dir: Path) -> int:
    from sync.server.backup import BackupError, backup, restore

    if args.database and not args.database.startswith("sqlite"):
        print(
            "the records are in PostgreSQL: back them up with pg_dump (pg_dump -Fc -f osler.dump DBNAME; "
            "pg_restore --clean -d DBNAME osler.dump) and copy the blobs folder "
            f"{data_dir / 'blobs'} with them (README, Running a server)",
            file=sys.stderr,
        )
        return 2
    try:
        if args.command == "backup":
            info = backup(data_dir, args.dest)
            print(f"backed up {info.records} records, {info.accounts} accounts, {info.blobs} blobs to {info.folder}")
        else:
            info = restore(args.source, data_dir, replace=args.force)
            print(f"restored {info.records} records, {info.accounts} accounts (backup of {info.created}) to {data_dir}")
    except (BackupError, OSError) as exc:
        print(f"osler-server {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``osler-server``: the operator's command line (init, invite, serve, revoke-device)."""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="osler-server", description="Run and administer an Osler sync server.")
    parser.add_argument("--data-dir", help="folder for the SQLite database and blobs (env OSLER_SERVER_DATA)")
    parser.add_argument("--database", help="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="create the database schema and data folder")
    invite = commands.add_parser("invite", help="print new single-use invite codes")
    invite.add_argument("--role", choices=ROLES, required=True)
    invite.add_argument("--count", type=int, default=1)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8470)
    serve.add_argument("--auth-per-minute", type=int, default=10, help="sign-in attempts per client per minute")
    serve.add_argument(
        "--device-auth-per-minute", type=int, default=None, help="sign-in attempts per device per minute"
    )
    revoke = commands.add_parser("revoke-device", help="revoke a device by id (32 hex digits)")
    revoke.add_argument("device")
    args = parser.parse_args(argv)

    data_dir = _data_dir(args.data_dir)
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
    elif args.command == "serve":
        import uvicorn

        from sync.server.app import SERVE_OPTIONS, create_app

        app = create_app(
            storage, data_dir, auth_per_minute=args.auth_per_minute, device_auth_per_minute=args.device_auth_per_minute
        )
        server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="info", **SERVE_OPTIONS))
        exit_handler = server.handle_exit

        def handle_exit(sig: int, frame: object) -> None:  # SIGTERM, Ctrl-C: held waits answer first
            app.state.live.close()
            exit_handler(sig, frame)

        server.handle_exit = handle_exit  # type: ignore[method-assign]
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

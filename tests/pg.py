"""The real PostgreSQL the server tests run against.

CI starts one on loopback with ``.ci/postgres.sh`` and exports ``OSLER_TEST_DATABASE_URL``; on a machine without
one, the tests that need it skip with the reason given here instead of failing on a connection error. Tests speak
to a real server rather than SQLite because the server's SQL (locking, constraints, types) is PostgreSQL's.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import sqlalchemy as sa

ENV = "OSLER_TEST_DATABASE_URL"
DEFAULT_URL = "postgresql+psycopg://osler:osler@127.0.0.1:5432/osler_test"
# this checkout's mark in its databases' names: the repository's folder, hashed (a name stays under 63 bytes)
CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent.parent).encode()).hexdigest()[:8]


@functools.cache
def postgres_url() -> tuple[str | None, str]:
    """``(url, "")`` when the test database answers within 2 s, else ``(None, reason)`` for ``pytest.skip``.

    The URL is ``$OSLER_TEST_DATABASE_URL`` or, when that is unset, the one ``.ci/postgres.sh`` sets up. Checked
    once per test run: a server that is not there costs one 2 s timeout, not one per test.
    """
    url = os.environ.get(ENV) or DEFAULT_URL
    engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        parsed = sa.make_url(url)
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return None, (
            f"no PostgreSQL reachable at {parsed.host}:{parsed.port or 5432} ({cause}; "
            f"set {ENV} or run .ci/postgres.sh)"
        )
    finally:
        engine.dispose()
    try:
        return _own_database(url), ""
    except sa.exc.SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return None, f"cannot make this test worker's own database ({cause}; the role needs CREATEDB)"


def _own_database(url: str) -> str:
    """The database this checkout's tests (and this pytest-xdist worker's) use, next to the configured one and
    made on first use: ``osler_test_<checkout>`` in a run without workers, ``osler_test_<checkout>_gw0``,
    ``..._gw1``... in a parallel run, where ``<checkout>`` is a short hash of this repository's folder. Tests
    reset the whole schema, so two workers must never share one, and neither may two checkouts on one machine
    (two engineers' worktrees, or CI next to a developer) that run their suites against the same server."""
    base = sa.make_url(url)
    name = f"{base.database}_{CHECKOUT}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker:
        name = f"{name}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_database(url: str) -> None:
    """Drop every table, view, sequence and type in the ``public`` schema, so each test starts from an empty database
    whatever an earlier (possibly crashed) test left behind. Recreating the schema is cheaper than dropping objects
    one by one and cannot miss any; the role that connects owns the new schema and keeps all rights on it."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public AUTHORIZATION CURRENT_USER"))
            conn.execute(sa.text("GRANT ALL ON SCHEMA public TO CURRENT_USER"))
            conn.execute(sa.text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
    finally:
        engine.dispose()


def require_postgres() -> str:
    """The URL for a test that needs PostgreSQL: skipped on a developer's machine without one, but a failure in
    CI (``CI=true``), where ``.ci/run`` starts one and its absence means the set-up broke."""
    import pytest

    url, reason = postgres_url()
    if url is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must test PostgreSQL: {reason}")
        pytest.skip(reason)
    return url

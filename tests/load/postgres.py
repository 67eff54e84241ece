"""PostgreSQL for load runs: a throwaway cluster, or a scratch database on a given server.

Either way the run gets an empty database of its own and removes it at the
end, so pointing a load run at a server never touches the data already there::

    with throwaway_cluster() as url:           # initdb + pg_ctl on 127.0.0.1
        ...
    with scratch_database(admin_url) as url:   # CREATE DATABASE pana_load_<random>
        ...
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.load.server import free_port


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` (Debian), or ``pg_ctl``'s folder on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name or 0))
    if found:
        return found[-1]
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, so drop to the postgres user there.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextlib.contextmanager
def throwaway_cluster(durable: bool = False) -> Iterator[str]:
    """Start a new cluster in a temporary folder on a free loopback port; yield its URL;
    delete it.

    ``durable=False`` turns fsync off (as ``.ci/run`` does): faster, and a crash of
    the *application* loses nothing either way. Benchmarks pass ``durable=True``
    so commits cost what they cost in production.
    """
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    # Its own folder, not the caller's: the postgres user must be able to enter it.
    folder = Path(tempfile.mkdtemp(prefix="pana-pg-"))
    data = folder / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c max_connections=200"
    if not durable:
        options += " -c fsync=off"
    ctl = [str(binaries / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        _as_postgres([*ctl, "-o", options, "-l", str(folder / "postgres.log"), "-w", "start"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        subprocess.run(
            _as_postgres([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "pana"]),
            check=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/pana"
    finally:
        subprocess.run(
            _as_postgres([*ctl, "-m", "immediate", "-w", "stop"]), stdout=subprocess.DEVNULL
        )
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Create an empty database next to ``server_url``'s; yield its URL; drop it."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"pana_load_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""Rate limits are counted in the database, so every worker process shares them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from tests.auth.test_views import limited_app  # noqa: F401  (fixture)
from tests.conftest import test_environ as environ_for
from tests.factories import make_member
from volunteer_platform.core.ratelimit import SQLStorage


def test_two_storages_on_one_database_share_their_counters(app, database_url):
    first, second = SQLStorage(f"sql+{database_url}"), SQLStorage(f"sql+{database_url}")
    try:
        first.clear("login/203.0.113.9")
        assert first.incr("login/203.0.113.9", 60) == 1
        assert second.incr("login/203.0.113.9", 60) == 2
        assert first.get("login/203.0.113.9") == 2
        assert time.time() < second.get_expiry("login/203.0.113.9") <= time.time() + 60
        second.clear("login/203.0.113.9")
        assert first.get("login/203.0.113.9") == 0
        assert first.check()
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_an_expired_window_starts_again_from_one(app, database_url):
    storage = SQLStorage(f"sql+{database_url}")
    try:
        storage.clear("k")
        assert storage.incr("k", 1) == 1
        assert storage.incr("k", 1) == 2
        time.sleep(1.1)
        assert storage.get("k") == 0
        assert storage.incr("k", 1) == 1
    finally:
        storage.engine.dispose()


def test_another_process_counts_towards_the_same_login_limit(limited_app, tenant_a, database_url):  # noqa: F811
    """Five wrong passwords from another process (another gunicorn worker), five from this
    one: the eleventh attempt is refused, whichever process receives it."""
    make_member(tenant_a, "volunteer", email="marie@example.org")
    worker = textwrap.dedent("""
        from tests.conftest import build_app
        import sys
        app = build_app(sys.argv[1], RATELIMIT_ENABLED=True)
        client = app.test_client()
        codes = [client.post("/login", data={"email": "marie@example.org", "password": "guess-guess-guess"}).status_code
                 for _ in range(5)]
        print(codes)
    """)
    env = {**environ_for(database_url), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", worker, database_url], capture_output=True, text=True,
                            env=env, cwd=".", timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("[422, 422, 422, 422, 422]")

    client = limited_app.test_client()
    for _ in range(5):
        assert client.post("/login", data={"email": "marie@example.org", "password": "guess"}).status_code == 422
    assert client.post("/login", data={"email": "marie@example.org", "password": "guess"}).status_code == 429

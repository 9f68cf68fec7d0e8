"""The app as ``bench/run.py`` serves it: the production app (``wsgi.py``)
plus one reference endpoint that exists only here.

``/bench/one-query`` is ``/healthz`` plus the cheapest database round trip the
app can make (``SELECT 1`` through the request's Flask-SQLAlchemy session:
pool checkout with its pre-ping, the query, the connection's return). It is
the floor of any answer that reads the database, so the benchmark can say how
much of a feed's 304 is that round trip and how much is the feed's own work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from volunteer_platform import create_app
from volunteer_platform.auth.permissions import public
from volunteer_platform.extensions import db

app = create_app()


@app.get("/bench/one-query")
@public
def one_query() -> Any:
    db.session.execute(text("SELECT 1")).scalar_one()
    return {"status": "ok"}

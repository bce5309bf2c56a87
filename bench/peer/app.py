"""The peer: the origin article's first method done minimally but honestly,
and with `PEER_REDIS_URL` set its third.

A permanent Flask session lasting one day, a login form that checks a
werkzeug password hash (scrypt, Flask's own default) from SQLite, a dashboard
that greets the signed-in user or redirects to the login page, and a logout.
The session is Flask's signed cookie (method 1) or, with `PEER_REDIS_URL`,
kept on the server in Redis by Flask-Session under the key prefix `session:`
(method 3: several servers share it). Configured from the environment (no
secrets in source):

  PEER_SECRET_KEY  session signing key
  PEER_DATABASE    SQLite file with a `users(username, password_hash)` table
  PEER_REDIS_URL   optional: sessions in this Redis
  PEER_KEY_PREFIX  optional: their key prefix (default `session:`)
"""

import os
import sqlite3
from datetime import timedelta

from flask import Flask, redirect, render_template_string, request, session, url_for
from werkzeug.security import check_password_hash

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["PEER_SECRET_KEY"],
    PERMANENT_SESSION_LIFETIME=timedelta(days=1),
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
)
DATABASE = os.environ["PEER_DATABASE"]

if os.environ.get("PEER_REDIS_URL"):
    import redis
    from flask_session import Session

    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.from_url(os.environ["PEER_REDIS_URL"]),
        SESSION_KEY_PREFIX=os.environ.get("PEER_KEY_PREFIX", "session:"),
        SESSION_PERMANENT=True,
    )
    Session(app)

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main>
{% if user %}
<h1>Dashboard</h1><p>Signed in as <strong>{{ user }}</strong>.</p>
<form method="post" action="{{ url_for('logout') }}"><button>Sign out</button></form>
{% else %}
<h1>Sign in</h1>{% if error %}<p role="alert">{{ error }}</p>{% endif %}
<form method="post">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Sign in</button></form>
{% endif %}
</main></body></html>"""


def password_hash(username):
    with sqlite3.connect(DATABASE) as db:
        row = db.execute(
            "SELECT password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
    return row[0] if row else None


@app.get("/healthz")
def healthz():
    return "ok"


@app.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")
        stored = password_hash(username)
        if stored and check_password_hash(stored, request.form.get("password", "")):
            session.clear()
            session.permanent = True
            session["username"] = username
            return redirect(url_for("dashboard"))
        error = "Invalid credentials"
    return render_template_string(PAGE, title="Sign in", user=None, error=error), (
        401 if error else 200
    )


@app.get("/dashboard")
def dashboard():
    user = session.get("username")
    if not user:
        return redirect(url_for("login"))
    return render_template_string(PAGE, title="Dashboard", user=user, error=None)


@app.post("/logout")
def logout():
    session.pop("username", None)
    return redirect(url_for("login"))

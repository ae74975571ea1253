"""gunicorn settings of the survey server (read by deploy/server/systemd/mot-cua-web.service).

Every value can be changed in /etc/mot-cua/server.env without editing this file.
"""

import multiprocessing
import os

# nginx is the only client: listen on the loopback interface only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# A worker stuck for longer than this is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Recycle workers now and then so that a slow leak never takes the server down.
max_requests = 2000
max_requests_jitter = 200
# Errors go to the journal (stderr); the access log is written by nginx.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Only nginx on this machine may set X-Forwarded-*: the app's TRUST_PROXY_HOPS reads them.
forwarded_allow_ips = "127.0.0.1,::1"
# Load the app once, before forking: a broken release fails at start (not in every worker), and
# systemd hears READY=1 (Type=notify) only when the app can answer.
preload_app = True


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """Each worker opens its own database connections (never share the master's pool)."""
    from survey_server.extensions import db

    flask_app = server.app.callable
    with flask_app.app_context():
        db.engine.dispose(close=False)


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """Put what the preloaded app made into the collector's permanent generation before forking.

    The workers then share those pages with the master (a full collection no longer writes to
    every object, breaking copy-on-write), and a worker's full collection walks only what the
    worker made: one over the app's 210,000 objects took 114 ms of a kiosk request
    (bench/README.md).
    """
    import gc

    gc.freeze()

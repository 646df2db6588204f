"""``nciss serve``: gunicorn in-process, serving the platform's WSGI application.

Threaded workers (``gthread``): each worker process serves ``threads`` requests at once and
keeps its database connection between requests (``CONN_MAX_AGE``). The application is
loaded once in the master before the workers fork (``preload_app``), so a configuration
or import error stops the start instead of a crash loop of workers. Static files are
served by WhiteNoise inside the application, as with any other WSGI server.
"""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from nciss_platform.wsgi import application

        return application


def run_gunicorn(host: str, port: int, *, workers: int, threads: int, access_log: bool = False) -> int:
    """Serve until stopped (SIGINT or SIGTERM finish the requests in flight first); the exit code."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": 10,
        "errorlog": "-",
        "loglevel": "warning",
        "accesslog": "-" if access_log else None,
        "proc_name": "nciss",
    }
    try:
        _Gunicorn(options).run()
    except SystemExit as exc:  # the arbiter exits when it stops
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    return 0

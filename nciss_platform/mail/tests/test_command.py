"""``nciss mail serve`` as deployed: its own process and database, a real SMTP client, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from nciss_platform.mail.tests.conftest import compose, free_port


def wait_for_port(process: subprocess.Popen[str], port: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nciss mail serve stopped: {process.stderr.read() if process.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def test_it_serves_smtp_in_its_own_process_until_stopped(tmp_path: Path) -> None:
    database = tmp_path / "mail.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "NCISS_BROKER_URL": "", "PYTHONUNBUFFERED": "1"}
    env["NCISS_MAIL_ADDRESS"] = "report@cert.xa.example"
    subprocess.run([sys.executable, "-m", "nciss_platform", "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    command = [sys.executable, "-m", "nciss_platform", "mail", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(process, port)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.send_message(compose("stranger@unknown.example", "Are you there?", "Testing."))
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert f"receiving e-mail for report@cert.xa.example by SMTP on 127.0.0.1:{port}" in out
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT subject, state, reason FROM mail_inboundmessage").fetchall()
    assert rows == [
        (
            "Are you there?",
            "rejected",
            "unknown sender stranger@unknown.example: no active user has this e-mail address",
        )
    ]

"""The `nciss` command's server side, run as a person runs it: a separate process."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

CONFIGURATION = ("SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE")


def nciss(*args, env=None, cwd, **kwargs):
    """Run `nciss ARGS` with only the configuration given in ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIGURATION and not k.startswith("NCISS_")}
    return subprocess.run(
        [sys.executable, "-m", "nciss_platform", *args],
        env={**clean, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"NCISS_DEBUG": "maybe"}, "NCISS_DEBUG='maybe' is not a boolean"),
        ({"NCISS_DEBUG": "1", "DATABASE_URL": "mysql://root@localhost/nciss"}, "nciss runs on SQLite or PostgreSQL"),
        (
            {"NCISS_DEBUG": "1", "NCISS_NATIONAL_SCALE": "atlantis"},
            "NCISS_NATIONAL_SCALE='atlantis': scale: unknown scale",
        ),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE='/nonexistent/secret' cannot be read"),
    ],
)
def test_it_stops_on_bad_configuration_with_one_line_and_exit_code_2(tmp_path, env, message):
    result = nciss("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("nciss: bad configuration: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "nciss.sqlite3").exists()


def test_it_never_repeats_a_database_password_in_an_error(tmp_path):
    result = nciss(
        "migrate", env={"NCISS_DEBUG": "1", "DATABASE_URL": "postgres://u:hunter2@db:notaport/x"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "hunter2" not in result.stderr


def test_it_migrates_a_fresh_database_in_the_working_directory(tmp_path):
    result = nciss("migrate", env={"NCISS_DEBUG": "1"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "nciss.sqlite3") as db:
        applied = {app for (app,) in db.execute("select app from django_migrations")}
    assert {"auth", "contenttypes", "sessions"} <= applied


def test_it_passes_any_management_command_through(tmp_path):
    result = nciss("manage", "check", env={"SECRET_KEY": "x" * 60}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_serves_the_calculator_at_the_address_it_prints(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nciss_platform", "serve", "--port", str(port)],
        env={**{k: v for k, v in os.environ.items() if k not in CONFIGURATION}, "NCISS_DEBUG": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        assert url in first_line
        page = _get_when_up(url)
        assert "Severity calculator" in page
        scales = json.loads(_get_when_up(f"{url}api/v1/scales"))
        assert len(scales) == 4
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_it_serves_with_gunicorn_workers_and_serves_the_static_files_itself(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nciss_platform", "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env={
            **{k: v for k, v in os.environ.items() if k not in CONFIGURATION},
            "NCISS_DEBUG": "0",
            "SECRET_KEY": "x" * 60,
        },
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        _get_when_up(url)
        with urllib.request.urlopen(f"{url}static/nciss.css", timeout=5) as response:
            assert response.status == 200 and "gunicorn" in response.headers["Server"]
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 2
    finally:
        server.terminate()
        assert server.wait(timeout=15) == 0


def test_it_refuses_fewer_than_one_worker(tmp_path):
    result = nciss("serve", "--workers", "0", env={"NCISS_DEBUG": "1"}, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "nciss: --workers must be at least 1\n"


def test_it_runs_the_core_commands_without_loading_django(tmp_path):
    code = "import sys; from nciss_platform.cli import main; rc = main(['scales', 'list', '--json']); print('django' in sys.modules, rc)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    listing, loaded = result.stdout.rsplit("\n", 2)[0], result.stdout.rsplit("\n", 2)[1]
    assert loaded == "False 0"
    assert {scale["id"] for scale in json.loads(listing)} == {"osce-reference", "cisa-nciss", "uk-ncsc", "eu-nis2"}


def test_it_reports_a_wrong_server_option_in_one_line(tmp_path):
    result = nciss("serve", "--port", "eighty", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid int value: 'eighty'" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_when_up(url: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)

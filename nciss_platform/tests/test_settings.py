import pytest
from django.core.exceptions import ImproperlyConfigured

from nciss_platform.env import env_bool, env_database, env_list, env_secret


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("on", True), ("Yes", True), ("0", False), ("off", False), ("", True)]
)
def test_it_reads_booleans_in_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("NCISS_FLAG", raw)
    assert env_bool("NCISS_FLAG", default=True) is value


def test_it_refuses_a_boolean_it_cannot_read(monkeypatch):
    monkeypatch.setenv("NCISS_FLAG", "sometimes")
    with pytest.raises(ImproperlyConfigured, match=r"NCISS_FLAG='sometimes' is not a boolean"):
        env_bool("NCISS_FLAG", default=False)


def test_it_reads_comma_separated_lists(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " nciss.example.org, ,localhost ")
    assert env_list("ALLOWED_HOSTS", []) == ["nciss.example.org", "localhost"]
    monkeypatch.delenv("ALLOWED_HOSTS")
    assert env_list("ALLOWED_HOSTS", ["127.0.0.1"]) == ["127.0.0.1"]


def test_it_reads_a_secret_from_a_file(monkeypatch, tmp_path):
    (tmp_path / "secret").write_text("s3cret\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret"))
    assert env_secret("SECRET_KEY") == "s3cret"


def test_it_refuses_a_secret_given_twice(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a")
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret"))
    with pytest.raises(ImproperlyConfigured, match="both SECRET_KEY and SECRET_KEY_FILE are set"):
        env_secret("SECRET_KEY")


def test_it_defaults_to_an_sqlite_file_that_waits_for_locks(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    database = env_database("DATABASE_URL", default="sqlite:////srv/nciss/nciss.sqlite3")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == "/srv/nciss/nciss.sqlite3"
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_it_reads_a_postgresql_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    database = env_database("DATABASE_URL", default="sqlite:///x")
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "127.0.0.1",
        5432,
        "test",
    )


@pytest.mark.parametrize("url", ["mysql://root@localhost/nciss", "nonsense", "redis://localhost:6379/0"])
def test_it_refuses_databases_it_does_not_run_on(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", default="sqlite:///x")


def test_it_hashes_passwords_with_argon2_first():
    from nciss_platform import settings

    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"

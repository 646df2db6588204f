import os

import pytest
from django.contrib.auth import get_user_model
from django.db import connection


@pytest.mark.django_db
def test_it_runs_on_the_database_named_by_database_url():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected
    User = get_user_model()
    User.objects.create_user("analyst", password="correct horse battery staple")
    assert User.objects.get(username="analyst").check_password("correct horse battery staple")

"""RFC 6238 time-based one-time passwords, as authenticator apps make them."""

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from nciss_platform.accounts import totp

# RFC 6238, appendix B: the SHA-1 seed "12345678901234567890", 8 digits, 30-second steps.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("moment", "expected"), RFC_VECTORS)
def test_it_makes_the_codes_of_the_rfc_6238_test_vectors(moment, expected):
    assert totp.code_at(RFC_SECRET, moment, digits=8) == expected


@pytest.mark.parametrize(("moment", "expected"), RFC_VECTORS)
def test_it_makes_the_six_digit_codes_apps_show(moment, expected):
    assert totp.code_at(RFC_SECRET, moment) == expected[-6:]


def test_it_accepts_the_current_code_and_one_step_of_clock_drift_either_side():
    secret = totp.new_secret()
    now = 1_800_000_000
    assert totp.verify(secret, totp.code_at(secret, now), now)
    assert totp.verify(secret, totp.code_at(secret, now - 30), now)
    assert totp.verify(secret, totp.code_at(secret, now + 30), now)
    assert not totp.verify(secret, totp.code_at(secret, now - 90), now)


def test_it_tells_which_time_step_a_code_belongs_to():
    secret = totp.new_secret()
    now = 1_800_000_000
    assert totp.matching_step(secret, totp.code_at(secret, now), now) == now // 30
    assert totp.matching_step(secret, totp.code_at(secret, now - 30), now) == now // 30 - 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_it_refuses_anything_but_six_digits(code):
    assert totp.matching_step(totp.new_secret(), code, 1_800_000_000) is None


def test_it_accepts_a_code_typed_with_spaces():
    secret = totp.new_secret()
    code = totp.code_at(secret, 1_800_000_000)
    assert totp.verify(secret, f" {code[:3]} {code[3:]} ", 1_800_000_000)


def test_it_writes_the_otpauth_uri_authenticator_apps_read():
    secret = totp.new_secret()
    uri = urlparse(totp.provisioning_uri(secret, "analyst@csirt", issuer="nciss"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/nciss:analyst%40csirt"
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["nciss"]
    assert (query["digits"], query["period"], query["algorithm"]) == (["6"], ["30"], ["SHA1"])


def test_it_makes_secrets_of_160_random_bits():
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(len(base64.b32decode(secret)) == 20 for secret in secrets)

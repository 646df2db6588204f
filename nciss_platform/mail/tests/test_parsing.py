"""Reading e-mails: HTML made plain, quoted replies trimmed, headers read from broken messages."""

from __future__ import annotations

import pytest

from nciss_platform.mail.parsing import html_to_text, read_envelope, without_quoted_reply


def test_it_keeps_lines_of_div_based_html_mail_on_lines_of_their_own() -> None:
    markup = "<div>Hello CSIRT,</div><div><br></div><div>we see beaconing to 203.0.113.9.</div><div>Regards</div>"

    assert html_to_text(markup) == "Hello CSIRT,\n\nwe see beaconing to 203.0.113.9.\nRegards"


def test_it_shows_a_link_target_once_even_when_the_text_is_the_target() -> None:
    markup = '<p><a href="https://evil.example/x">https://evil.example/x</a> and <a href="mailto:a@b">a@b</a></p>'

    assert html_to_text(markup) == "https://evil.example/x and a@b"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Done.\n\nOn Mon, 2 Mar 2026, CSIRT <report@cert.xa.example> wrote:\n> Please isolate\n> it", "Done."),
        ("Сделано.\n\n2 марта 2026 г., CSIRT пишет:\n> Изолируйте", "Сделано."),
        ("Done.\n\n-----Original Message-----\nFrom: CSIRT\nPlease isolate", "Done."),
        ("> Which host?\nWS-114\n> Since when?\n07:40", "> Which host?\nWS-114\n> Since when?\n07:40"),
        ("> only a quote", "> only a quote"),
    ],
)
def test_it_trims_the_quoted_message_at_the_end_of_an_answer_only(text: str, kept: str) -> None:
    assert without_quoted_reply(text) == kept


def test_it_reads_the_envelope_of_a_message_with_a_broken_header() -> None:
    raw = b"From: =?utf-8?q?broken\r\nSubject: =?bogus?x?abc?=\r\nMessage-ID: not-an-id\r\n\r\nbody"

    envelope = read_envelope(raw)

    assert envelope.message_id.endswith("@received.nciss.invalid>")
    assert envelope.sender == ""

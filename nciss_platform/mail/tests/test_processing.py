"""What a received message does: the rules of processing, called as the SMTP server and the worker call them."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from nciss_platform.accounts.models import User
from nciss_platform.errors import NotAllowed, ServiceError
from nciss_platform.incidents import services as incidents
from nciss_platform.incidents.models import Attachment, Incident, TimelineEntry
from nciss_platform.incidents.tests.conftest import report
from nciss_platform.mail import services
from nciss_platform.mail.models import InboundMessage, OutboundMessage
from nciss_platform.mail.tests.conftest import compose

pytestmark = pytest.mark.django_db


def deliver(message: EmailMessage | bytes, *, envelope_from: str = "sender@example.org") -> InboundMessage:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    return services.process_message(services.receive_message(raw, envelope_from=envelope_from, recipients=["r@x"]))


def test_it_reads_an_html_only_report_as_plain_text(reporter: User) -> None:
    message = compose(reporter.email, "Phishing against payroll")
    message.set_content(
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
        "<p>Staff received <b>fake</b> payroll mails.</p><p>Link: <a href='https://payro11.example/login'>login"
        "</a></p><ul><li>12 recipients</li><li>2 clicked</li></ul>Tom &amp; Jerry<br>SOC</body></html>",
        subtype="html",
    )

    deliver(message)

    assert Incident.objects.get().description == (
        "Staff received fake payroll mails.\n\nLink: login <https://payro11.example/login>\n\n"
        "- 12 recipients\n- 2 clicked\n\nTom & Jerry\nSOC"
    )


def test_it_keeps_attachments_and_forwarded_messages_as_incident_files(reporter: User) -> None:
    forwarded = compose("ceo@aralia-grid.example.fake", "Urgent wire transfer", "Pay 40 000 EUR today.")
    message = compose(reporter.email, "Fwd: CEO fraud attempt", "The mail we received is attached.")
    message.add_attachment(b"203.0.113.7\n198.51.100.23\n", maintype="text", subtype="plain", filename="ips.txt")
    message.add_attachment(forwarded)

    deliver(message)

    incident = Incident.objects.get()
    assert incident.title == "CEO fraud attempt"  # "Fwd:" is not part of the title
    files = {a.name: a for a in Attachment.objects.filter(incident=incident)}
    assert set(files) == {"ips.txt", "Urgent wire transfer.eml"}
    assert files["ips.txt"].file.read() == b"203.0.113.7\n198.51.100.23\n"
    assert b"Pay 40 000 EUR today." in files["Urgent wire transfer.eml"].file.read()
    assert all(a.uploaded_by == reporter for a in files.values())
    assert incident.timeline.filter(kind=TimelineEntry.Kind.ATTACHMENT).count() == 2


def test_it_rejects_a_message_with_too_many_attachments_and_tells_the_sender_in_their_language(
    reporter: User, settings: Any
) -> None:
    settings.NCISS_MAIL_MAX_ATTACHMENTS = 2
    message = compose(reporter.email, "Logs", "Three log files.")
    for number in range(3):
        message.add_attachment(b"log", maintype="text", subtype="plain", filename=f"log{number}.txt")

    stored = deliver(message)

    assert stored.state == "rejected" and stored.reason == "3 attachments: at most 2 are accepted"
    assert not Incident.objects.exists()
    notice = OutboundMessage.objects.get(kind="notice")
    assert (notice.to, notice.language, notice.in_reply_to) == (reporter.email, "ru", stored.message_id)
    assert notice.subject == "Не обработано: Logs"
    assert "3 attachments: at most 2 are accepted" in notice.text


def test_it_rejects_an_attachment_over_the_size_limit_naming_it(reporter: User, settings: Any) -> None:
    settings.NCISS_MAX_ATTACHMENT_BYTES = 1024
    message = compose(reporter.email, "Memory dump", "Dump attached.")
    message.add_attachment(b"\0" * 4096, maintype="application", subtype="octet-stream", filename="lsass.dmp")

    stored = deliver(message)

    assert stored.state == "rejected"
    assert stored.reason == "the attachment “lsass.dmp” is 4.0 KB: larger than the limit of 1.0 KB"


def test_it_keeps_only_the_header_of_a_message_over_the_size_limit(
    reporter: User, analyst: User, settings: Any
) -> None:
    settings.NCISS_MAIL_MAX_BYTES = 2048
    message = compose(reporter.email, "Full packet capture", "x" * 5000)

    stored = services.receive_message(message.as_bytes())

    assert stored.state == "rejected" and stored.size == len(message.as_bytes())
    assert stored.reason.startswith("the message is 5.") and stored.reason.endswith("larger than the limit of 2.0 KB")
    assert b"Subject: Full packet capture" in bytes(stored.raw) and b"xxxx" not in bytes(stored.raw)
    assert services.process_message(stored).state == "rejected"
    settings.NCISS_MAIL_MAX_BYTES = 1024 * 1024
    with pytest.raises(ServiceError, match="only the header of this message was kept"):
        services.process_again(message=stored, actor=analyst)


@pytest.mark.parametrize(
    ("headers", "envelope_from", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "x@y", "an automatic message (Auto-Submitted: auto-replied)"),
        ({"Precedence": "bulk"}, "x@y", "an automatic message (Precedence: bulk)"),
        ({}, "<>", "a delivery status notification (null envelope sender <>)"),
    ],
)
def test_it_never_processes_or_answers_automatic_messages(
    reporter: User, headers: dict[str, str], envelope_from: str, reason: str
) -> None:
    incident = report(reporter)
    message = compose(reporter.email, f"Out of office: [{incident.reference}]", "I am away until Monday.", **headers)

    stored = deliver(message, envelope_from=envelope_from)

    assert stored.state == "rejected" and stored.reason.startswith(reason)
    assert not incident.timeline.filter(kind="comment").exists()
    assert not OutboundMessage.objects.exists()  # no notice: two robots must never talk to each other


def test_it_refuses_an_answer_to_a_closed_incident_and_says_why(reporter: User, analyst: User) -> None:
    incident = report(reporter)
    for status in ("triaged", "investigating", "resolved", "closed"):
        incidents.change_status(incident=incident, actor=analyst, to=status)

    stored = deliver(compose(reporter.email, f"Re: [{incident.reference}]", "It happened again!"))

    assert stored.state == "rejected"
    assert stored.reason == f"{incident.reference} is closed: only the CSIRT can add to it now"
    assert not incident.timeline.filter(kind="comment").exists()
    assert OutboundMessage.objects.get(kind="notice").to == reporter.email


def test_it_reads_a_tlp_label_in_the_subject(reporter: User) -> None:
    deliver(compose(reporter.email, "TLP:RED insider sabotage at substation 2", "Details by phone."))

    incident = Incident.objects.get()
    assert incident.tlp == "TLP:RED"
    assert list(incident.red_recipients.all()) == [reporter]


def test_it_adds_an_answer_about_a_merged_duplicate_to_the_incident_it_was_merged_into(
    reporter: User, analyst: User
) -> None:
    original = report(reporter, title="Grid control room dark")
    duplicate = report(reporter, title="Control room outage")
    incidents.merge_duplicate(incident=duplicate, actor=analyst, into=original)

    deliver(compose(reporter.email, f"Re: [{duplicate.reference}] Control room outage", "Power is back."))

    assert original.timeline.get(kind="comment").body == "Power is back."
    assert not duplicate.timeline.filter(kind="comment").exists()


def test_it_stops_waiting_on_the_reporter_when_they_answer(reporter: User, analyst: User) -> None:
    incident = report(reporter)
    services.reply_to_reporter(incident=incident, actor=analyst, body="Which systems?", wait_for_answer=True)
    incident.refresh_from_db()
    assert incident.waiting_on_reporter

    deliver(compose(reporter.email, f"Re: [{incident.reference}] Grid control room dark", "SCADA only."))

    incident.refresh_from_db()
    assert not incident.waiting_on_reporter
    assert incident.clock_pauses.get().ended_at is not None


def test_it_stores_a_message_without_message_id_once_under_its_digest(reporter: User) -> None:
    message = compose(reporter.email, "No id", "Sent by an old scanner.")
    del message["Message-ID"]

    first = deliver(message)
    second = deliver(message)

    assert first.pk == second.pk and first.message_id.endswith("@received.nciss.invalid>")
    assert Incident.objects.count() == 1


def test_it_processes_a_rejected_message_again_once_the_sender_has_an_account(
    energy: Any, analyst: User, reporter: User
) -> None:
    stored = deliver(compose("new.engineer@aralia-grid.example", "Rogue access point", "In the turbine hall."))
    assert stored.state == "rejected"
    User.objects.create_user(
        "new-engineer", email="new.engineer@aralia-grid.example", role="reporter", organisation=energy
    )

    stored = services.process_again(message=stored, actor=analyst)

    assert stored.state == "processed" and stored.incident.title == "Rogue access point"
    with pytest.raises(NotAllowed):
        services.process_again(message=stored, actor=reporter)
    with pytest.raises(ServiceError):
        services.process_again(message=stored, actor=analyst)  # processed already


def test_it_processes_a_message_whose_processing_job_gave_up_from_the_inbox(
    reporter: User, analyst: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = services.receive_message(
        compose(reporter.email, "Wiper on the SCADA historian", "Disks zeroed.").as_bytes()
    )
    with monkeypatch.context() as patch:
        patch.setattr(services.incidents, "report_incident", lambda **kwargs: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            services.process_again(message=stored, actor=analyst)
    stored.refresh_from_db()
    assert stored.state == "received" and not Incident.objects.exists()  # nothing changed

    stored = services.process_again(message=stored, actor=analyst)

    assert stored.state == "processed" and stored.incident.title == "Wiper on the SCADA historian"


def test_it_treats_an_inactive_account_as_an_unknown_sender(reporter: User) -> None:
    reporter.is_active = False
    reporter.save()

    stored = deliver(compose(reporter.email, "Still me", "Hello."))

    assert stored.state == "rejected" and stored.reason.startswith("unknown sender")
    assert not OutboundMessage.objects.exists()


def test_it_names_a_report_without_subject_after_its_sender(reporter: User) -> None:
    deliver(compose(reporter.email, "", "Something odd on our network."))

    assert Incident.objects.get().title == f"E-mail from {reporter.email}"


def test_it_reads_a_body_in_an_unknown_charset_as_far_as_it_can(reporter: User) -> None:
    raw = (
        f"From: {reporter.email}\r\nTo: report@cert.xa.example\r\nSubject: Odd charset\r\n"
        "Message-ID: <odd@aralia-grid.example>\r\nContent-Type: text/plain; charset=x-bogus\r\n\r\n"
        "Scanner hit 10.0.0.0/8\r\n"
    ).encode()

    deliver(raw)

    assert Incident.objects.get().description == "Scanner hit 10.0.0.0/8"


def test_it_refuses_replies_from_anyone_but_the_csirt_and_empty_replies(reporter: User, analyst: User) -> None:
    incident = report(reporter)

    with pytest.raises(NotAllowed):
        services.reply_to_reporter(incident=incident, actor=reporter, body="Hello")
    with pytest.raises(ServiceError, match="body: required"):
        services.reply_to_reporter(incident=incident, actor=analyst, body="  ")
    assert not OutboundMessage.objects.exists()
    assert not incident.timeline.filter(kind="comment").exists()


def test_it_sends_nothing_to_a_reporter_who_may_no_longer_see_the_incident(
    reporter: User, ministry: Any, analyst: User
) -> None:
    incident = report(reporter)
    reporter.organisation = ministry  # she moved to the ministry: the grid's incidents are no longer hers
    reporter.save()

    with pytest.raises(ServiceError, match="grid-reporter may no longer see this incident"):
        services.reply_to_reporter(incident=incident, actor=analyst, body="Hello")
    assert not OutboundMessage.objects.exists()


def test_it_refuses_a_reply_to_a_reporter_without_an_address(reporter: User, analyst: User) -> None:
    reporter.email = ""
    reporter.save()
    incident = report(reporter)

    with pytest.raises(ServiceError, match="grid-reporter has no e-mail address"):
        services.reply_to_reporter(incident=incident, actor=analyst, body="Hello")

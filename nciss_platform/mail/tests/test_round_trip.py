"""The e-mail round trip through real local SMTP servers: report in, reply out, answer back into the timeline.

nciss's own server (``inbound``) receives what reporters send with smtplib; its replies go out
through the outbox to the reporters' mail server (``reporters_mail``). The servers run in threads
of their own, so these tests use committed data (``transaction=True``).
"""

from __future__ import annotations

import datetime as dt
import smtplib
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from nciss_platform import clock
from nciss_platform.accounts.models import User
from nciss_platform.incidents.models import Incident, TimelineEntry
from nciss_platform.mail import services
from nciss_platform.mail.models import InboundMessage, OutboundMessage
from nciss_platform.mail.server import InboundController
from nciss_platform.mail.services import reply_to_reporter
from nciss_platform.mail.tests.conftest import CSIRT_ADDRESS, Mailbox, Send, compose, free_port, header
from nciss_platform.outbox.models import Job
from nciss_platform.outbox.worker import run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_TEXT = "Since 07:40 the HMI in substation 4 shows a ransom note.\nOperators switched to manual control."


def test_it_turns_a_report_into_an_incident_replies_and_takes_the_answer_back_into_the_timeline(
    reporter: User, analyst: User, send: Send, reporters_mail: Mailbox
) -> None:
    report = send(f"Dilnoza Karimova <{reporter.email.upper()}>", "SCADA HMI shows a ransom note", REPORT_TEXT)

    incident = Incident.objects.get()
    assert incident.title == "SCADA HMI shows a ransom note"
    assert incident.description == REPORT_TEXT
    assert incident.created_by == reporter and incident.reporting_organisation == reporter.organisation
    assert incident.tlp == "TLP:AMBER"
    assert incident.timeline.get(kind="reported").data["channel"] == "email"
    stored = InboundMessage.objects.get()
    assert (stored.state, stored.incident, stored.message_id) == ("processed", incident, report["Message-ID"])

    outbound = reply_to_reporter(
        incident=incident, actor=analyst, body="Please isolate the HMI and send us a photo of the note."
    )
    run_due_jobs()

    (reply,) = reporters_mail.messages
    assert reporters_mail.envelopes[0][1] == [reporter.email]
    assert header(reply, "Subject") == f"[{incident.reference}] SCADA HMI shows a ransom note"
    assert header(reply, "Message-ID") == outbound.message_id
    assert header(reply, "In-Reply-To") == report["Message-ID"]
    assert report["Message-ID"] in header(reply, "References")
    assert header(reply, "Reply-To") == CSIRT_ADDRESS
    text = reply.get_content()
    assert "Please isolate the HMI and send us a photo of the note." in text
    assert "Здравствуйте, Dilnoza Karimova!" in text and f"сохранив [{incident.reference}] в теме" in text
    outbound.refresh_from_db()
    assert outbound.state == "sent"

    answer = compose(
        reporter.email,
        f"RE: {reply['Subject']}",
        "The HMI is isolated; the photo follows.\n\nOn Monday, CSIRT wrote:\n> Please isolate the HMI",
        In_Reply_To=header(reply, "Message-ID"),
        References=f"{report['Message-ID']} {reply['Message-ID']}",
    )
    send(answer)

    comments = list(incident.timeline.filter(kind=TimelineEntry.Kind.COMMENT).select_related("author"))
    assert [(c.author, c.body) for c in comments] == [
        (analyst, "Please isolate the HMI and send us a photo of the note."),
        (reporter, "The HMI is isolated; the photo follows."),
    ]
    assert comments[0].data["to"] == reporter.email and comments[1].data["channel"] == "email"
    assert Incident.objects.count() == 1

    second = reply_to_reporter(incident=incident, actor=analyst, body="Thank you. Keep the HMI offline.")
    assert second.in_reply_to == answer["Message-ID"]
    assert second.references.split()[-1] == answer["Message-ID"]


def test_it_matches_an_answer_by_in_reply_to_when_the_subject_lost_the_reference(
    reporter: User, analyst: User, send: Send, reporters_mail: Mailbox
) -> None:
    send(reporter.email, "Phishing wave against our billing staff", "Twelve mails with a fake invoice link.")
    incident = Incident.objects.get()
    reply_to_reporter(incident=incident, actor=analyst, body="Which link did they carry?")
    run_due_jobs()
    (reply,) = reporters_mail.messages

    send(reporter.email, "the link", "hxxps://billing-aralia.example/pay", In_Reply_To=header(reply, "Message-ID"))

    assert Incident.objects.count() == 1
    assert incident.timeline.filter(kind="comment", author=reporter).get().body == "hxxps://billing-aralia.example/pay"


def test_it_stores_a_message_delivered_twice_once(reporter: User, send: Send) -> None:
    message = compose(reporter.email, "DDoS on the customer portal", "Portal down since 10:00.")
    send(message)
    send(message)

    assert InboundMessage.objects.count() == 1
    assert Incident.objects.count() == 1
    assert Incident.objects.get().timeline.filter(kind="reported").count() == 1


def test_it_keeps_a_message_from_an_unknown_sender_without_making_an_incident(
    reporter: User, send: Send, reporters_mail: Mailbox
) -> None:
    send("someone@unknown.example", "Your systems are hacked", "Pay 2 BTC.")

    stored = InboundMessage.objects.get()
    assert stored.state == "rejected" and stored.incident is None
    assert stored.reason == "unknown sender someone@unknown.example: no active user has this e-mail address"
    assert b"Pay 2 BTC." in bytes(stored.raw)
    assert not Incident.objects.exists()
    run_due_jobs()
    assert reporters_mail.messages == []  # an unknown sender is never written to


def test_it_refuses_a_comment_on_an_incident_the_sender_may_not_see(
    reporter: User, ministry_reporter: User, send: Send, reporters_mail: Mailbox
) -> None:
    send(reporter.email, "Substation 7 offline", "Breaker tripped remotely.")
    incident = Incident.objects.get()
    before = list(incident.timeline.values_list("pk", flat=True))

    send(ministry_reporter.email, f"Re: [{incident.reference}] Substation 7 offline", "We saw the same!")

    rejected = InboundMessage.objects.get(sender=ministry_reporter.email)
    assert rejected.state == "rejected" and rejected.incident is None
    assert rejected.reason == f"{incident.reference} is not an incident you may see"
    assert list(incident.timeline.values_list("pk", flat=True)) == before
    run_due_jobs()
    (notice,) = reporters_mail.messages  # the known sender is told, without learning whether it exists
    assert notice["To"] == ministry_reporter.email
    assert f"{incident.reference} is not an incident you may see" in notice.get_content()
    assert "Breaker tripped remotely" not in notice.get_content()


def test_it_sends_a_retried_reply_with_the_same_message_id_and_text(
    reporter: User, analyst: User, send: Send, reporters_mail: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(reporter.email, "Malware on a workstation", "EDR alert on WS-114.")
    incident = Incident.objects.get()
    with clock.frozen(clock.now() - dt.timedelta(hours=1)):  # written an hour before it goes out
        outbound = reply_to_reporter(incident=incident, actor=analyst, body="Please keep WS-114 powered on.")
    calls: list[Any] = []
    original = Mailbox.handle_DATA

    async def busy_once(self: Mailbox, server: Any, session: Any, envelope: Any) -> str:
        calls.append(envelope.original_content)
        if len(calls) == 1:
            return "451 4.3.0 Busy, try later"
        return await original(self, server, session, envelope)

    monkeypatch.setattr(Mailbox, "handle_DATA", busy_once)
    run_due_jobs()
    outbound.refresh_from_db()
    assert outbound.state == "pending" and "451" in outbound.error and reporters_mail.messages == []

    job = Job.objects.get(key=f"{services.SEND}:{outbound.pk}")
    run_due_jobs(job.run_after)
    outbound.refresh_from_db()
    assert outbound.state == "sent"
    first, second = calls
    assert first == second  # the very same message, Message-ID and Date included
    assert header(reporters_mail.messages[0], "Message-ID") == outbound.message_id
    sent_date = parsedate_to_datetime(header(reporters_mail.messages[0], "Date"))
    assert sent_date == outbound.created_at.replace(microsecond=0)

    run_due_jobs(job.run_after)  # nothing left to send: the reporter gets it once
    assert len(reporters_mail.messages) == 1


def test_it_receives_over_lmtp(reporter: User, settings: Any) -> None:
    controller = InboundController(host="127.0.0.1", port=free_port(), lmtp=True)
    controller.start()
    try:
        with smtplib.LMTP(controller.hostname, controller.port, timeout=30) as client:
            refused = client.send_message(
                compose(reporter.email, "Defaced website", "The home page shows a political slogan."),
                to_addrs=[CSIRT_ADDRESS, "soc@cert.xa.example"],
            )
            second_recipient = client.getreply()  # LMTP answers DATA once per recipient (smtplib reads one)
    finally:
        controller.stop()

    assert refused == {} and second_recipient[0] == 250
    stored = InboundMessage.objects.get()
    assert stored.recipients == [CSIRT_ADDRESS, "soc@cert.xa.example"]
    assert stored.incident == Incident.objects.get(title="Defaced website")


def test_it_refuses_a_message_over_the_size_limit_during_the_transfer(reporter: User, settings: Any) -> None:
    settings.NCISS_MAIL_MAX_BYTES = 4096
    controller = InboundController(host="127.0.0.1", port=free_port())
    controller.start()
    try:
        with (
            smtplib.SMTP(controller.hostname, controller.port, timeout=30) as client,
            pytest.raises(smtplib.SMTPException) as refused,
        ):
            client.send_message(compose(reporter.email, "Huge log", "x" * 10_000))
    finally:
        controller.stop()

    assert getattr(refused.value, "smtp_code", None) == 552
    assert not InboundMessage.objects.exists()


def test_it_answers_try_later_when_the_message_cannot_be_stored(
    reporter: User, send: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(*args: Any, **kwargs: Any) -> InboundMessage:
        raise OSError("database unreachable")

    monkeypatch.setattr(services, "receive_message", database_down)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(reporter.email, "Outage", "All down.")

    assert refused.value.smtp_code == 451  # the sending server keeps the message and tries again
    assert not InboundMessage.objects.exists()


def test_it_keeps_a_stored_message_whose_processing_failed_and_processes_it_later(
    reporter: User, send: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    def assessment_broken(**kwargs: Any) -> Incident:
        raise RuntimeError("the scale cannot be loaded")

    with monkeypatch.context() as patch:
        patch.setattr(services.incidents, "report_incident", assessment_broken)
        send(reporter.email, "Credential stuffing on the portal", "3000 failed logins a minute.")
    stored = InboundMessage.objects.get()
    assert stored.state == "received" and not Incident.objects.exists()

    run_due_jobs()

    stored.refresh_from_db()
    assert stored.state == "processed"
    assert stored.incident == Incident.objects.get(title="Credential stuffing on the portal")


def test_it_answers_nothing_twice_when_the_worker_and_the_server_both_process(reporter: User, send: Send) -> None:
    send(reporter.email, "Ransomware at the billing centre", "Files renamed to .lockbit.")
    run_due_jobs()  # the queued processing job finds the message processed already

    assert Incident.objects.count() == 1
    assert OutboundMessage.objects.count() == 0

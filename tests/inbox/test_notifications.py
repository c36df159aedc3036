"""Inbox items and their emails: who is told of a case event, that the item
comes with the event and the email after commit, and that no email goes twice
however the tasks are retried or swept."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbox import tasks
from inbox.models import Notification
from review import workflow
from review.models import CaseEvent
from review.tasks import overdue_reminders_send
from submissions.models import Case
from tests.review.factories import committed, decide, draft

pytestmark = pytest.mark.django_db


def recipients_of(event):
    return sorted(
        Notification.objects.filter(event=event).values_list(
            "recipient__username", flat=True
        )
    )


def mailed_to(mailoutbox):
    return sorted(address for mail in mailoutbox for address in mail.to)


class WhoHearsWhatTests:
    def test_arrival_at_a_stage_tells_its_reviewers(self, who, mailoutbox):
        case = draft(who)
        with committed():
            event = workflow.case_submit(case=case, acting_user=who.secretary)
        assert recipients_of(event) == ["reviewer1"]
        assert mailed_to(mailoutbox) == ["reviewer1@example.org"]
        with committed():
            event = decide(case, "approve", who.reviewer1, comment="")
        assert recipients_of(event) == ["reviewer2"]

    def test_return_tells_the_secretary_and_the_last_editor(self, who, mailoutbox):
        case = draft(who)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        mailoutbox.clear()
        with committed():
            event = decide(case, "return", who.reviewer1, comment="请补充数据")
        assert recipients_of(event) == ["correspondent", "secretary"]
        assert mailed_to(mailoutbox) == [
            "correspondent@example.org",
            "secretary@example.org",
        ]
        assert "请补充数据" in mailoutbox[0].body

    def test_reject_tells_the_branch(self, who):
        case = draft(who)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        with committed():
            event = decide(case, "reject", who.reviewer1, comment="不符合要求")
        assert recipients_of(event) == ["correspondent", "secretary"]

    def test_final_approval_tells_the_branch_and_the_editors(self, who):
        case = draft(who)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        with committed():
            decide(case, "approve", who.reviewer1, comment="")
        with committed():
            event = decide(case, "approve", who.reviewer2, comment="")
        assert recipients_of(event) == ["correspondent", "editor", "secretary"]

    def test_the_actor_is_not_told_of_their_own_action(self, who):
        case = draft(who)
        who.reviewer1.groups.add(*who.reviewer2.groups.all())
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        with committed():
            event = decide(case, "approve", who.reviewer1, comment="")
        assert "reviewer1" not in recipients_of(event)

    def test_nothing_is_sent_when_the_transaction_rolls_back(
        self, who, mailoutbox, django_capture_on_commit_callbacks
    ):
        case = draft(who)
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            workflow.case_submit(case=case, acting_user=who.secretary)
            raise RuntimeError("something later in the request failed")
        assert callbacks == []
        assert mailoutbox == []
        assert not Notification.objects.exists()
        case.refresh_from_db()
        assert case.status == Case.Status.DRAFT

    def test_the_inbox_item_comes_with_the_event_and_the_email_after_commit(
        self, who, mailoutbox, django_capture_on_commit_callbacks
    ):
        case = draft(who)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            event = workflow.case_submit(case=case, acting_user=who.secretary)
        assert recipients_of(event) == ["reviewer1"]
        assert len(callbacks) == 2  # the emails, then the text check's task
        assert mailoutbox == []


class IdempotencyTests:
    def test_the_sweep_sends_what_was_never_queued_and_nothing_twice(
        self, who, mailoutbox
    ):
        case = draft(who)
        # The broker is down when the submission commits: the email task
        # cannot be queued, and the request carries on.
        with (
            mock.patch.object(
                tasks.notification_email_send,
                "delay",
                side_effect=OSError("broker unreachable"),
            ),
            committed(),
        ):
            event = workflow.case_submit(case=case, acting_user=who.secretary)
        notification = Notification.objects.get(event=event)
        assert mailoutbox == []
        # Too fresh for the sweep: its own task may still be on the way.
        assert tasks.notification_emails_sweep.delay().get() == 0
        Notification.objects.filter(pk=notification.pk).update(
            created_at=timezone.now() - timedelta(minutes=5)
        )
        assert tasks.notification_emails_sweep.delay().get() == 1
        assert mailed_to(mailoutbox) == ["reviewer1@example.org"]
        assert tasks.notification_emails_sweep.delay().get() == 0
        assert len(mailoutbox) == 1

    def test_the_sweep_leaves_old_news_and_addressless_users_alone(
        self, who, mailoutbox
    ):
        who.reviewer2.email = ""
        who.reviewer2.save()
        case = draft(who)
        with mock.patch.object(
            tasks.notification_email_send, "delay", side_effect=OSError("down")
        ):
            with committed():
                workflow.case_submit(case=case, acting_user=who.secretary)
            with committed():
                decide(case, "approve", who.reviewer1, comment="")
        first, second = Notification.objects.order_by("pk")
        assert second.recipient == who.reviewer2
        Notification.objects.filter(pk=first.pk).update(
            created_at=timezone.now() - timedelta(days=2)
        )
        Notification.objects.filter(pk=second.pk).update(
            created_at=timezone.now() - timedelta(minutes=5)
        )
        assert tasks.notification_emails_sweep.delay().get() == 0
        assert mailoutbox == []

    def test_the_sweep_is_on_the_beat_schedule(self):
        entries = settings.CELERY_BEAT_SCHEDULE.values()
        assert "inbox.tasks.notification_emails_sweep" in [e["task"] for e in entries]

    def test_a_rerun_of_the_email_task_does_not_mail_twice(self, who, mailoutbox):
        case = draft(who)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        notification = Notification.objects.get()
        tasks.notification_email_send.delay(notification.pk)
        assert len(mailoutbox) == 1
        notification.refresh_from_db()
        assert notification.emailed_at is not None

    def test_a_failing_mail_server_is_retried_and_mails_once(self, who, mailoutbox):
        down = smtplib.SMTPServerDisconnected("the mail server went away")
        with mock.patch.object(tasks, "send_mail", side_effect=down), committed():
            # The request that submitted is not disturbed by the mail server.
            workflow.case_submit(case=draft(who), acting_user=who.secretary)
        notification = Notification.objects.get()
        assert notification.emailed_at is None
        with (
            mock.patch.object(tasks, "send_mail", side_effect=down),
            pytest.raises(Retry),
        ):
            tasks.notification_email_send.delay(notification.pk)
        assert tasks.notification_email_send.retry_backoff is True
        # The retry, once the server is back: one email, and only one.
        tasks.notification_email_send.delay(notification.pk)
        tasks.notification_email_send.delay(notification.pk)
        assert mailed_to(mailoutbox) == ["reviewer1@example.org"]

    def test_users_without_email_get_the_inbox_item_only(self, who, mailoutbox):
        who.reviewer1.email = ""
        who.reviewer1.save()
        with committed():
            workflow.case_submit(case=draft(who), acting_user=who.secretary)
        assert Notification.objects.filter(recipient=who.reviewer1).count() == 1
        assert mailoutbox == []


class AuditEventActionTests:
    def test_withdrawal_tells_the_reviewers_it_left_their_queue(self, who):
        case = draft(who)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        with committed():
            event = workflow.case_withdraw(case=case, acting_user=who.secretary)
        assert event.action == CaseEvent.Action.WITHDRAW
        assert recipients_of(event) == ["reviewer1"]


TRICKY_TITLE = '“A&B” <x> "q"'


class EmailTextTests:
    """Emails are plain text: what the title says, they say, character for character."""

    def test_subject_and_body_carry_the_title_as_typed(self, who, mailoutbox):
        with committed():
            workflow.case_submit(
                case=draft(who, title=TRICKY_TITLE), acting_user=who.secretary
            )
        (mail,) = mailoutbox
        assert mail.subject == f"【案例】{TRICKY_TITLE}:已提交"
        assert TRICKY_TITLE in mail.body
        for escaped in ("&amp;", "&quot;", "&lt;", "&gt;", "&#x27;", "<bdi>"):
            assert escaped not in mail.subject + mail.body

    def test_the_reminder_subject_is_plain_too(self, who, mailoutbox):
        case = draft(who, title=TRICKY_TITLE)
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        Case.objects.filter(pk=case.pk).update(
            stage_due_at=timezone.now() - timedelta(hours=1)
        )
        mailoutbox.clear()
        with committed():
            overdue_reminders_send.delay()
        assert [mail.subject for mail in mailoutbox] == [
            f"【案例】超期提醒：{TRICKY_TITLE}"
        ]

    def test_a_subject_is_one_line(self, who, mailoutbox):
        case = draft(who)
        # A title that came in around the form, say from the shell.
        Case.objects.filter(pk=case.pk).update(title="第一行\r\n第二行")
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        (mail,) = mailoutbox
        assert mail.subject == "【案例】第一行 第二行:已提交"

    def test_bidi_controls_never_reach_the_email(self, who, mailoutbox):
        case = draft(who)
        # Stored before titles were cleaned on save.
        Case.objects.filter(pk=case.pk).update(title="标题\u202e反转")
        with committed():
            workflow.case_submit(case=case, acting_user=who.secretary)
        (mail,) = mailoutbox
        assert "\u202e" not in mail.subject + mail.body
        assert "标题反转" in mail.subject
        assert "标题反转" in mail.body

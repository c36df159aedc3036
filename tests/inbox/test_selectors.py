"""The inbox's reads: each user's own notifications, and how many are unread."""

import pytest

from inbox.models import Notification
from inbox.selectors import notifications_for, unread_count
from tests.review.factories import case_in_state

pytestmark = pytest.mark.django_db


class NotificationsForTests:
    def test_each_user_reads_only_their_own(self, who):
        case_in_state(who, "returned")
        mine = notifications_for(user=who.secretary)
        assert mine.exists()
        assert {n.recipient_id for n in mine} == {who.secretary.pk}
        assert unread_count(user=who.secretary) == mine.count()
        assert not notifications_for(user=who.other_secretary).exists()
        Notification.objects.filter(pk=mine.first().pk).update(
            read_at=mine[0].created_at
        )
        assert unread_count(user=who.secretary) == mine.count() - 1

    def test_what_a_line_shows_costs_one_query_however_many(
        self, who, django_assert_num_queries
    ):
        for _ in range(6):
            case_in_state(who, "returned")
        with django_assert_num_queries(1):
            lines = [
                (n.case.title, n.event.actor, n.event.stage, n.campaign)
                for n in notifications_for(user=who.secretary)
            ]
        assert len(lines) >= 6

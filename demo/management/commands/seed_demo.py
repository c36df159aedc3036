from datetime import timedelta
from unittest import mock

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from authoring.services import CaseContent, case_create
from campaigns.models import Campaign
from campaigns.services import campaign_save
from demo import demo
from review import workflow as review
from review.setup import default_roles_ensure
from showcase.models import Series
from showcase.selectors import upcoming_slots
from showcase.services import issue_plan, issues_publish_due
from submissions.models import Branch, Case, Membership, Theme


class Command(BaseCommand):
    help = "Build the demo department: organisations, accounts, cases. Safe to rerun."

    # The demo's inbox items are made as usual; their emails are not sent.
    @override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    @transaction.atomic
    def handle(self, *args, **options):
        default_roles_ensure(apps)
        themes = self._themes()
        branches = self._branches()
        users = self._accounts(branches)
        series = self._series()
        campaign = self._campaign(series, users["editor1"])
        created = self._cases(users, themes, campaign)
        issues = self._showcase(series, users["editor1"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(branches)} organisations, "
                f"{len(users)} accounts, {created} new case(s), "
                f"{issues} new issue(s)."
            )
        )

    def _themes(self):
        themes = {}
        for position, name in enumerate(demo.THEMES):
            themes[name], _ = Theme.objects.get_or_create(
                name=name, defaults={"position": position}
            )
        return themes

    def _branches(self):
        branches = {}
        for name, kind, parent_name in demo.BRANCHES:
            branches[name], _ = Branch.objects.get_or_create(
                name=name,
                defaults={"kind": kind, "parent": branches.get(parent_name)},
            )
        return branches

    def _accounts(self, branches):
        User = get_user_model()
        users = {}
        for username, (
            full_name,
            branch_name,
            role,
            groups,
            is_staff,
        ) in demo.ACCOUNTS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=full_name,
                    email=f"{username}@example.org",
                    is_staff=is_staff,
                    is_superuser=is_staff,
                )
                user.set_password(demo.DEMO_PASSWORD)
                user.save()
            if branch_name:
                Membership.objects.get_or_create(
                    user=user, branch=branches[branch_name], defaults={"role": role}
                )
            for group_name in groups:
                user.groups.add(Group.objects.get_or_create(name=group_name)[0])
            users[username] = user
        return users

    def _series(self):
        series, _ = Series.objects.get_or_create(
            slug=demo.SERIES["slug"],
            defaults={
                key: value for key, value in demo.SERIES.items() if key != "slug"
            },
        )
        return series

    def _campaign(self, series, editor):
        """This year's call, open for the past weeks and the next ten days."""
        campaign = Campaign.objects.filter(title=demo.CAMPAIGN["title"]).first()
        if campaign is not None:
            return campaign
        today = timezone.localdate()
        return campaign_save(
            acting_user=editor,
            title=demo.CAMPAIGN["title"],
            description=demo.CAMPAIGN["description"],
            series=series,
            opens_on=today - timedelta(days=demo.HISTORY_DAYS),
            closes_on=today + timedelta(days=10),
        )

    def _cases(self, users, themes, campaign):
        created = 0
        # The demo's story took place over the past weeks: a case every three
        # days, a step of it every one to two and a half days, so queues,
        # overdue cases and the statistics look as they would in use.
        started = timezone.now() - timedelta(days=demo.HISTORY_DAYS - 3)
        for index, spec in enumerate(demo.CASES):
            writer = users[spec["writer"]]
            branch = writer.memberships.get().branch
            if Case.objects.filter(branch=branch, title=spec["title"]).exists():
                continue
            case = case_create(
                branch=branch,
                acting_user=writer,
                content=CaseContent(
                    title=spec["title"],
                    tagline=spec["tagline"],
                    author_name=spec["author_name"],
                    lead=spec["lead"],
                    body=spec["body"],
                    themes=[themes[name] for name in spec["themes"]],
                    campaign=campaign,
                ),
            )
            secretary = branch.memberships.get(role=Membership.Role.SECRETARY).user
            moment = started + timedelta(days=3 * index)
            for number, step in enumerate(spec["steps"]):
                moment += timedelta(hours=18 + 11 * ((index + number) % 4))
                with mock.patch("django.utils.timezone.now", return_value=moment):
                    self._step(case, step, secretary, users)
            created += 1
        return created

    def _step(self, case, step, secretary, users):
        action, *rest = step
        case.refresh_from_db()
        if action == "submit":
            review.case_submit(case=case, acting_user=secretary)
        elif action == "resubmit":
            review.case_resubmit(case=case, acting_user=secretary)
        elif action == "withdraw":
            review.case_withdraw(case=case, acting_user=secretary, comment=rest[0])
        else:
            reviewer, comment = users[rest[0]], rest[1]
            decide = {
                "approve": review.case_approve,
                "return": review.case_return,
                "reject": review.case_reject,
            }[action]
            decide(
                case=case,
                acting_user=reviewer,
                stage=case.current_stage,
                revision=case.revisions.order_by("-number").first(),
                comment=comment,
            )

    def _showcase(self, series, editor) -> int:
        """Three issues already out and one planned for the next slot."""
        if series.issues.exists():
            return 0
        next_slot = upcoming_slots(series=series, count=1)[0]
        weeks_back = len(demo.PUBLISHED_ISSUES)
        plans = [
            (next_slot - timedelta(weeks=weeks_back - index), titles)
            for index, titles in enumerate(demo.PUBLISHED_ISSUES)
        ]
        plans.append((next_slot, demo.PLANNED_ISSUE))
        for scheduled_at, titles in plans:
            issue_plan(
                series=series,
                scheduled_at=scheduled_at,
                acting_user=editor,
                cases=[Case.objects.get(title=title) for title in titles],
            )
        # The schedule publishes the past weeks' issues, as the beat task would.
        issues_publish_due()
        return len(plans)

"""The data `make load` runs against: a published series for the readers, and
branches whose secretaries write and submit cases while the readers read.

Written directly, like `bench_data`: the people and organisations are set-up
data, and the load run itself makes every case through the site.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from review.models import ReviewStage
from submissions.models import Branch, Membership

LOAD_PASSWORD = "casehub-load"  # noqa: S105 - published in the README


class Command(BaseCommand):
    help = "Write a published series and branch secretaries, for `make load`."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=200)
        parser.add_argument("--issues", type=int, default=50)
        parser.add_argument("--secretaries", type=int, default=10)
        parser.add_argument("--password", default=LOAD_PASSWORD)

    @transaction.atomic
    def handle(self, *args, cases, issues, secretaries, password, **options):
        call_command("bench_data", cases=cases, issues=issues, stdout=self.stdout)
        User = get_user_model()
        # One hash for every account: hashing is slow on purpose.
        password_hash = make_password(password)
        committee = Branch.objects.get(name="基准测试党委")
        for n in range(1, secretaries + 1):
            branch, _ = Branch.objects.get_or_create(
                name=f"压力测试第{n}党支部",
                defaults={"kind": Branch.Kind.BRANCH, "parent": committee},
            )
            user, _ = User.objects.update_or_create(
                username=f"load-secretary-{n}",
                defaults={"password": password_hash, "first_name": f"书记{n}"},
            )
            Membership.objects.get_or_create(
                user=user, branch=branch, defaults={"role": Membership.Role.SECRETARY}
            )
        # A reviewer at the first stage, with an email address: every submission
        # gives the Celery worker an inbox item to make and an email to send.
        group = (
            ReviewStage.objects.filter(is_active=True)
            .order_by("position")
            .first()
            .reviewer_group
        )
        reviewer, _ = User.objects.update_or_create(
            username="load-reviewer",
            defaults={"password": password_hash, "email": "load-reviewer@localhost"},
        )
        reviewer.groups.add(group)
        self.stdout.write(
            f"load data: {secretaries} branch secretaries, reviewer in {group.name}"
        )

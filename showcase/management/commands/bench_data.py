"""A large published showcase for the benchmark, written in bulk.

The benchmark measures reading, so the data is written directly rather than
through the workflow services, which would take minutes for 2,000 cases.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from showcase.models import Issue, IssueCase, Series, ViewCount
from submissions.models import Branch, Case, CaseRevision, Theme

BODY = (
    "<h2>一、筑基</h2><p>一是加强组织建设；二是规范组织生活；三是压实工作责任。</p>"
    "<h2>二、创新</h2><p>一是设立党员先锋岗；二是开展揭榜挂帅；三是推动成果转化。</p>"
    "<h2>三、暖心</h2><p>一是坚持谈心谈话；二是关心青年成长；三是解决急难愁盼。</p>"
) * 4


class Command(BaseCommand):
    help = "Write a published series of many issues and cases, for `make bench`."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=2000)
        parser.add_argument("--issues", type=int, default=500)

    @transaction.atomic
    def handle(self, *args, cases, issues, **options):
        User = get_user_model()
        author, _ = User.objects.get_or_create(username="bench-author")
        editor, _ = User.objects.get_or_create(username="bench-editor")
        committee, _ = Branch.objects.get_or_create(
            name="基准测试党委", defaults={"kind": Branch.Kind.COMMITTEE}
        )
        branches = [
            Branch.objects.get_or_create(
                name=f"基准测试第{n}党支部",
                defaults={"kind": Branch.Kind.BRANCH, "parent": committee},
            )[0]
            for n in range(1, 21)
        ]
        themes = [Theme.objects.get_or_create(name=f"基准主题{n}")[0] for n in range(5)]
        series, _ = Series.objects.get_or_create(
            slug="bench",
            defaults={
                "title": "「党建引领」系列案例展播",
                "name": "党建引领",
                "column": "基层党建",
                "editors_note": "<p>基准测试用编者按。</p>",
            },
        )
        start = timezone.now() - datetime.timedelta(weeks=issues)
        new_cases = Case.objects.bulk_create(
            Case(
                branch=branches[n % len(branches)],
                title=f"党建引领案例第{n}篇",
                tagline="筑基·创新·暖心",
                author_name="张三",
                lead="支部以高质量党建引领高质量发展，推动党建与业务深度融合。" * 2,
                body=BODY,
                status=Case.Status.PUBLISHED,
                created_by=author,
                last_edited_by=author,
                published_at=start + datetime.timedelta(weeks=n * issues // cases),
            )
            for n in range(cases)
        )
        CaseRevision.objects.bulk_create(
            CaseRevision(
                case=case,
                number=1,
                branch_name=case.branch.name,
                title=case.title,
                tagline=case.tagline,
                author_name=case.author_name,
                source=case.branch.name,
                lead=case.lead,
                body=case.body,
                submitted_by=author,
            )
            for case in new_cases
        )
        Case.themes.through.objects.bulk_create(
            Case.themes.through(case_id=case.pk, theme_id=themes[i % 5].pk)
            for i, case in enumerate(new_cases)
        )
        ViewCount.objects.bulk_create(
            ViewCount(case=case, count=i % 997) for i, case in enumerate(new_cases)
        )
        first_number = (
            Issue.objects.filter(series=series)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
            or 0
        )
        per_issue = max(1, cases // issues)
        new_issues = []
        for index in range(issues):
            chunk = new_cases[index * per_issue : (index + 1) * per_issue]
            published = start + datetime.timedelta(weeks=index)
            new_issues.append(
                Issue(
                    series=series,
                    number=first_number + index + 1,
                    status=Issue.Status.PUBLISHED,
                    scheduled_at=published,
                    published_at=published,
                    created_by=editor,
                    summary=[
                        {
                            "id": case.pk,
                            "title": case.title,
                            "tagline": case.tagline,
                            "branch": case.branch.name,
                        }
                        for case in chunk
                    ],
                )
            )
        Issue.objects.bulk_create(new_issues)
        IssueCase.objects.bulk_create(
            IssueCase(issue=issue, case_id=item["id"], position=position)
            for issue in new_issues
            for position, item in enumerate(issue.summary, start=1)
        )
        self.stdout.write(
            f"bench data: {len(new_cases)} cases in {len(new_issues)} issues"
        )

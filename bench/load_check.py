"""make load, the database side.

`snapshot PLAN`: before the run, the published cases and issues the readers
may read, with each case's view count as it stands.
`check PLAN REPORT`: after the run and after the Celery worker has drained,
folds the counted reads into the database and compares what PostgreSQL holds
with what the load client sent and saw. Prints name=value lines; exits 1 when
anything was lost, duplicated, miscounted, the client saw a 5xx or an error,
or nginx answered no case page from the published copy (the run then never
tried the beacons' counting).
"""

import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")

import django

django.setup()

from django.db.models import Count, Q  # noqa: E402

from inbox.models import Notification  # noqa: E402
from review.models import CaseEvent  # noqa: E402
from showcase.counter import views_fold, views_pending  # noqa: E402
from showcase.models import Issue, IssueCase, ViewCount  # noqa: E402
from submissions.models import Case  # noqa: E402

SERIES = "bench"
REVIEWER = "load-reviewer"


def _view_counts(case_ids) -> dict[int, int]:
    stored = dict(
        ViewCount.objects.filter(case_id__in=case_ids).values_list("case_id", "count")
    )
    return {case_id: stored.get(case_id, 0) for case_id in case_ids}


def snapshot(plan_path: str) -> int:
    case_ids = sorted(
        IssueCase.objects.filter(
            case__status=Case.Status.PUBLISHED,
            issue__status=Issue.Status.PUBLISHED,
            issue__series__slug=SERIES,
        )
        .values_list("case_id", flat=True)
        .distinct()
    )
    numbers = sorted(
        Issue.objects.filter(
            series__slug=SERIES, status=Issue.Status.PUBLISHED
        ).values_list("number", flat=True)
    )
    before = _view_counts(case_ids)
    pending = {case_id: views_pending(case_id) for case_id in case_ids}
    plan = {
        "series": SERIES,
        "cases": case_ids,
        "issues": numbers,
        "views_before": {
            str(case_id): n + pending[case_id] for case_id, n in before.items()
        },
    }
    Path(plan_path).write_text(json.dumps(plan))
    print(f"load_cases={len(case_ids)}")
    print(f"load_issues={len(numbers)}")
    return 0


def _writes(report) -> dict[str, int]:
    """Cases and submissions: what the client was told against the database."""
    sent = report["writes"]
    prefix = f"压测{report['run']}-"
    rows = list(
        Case.objects.filter(title__startswith=prefix)
        .annotate(
            submits=Count("events", filter=Q(events__action=CaseEvent.Action.SUBMIT))
        )
        .values_list("pk", "title", "status", "submits")
    )
    by_title: dict[str, list] = {}
    for row in rows:
        by_title.setdefault(row[1], []).append(row)
    by_id = {row[0]: row for row in rows}

    lost = 0
    submissions_lost = 0
    for record in sent:
        if not record["saved"]:
            continue
        row = by_id.get(record["case_id"])
        # The id the site answered with must hold the title that was sent.
        if row is None or row[1] != record["title"]:
            lost += 1
            continue
        if record["submitted"] and (row[2] != Case.Status.IN_REVIEW or row[3] != 1):
            submissions_lost += 1
    submitted_ids = [row[0] for row in rows if row[3] > 0]
    notified = set(
        Notification.objects.filter(
            event__case_id__in=submitted_ids,
            event__action=CaseEvent.Action.SUBMIT,
            recipient__username=REVIEWER,
        ).values_list("event__case_id", flat=True)
    )
    return {
        "writes_in_db": len(rows),
        "submissions_in_db": sum(
            1 for row in rows if row[2] == Case.Status.IN_REVIEW and row[3] == 1
        ),
        "lost": lost,
        "duplicated": sum(len(found) - 1 for found in by_title.values()),
        "unsent_titles_in_db": len(set(by_title) - {w["title"] for w in sent}),
        "submissions_lost": submissions_lost,
        "submissions_duplicated": sum(1 for row in rows if row[3] > 1),
        "notifications_missing": len(set(submitted_ids) - notified),
        "emails_unsent": Notification.objects.filter(
            case_id__in=submitted_ids, emailed_at__isnull=True
        )
        .exclude(recipient__email="")
        .count(),
    }


def _views(plan, report) -> dict[str, int]:
    """Reads counted against distinct (visitor, case) pairs the readers got."""
    views_fold()
    before = {int(case_id): n for case_id, n in plan["views_before"].items()}
    now = _view_counts(list(before))
    pending = {case_id: views_pending(case_id) for case_id in before}
    counted = {
        case_id: now[case_id] + pending[case_id] - before[case_id] for case_id in before
    }
    expected = Counter(
        {int(case_id): n for case_id, n in report["views_expected"].items()}
    )
    return {
        "views_expected": sum(expected.values()),
        "views_counted": sum(counted.values()),
        "views_pending_left": sum(pending.values()),
        "views_mismatched_cases": sum(
            1 for case_id in before if counted[case_id] != expected[case_id]
        ),
    }


def check(plan_path: str, report_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    report = json.loads(Path(report_path).read_text())
    figures = {**_writes(report), **_views(plan, report)}
    for name, value in figures.items():
        print(f"{name}={value}")
    client = report["figures"]
    failed = [
        name
        for name, bad in (
            ("http_5xx", client["http_5xx"] > 0),
            ("errors", client["errors"] > 0),
            ("lost", figures["lost"] > 0),
            ("duplicated", figures["duplicated"] > 0),
            ("submissions_lost", figures["submissions_lost"] > 0),
            ("submissions_duplicated", figures["submissions_duplicated"] > 0),
            ("notifications_missing", figures["notifications_missing"] > 0),
            ("emails_unsent", figures["emails_unsent"] > 0),
            ("views", figures["views_mismatched_cases"] > 0),
            ("views", figures["views_counted"] != figures["views_expected"]),
            (
                "copy_unused",
                client["case_reads"] > 0 and client["load_case_reads_from_copy"] == 0,
            ),
        )
        if bad
    ]
    print(f"load_failed={','.join(dict.fromkeys(failed)) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    command, *paths = sys.argv[1:] or ["help"]
    if command == "snapshot" and len(paths) == 1:
        sys.exit(snapshot(*paths))
    if command == "check" and len(paths) == 2:
        sys.exit(check(*paths))
    sys.exit(__doc__)

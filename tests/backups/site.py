"""A CaseHub site of its own for the round trip, driven as a separate process:
`python -m tests.backups.site seed|write|summary`, with DATABASE_URL,
MEDIA_ROOT and EXPORT_ROOT in the environment.

seed      the demo department, an uploaded image, a built Word export and
          counted reads; prints what the test needs as JSON
write     edits a draft through the authoring service again and again, one
          line in the log after each commit, until the stop file appears
summary   prints the database's per-table counts and checksums as JSON
create    writes a new case and plans a new issue through the services, as
          the restored site's first new rows; prints their ids and the
          highest ids before them as JSON
"""

import datetime
import io
import json
import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from PIL import Image  # noqa: E402

from authoring.services import (  # noqa: E402
    CaseContent,
    case_create,
    case_update,
    editor_image_store,
)
from backups.summary import database_summary  # noqa: E402
from exports.models import ExportJob  # noqa: E402
from exports.services import export_request  # noqa: E402
from review.models import CaseEvent  # noqa: E402
from showcase.counter import view_register, views_fold  # noqa: E402
from showcase.models import Issue, Series, ShowcaseEvent  # noqa: E402
from showcase.services import issue_plan  # noqa: E402
from submissions.models import Case, Membership  # noqa: E402

DRAFT_WRITER = "secretary1"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def seed() -> dict:
    call_command("seed_demo", verbosity=0)
    users = get_user_model().objects
    editor_image_store(
        upload=SimpleUploadedFile("photo.png", _png(), content_type="image/png"),
        acting_user=users.get(username="secretary1"),
    )
    issue = Issue.objects.filter(status=Issue.Status.PUBLISHED).order_by("pk").first()
    job = export_request(
        kind=ExportJob.Kind.ISSUE,
        object_id=issue.pk,
        acting_user=users.get(username="editor1"),
    )
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error_message
    case = issue.cases.order_by("pk").first()
    case_url = reverse("showcase:case", args=[case.pk])
    factory = RequestFactory()
    for reader in range(7):
        request = factory.get(
            case_url,
            REMOTE_ADDR=f"10.0.0.{reader + 1}",
            HTTP_USER_AGENT=f"Reader/{reader}",
        )
        view_register(case_id=case.pk, request=request)
    views_fold()
    draft = Case.objects.filter(
        status=Case.Status.DRAFT, created_by__username=DRAFT_WRITER
    ).first()
    return {
        "case_url": case_url,
        "issue_url": issue.get_absolute_url(),
        "draft_id": draft.pk,
        "draft_version": draft.version,
    }


def write(*, draft_id: int, log: Path, stop: Path) -> None:
    writer = get_user_model().objects.get(username=DRAFT_WRITER)
    saves = 0
    with log.open("a") as out:
        while not stop.exists():
            case = Case.objects.get(pk=draft_id)
            saves += 1
            case_update(
                case=case,
                acting_user=writer,
                expected_version=case.version,
                content=CaseContent(
                    title=f"{case.title.split(' · ')[0]} · {saves}",
                    lead=case.lead,
                    body=case.body,
                    themes=list(case.themes.all()),
                ),
            )
            out.write(f"{case.version + 1}\n")
            out.flush()
            time.sleep(0.01)


def create() -> dict:
    """New rows in every table a first day's work writes to, after the
    restore: each gets an id above the archive's (the sequences came back)."""
    users = get_user_model().objects
    highest = {
        model.__name__: model.objects.order_by("-pk").values_list("pk", flat=True)[0]
        for model in (Case, Issue, ShowcaseEvent, CaseEvent)
    }
    writer = users.get(username=DRAFT_WRITER)
    draft = Case.objects.filter(created_by=writer).order_by("pk").first()
    case = case_create(
        branch=Membership.objects.filter(user=writer).first().branch,
        acting_user=writer,
        content=CaseContent(
            title="恢复后的第一篇案例", lead="导语", body="<p>正文</p>"
        ),
    )
    case_update(
        case=draft,
        acting_user=writer,
        expected_version=draft.version,
        content=CaseContent(title=draft.title, lead=draft.lead, body=draft.body),
    )
    issue = issue_plan(
        series=Series.objects.order_by("pk").first(),
        scheduled_at=timezone.now() + datetime.timedelta(days=3),
        acting_user=users.get(username="editor1"),
    )
    return {
        "highest": highest,
        "new": {
            "Case": case.pk,
            "Issue": issue.pk,
            "ShowcaseEvent": ShowcaseEvent.objects.filter(issue=issue).get().pk,
            "CaseEvent": CaseEvent.objects.filter(case=draft).order_by("-pk")[0].pk,
        },
    }


def main(argv):
    command = argv[1]
    if command == "seed":
        print(json.dumps(seed()))
    elif command == "write":
        write(draft_id=int(argv[2]), log=Path(argv[3]), stop=Path(argv[4]))
    elif command == "summary":
        print(json.dumps(database_summary()))
    elif command == "create":
        print(json.dumps(create()))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)

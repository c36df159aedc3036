"""The export pages: start, follow, download; and who may do each."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from exports import services
from exports.models import DOCX_CONTENT_TYPE, ExportJob
from tests.showcase.factories import planned_issue, series

from .factories import issue_with_cases, opened, styled, two_case_issue

pytestmark = pytest.mark.django_db


def start_url(issue):
    return reverse("exports:start", args=["issue", issue.pk])


def status_of(client, job):
    response = client.get(reverse("exports:job_status", args=[job.public_id]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.json()


def download(client, job):
    return client.get(reverse("exports:job_download", args=[job.public_id]))


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


class ExportFlowTests:
    def test_start_follow_and_download(
        self, client, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(start_url(issue))
        job = ExportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == job.get_absolute_url()

        # The task ran before the page was first shown: the file is offered.
        page = client.get(response["Location"])
        assert page.status_code == 200
        html = page.content.decode()
        assert "「党建引领」系列案例展播 · 第 1 期" in html
        download_url = reverse("exports:job_download", args=[job.public_id])
        assert download_url in html
        assert "<progress" not in html
        assert "js/exports.js" not in html
        kept_until = timezone.localtime(job.finished_at) + timedelta(
            days=settings.EXPORT_KEEP_DAYS
        )
        assert f"可下载至 {kept_until:%Y-%m-%d %H:%M}" in html

        status = status_of(client, job)
        assert status["status"] == "done"
        assert status["finished"] is True
        assert (status["done"], status["total"], status["percent"]) == (2, 2, 100)
        assert status["download_url"] == download_url

        response = download(client, job)
        assert response.status_code == 200
        assert response["Content-Type"] == DOCX_CONTENT_TYPE
        assert response["Content-Disposition"] == (
            "attachment; filename*=utf-8''" + quote("党建引领-第1期.docx")
        )
        document = opened(content_of(response))
        assert styled(document, "Title") == ["「党建引领」系列案例展播 · 第 1 期"]
        assert styled(document, "Heading 1") == ["党建引领新篇章", "把支部建在攻关一线"]
        assert len(document.inline_shapes) == 1

    def test_the_page_follows_a_job_on_its_way(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.reviewer1)
        # Not committed: the job waits in the queue.
        response = client.post(start_url(issue), follow=True)
        job = ExportJob.objects.get()
        html = response.content.decode()
        assert response.status_code == 200
        assert "<progress" in html
        assert "js/exports.js" in html
        assert reverse("exports:job_status", args=[job.public_id]) in html
        # Without the script the page refreshes itself, and says how to.
        assert '<noscript><meta http-equiv="refresh"' in html
        assert f'href="{job.get_absolute_url()}"' in html
        assert reverse("exports:job_download", args=[job.public_id]) not in html
        assert status_of(client, job)["status"] == "queued"
        assert download(client, job).status_code == 404

    def test_status_reports_each_case_while_it_is_built(self, client, who, monkeypatch):
        issue = issue_with_cases(who, {"title": "甲"}, {"title": "乙"}, {"title": "丙"})
        client.force_login(who.editor)
        client.post(start_url(issue))
        job = ExportJob.objects.get()
        seen = []
        build = services.document_build

        def watched(source, *, progress, **options):
            def report(done, total):
                progress(done, total)
                status = status_of(client, job)
                page = client.get(job.get_absolute_url()).content.decode()
                seen.append((status["done"], status["total"], status["progress_text"]))
                assert f'value="{done}"' in page and 'max="3"' in page

            return build(source, progress=report, **options)

        monkeypatch.setattr(services, "document_build", watched)
        services.export_job_build(job_id=job.pk)
        assert seen == [
            (1, 3, "已完成 1 / 3 篇案例"),
            (2, 3, "已完成 2 / 3 篇案例"),
            (3, 3, "已完成 3 / 3 篇案例"),
        ]

    def test_asking_twice_leads_to_the_same_job(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        first = client.post(start_url(issue))["Location"]
        second = client.post(start_url(issue))["Location"]
        assert first == second
        assert ExportJob.objects.count() == 1

    def test_a_failed_job_says_why_and_offers_to_try_again(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        client.post(start_url(issue))
        job = ExportJob.objects.get()
        services._job_fail(job, "出错了")
        html = client.get(job.get_absolute_url()).content.decode()
        assert "出错了" in html
        assert f'action="{start_url(issue)}"' in html
        assert status_of(client, job)["error"] == "出错了"


class ExportInterruptedTests:
    STOPPED = "导出已中断，系统将在几分钟内自动重新生成，您也可以立即重新生成。"
    REBUILDING = "导出中断，正在重新生成…"

    def test_a_stalled_job_says_so_and_offers_to_start_again(
        self, client, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        client.post(start_url(issue))
        job = ExportJob.objects.get()
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.RUNNING,
            done_count=1,
            heartbeat_at=timezone.now() - timedelta(minutes=4),
        )
        html = client.get(job.get_absolute_url()).content.decode()
        assert self.STOPPED in html
        assert "立即重新生成</button>" in html
        assert f'action="{start_url(issue)}"' in html
        assert 'data-export-stalled="true"' in html
        status = status_of(client, job)
        assert (status["stalled"], status["notice"]) == (True, self.STOPPED)

        # The button: the same job, built again.
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(start_url(issue))
        assert response["Location"] == job.get_absolute_url()
        job.refresh_from_db()
        assert (job.status, job.build) == (ExportJob.Status.DONE, 2)

    def test_a_job_built_again_says_what_is_happening(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        client.post(start_url(issue))
        job = ExportJob.objects.get()
        ExportJob.objects.filter(pk=job.pk).update(build=2, interruptions=1)
        html = client.get(job.get_absolute_url()).content.decode()
        assert self.REBUILDING in html
        assert self.STOPPED not in html
        assert 'data-export-stalled="false"' in html
        status = status_of(client, job)
        assert (status["stalled"], status["notice"]) == (False, self.REBUILDING)

    def test_a_job_on_its_way_has_no_notice(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        client.post(start_url(issue))
        job = ExportJob.objects.get()
        html = client.get(job.get_absolute_url()).content.decode()
        assert self.REBUILDING not in html and self.STOPPED not in html
        assert status_of(client, job)["notice"] == ""

    def test_a_case_exported_plainly_is_noted_on_the_finished_page(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        client.post(start_url(issue))
        job = ExportJob.objects.get()
        ExportJob.objects.filter(pk=job.pk).update(
            notes=["案例《乙》的格式无法完整导出，已按纯文本导出。"]
        )
        services.export_job_build(job_id=job.pk)
        job.refresh_from_db()
        assert job.notes == []  # a build that kept every layout has no note
        ExportJob.objects.filter(pk=job.pk).update(
            notes=["案例《乙》的格式无法完整导出，已按纯文本导出。"]
        )
        html = client.get(job.get_absolute_url()).content.decode()
        assert "案例《乙》的格式无法完整导出，已按纯文本导出。" in html


class ExportPermissionTests:
    def test_anonymous_is_sent_to_sign_in(self, client, who):
        issue = two_case_issue(who)
        response = client.post(start_url(issue))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not ExportJob.objects.exists()

    def test_branch_members_may_not_export(self, client, who):
        issue = two_case_issue(who)
        for user in (who.secretary, who.correspondent, who.outsider):
            client.force_login(user)
            assert client.post(start_url(issue)).status_code == 403
        assert not ExportJob.objects.exists()

    def test_start_takes_a_post_only(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        assert client.get(start_url(issue)).status_code == 405

    def test_unpublished_missing_or_unknown_things_are_404(self, client, who):
        the_series = series()
        planned = planned_issue(who, the_series)
        client.force_login(who.editor)
        assert client.post(start_url(planned)).status_code == 404
        missing = reverse("exports:start", args=["issue", 987654])
        assert client.post(missing).status_code == 404
        unknown = reverse("exports:start", args=["poster", 1])
        assert client.post(unknown).status_code == 404
        assert not ExportJob.objects.exists()

    def test_a_job_is_its_requesters_and_the_editors(
        self, client, who, django_capture_on_commit_callbacks
    ):
        issue = two_case_issue(who)
        client.force_login(who.reviewer1)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(start_url(issue))
        job = ExportJob.objects.get()
        urls = [
            job.get_absolute_url(),
            reverse("exports:job_status", args=[job.public_id]),
            reverse("exports:job_download", args=[job.public_id]),
        ]
        for user, expected in [
            (who.reviewer1, 200),
            (who.editor, 200),
            (who.reviewer2, 404),
            (who.secretary, 404),
        ]:
            client.force_login(user)
            for url in urls:
                assert client.get(url).status_code == expected, (user, url)
        client.logout()
        for url in urls:
            assert client.get(url).status_code == 302

    def test_a_malformed_job_address_is_404(self, client, who):
        client.force_login(who.editor)
        assert client.get("/exports/not-a-uuid/").status_code == 404
        assert (
            client.get("/exports/00000000-0000-0000-0000-000000000000/").status_code
            == 404
        )


class ExportButtonTests:
    def test_editors_and_reviewers_see_it_on_the_issue_page(self, client, who):
        issue = two_case_issue(who)
        button = f'action="{start_url(issue)}"'
        for user in (who.editor, who.reviewer1):
            client.force_login(user)
            assert button in client.get(issue.get_absolute_url()).content.decode()
        client.force_login(who.secretary)
        assert button not in client.get(issue.get_absolute_url()).content.decode()

    def test_anonymous_readers_never_get_it_from_the_cache(self, client, who):
        issue = two_case_issue(who)
        button = f'action="{start_url(issue)}"'
        client.force_login(who.editor)
        assert button in client.get(issue.get_absolute_url()).content.decode()
        client.logout()
        for _ in range(2):  # built, then served from the cache
            assert button not in client.get(issue.get_absolute_url()).content.decode()
        client.force_login(who.editor)
        assert button in client.get(issue.get_absolute_url()).content.decode()

    def test_the_desk_offers_it_for_recently_published_issues(self, client, who):
        issue = two_case_issue(who)
        client.force_login(who.editor)
        html = client.get(reverse("showcase_editor:desk")).content.decode()
        assert f'action="{start_url(issue)}"' in html
        assert "导出 Word" in html

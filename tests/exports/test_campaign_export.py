"""A whole call for cases as one Word document: its published cases only."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import translation

from exports.docx import document_build
from exports.models import ExportJob
from exports.sources import ExportSourceMissing, campaign_source
from submissions.models import Case
from tests.campaigns.test_campaigns import for_call, open_call

from .factories import approved, opened, styled, two_case_issue

pytestmark = pytest.mark.django_db


def call_with_published_cases(who):
    """A call answered by two published cases and one still waiting for an issue."""
    issue = two_case_issue(who)
    campaign = open_call(who, title="2026年度党建引领案例征集", the_series=issue.series)
    campaign.description = "请各支部围绕攻关一线报送案例。\n截止前提交。"
    campaign.save()
    for case in Case.objects.filter(issues=issue).order_by("pk"):
        for_call(case, campaign)
    for_call(approved(who, title="尚未刊出的案例"), campaign)
    return campaign


def build(campaign):
    with translation.override("zh-hans"):
        return opened(document_build(campaign_source(campaign.pk)))


def test_the_document_holds_the_calls_published_cases(who):
    campaign = call_with_published_cases(who)

    document = build(campaign)

    assert styled(document, "Title") == ["2026年度党建引领案例征集"]
    cover = styled(document, "Cover Line")
    assert campaign.series.title in cover
    assert any(line.startswith("征集时间：") for line in cover)
    assert "征集说明" in cover
    assert styled(document, "Editors Note") == [
        "请各支部围绕攻关一线报送案例。\n截止前提交。"
    ]
    assert styled(document, "Heading 1") == ["党建引领新篇章", "把支部建在攻关一线"]
    assert "一、筑基：把支部建在攻关一线" in styled(document, "Heading 2")
    assert len(document.inline_shapes) == 1


def test_a_call_with_nothing_published_has_nothing_to_export(who):
    campaign = open_call(who)
    for_call(approved(who, title="尚未刊出的案例"), campaign)
    with pytest.raises(ExportSourceMissing):
        campaign_source(campaign.pk)
    with pytest.raises(ExportSourceMissing):
        campaign_source(campaign.pk + 1000)


def test_the_editor_exports_from_the_call_page(
    client, who, django_capture_on_commit_callbacks
):
    campaign = call_with_published_cases(who)
    client.force_login(who.editor)
    start = reverse("exports:start", args=["campaign", campaign.pk])

    page = client.get(campaign.get_absolute_url())
    assert start in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start)
    job = ExportJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.kind == ExportJob.Kind.CAMPAIGN
    assert (job.status, job.total_count) == (ExportJob.Status.DONE, 2)

    download = client.get(reverse("exports:job_download", args=[job.public_id]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        "attachment; filename*=utf-8''" + quote("2026年度党建引领案例征集.docx")
    )
    document = opened(b"".join(download.streaming_content))
    assert styled(document, "Heading 1") == ["党建引领新篇章", "把支部建在攻关一线"]


def test_no_button_and_404_while_nothing_is_published(client, who):
    campaign = open_call(who)
    client.force_login(who.editor)
    start = reverse("exports:start", args=["campaign", campaign.pk])

    assert start not in client.get(campaign.get_absolute_url()).content.decode()
    assert client.post(start).status_code == 404
    assert not ExportJob.objects.exists()


def test_branch_members_may_not_export_a_call(client, who):
    campaign = call_with_published_cases(who)
    client.force_login(who.secretary)
    response = client.post(reverse("exports:start", args=["campaign", campaign.pk]))
    assert response.status_code == 403
    assert not ExportJob.objects.exists()

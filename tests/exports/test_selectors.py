"""Who may export, and whose jobs they may see: the same 404 for a job that is
missing and a job that is someone else's."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from casehub.roles import may_export
from exports.models import ExportJob
from exports.selectors import job_get_for_user
from review.models import ReviewStage
from tests.review.factories import editor, stage

pytestmark = pytest.mark.django_db


def job_of(user) -> ExportJob:
    return ExportJob.objects.create(
        kind="issue", object_id=1, requested_by=user, title="第1期", file_name="1.docx"
    )


class MayExportTests:
    def test_editors_and_reviewers_may_branch_users_and_readers_not(self, who):
        assert may_export(who.editor)
        assert may_export(who.reviewer1) and may_export(who.reviewer2)
        for user in [who.secretary, who.correspondent, who.outsider, AnonymousUser()]:
            assert not may_export(user)

    def test_the_reviewer_of_a_stage_out_of_use_may_not(self, who):
        ReviewStage.objects.filter(pk=stage(1).pk).update(is_active=False)
        assert not may_export(who.reviewer1)


class JobGetForUserTests:
    def test_the_requester_and_any_editor_get_the_job(self, who):
        job = job_of(who.reviewer1)
        assert job_get_for_user(public_id=job.public_id, user=who.reviewer1) == job
        assert job_get_for_user(public_id=job.public_id, user=editor()) == job

    @pytest.mark.parametrize("public_id", ["theirs", "missing", "not-a-uuid"])
    def test_missing_and_not_yours_are_the_same_404(self, who, public_id):
        job = job_of(who.reviewer1)
        public_id = {"theirs": job.public_id, "missing": uuid.uuid4()}.get(
            public_id, public_id
        )
        for user in [who.reviewer2, who.secretary, who.outsider]:
            with pytest.raises(Http404):
                job_get_for_user(public_id=public_id, user=user)

from django.core.exceptions import ValidationError
from django.http import Http404

from review.selectors import is_editor, stages_for_reviewer

from .models import ExportJob


def may_export(user) -> bool:
    """Editors and the reviewers of any stage may take the showcase to Word."""
    return user.is_authenticated and (
        is_editor(user) or stages_for_reviewer(user=user).exists()
    )


def job_get_for_user(*, public_id, user) -> ExportJob:
    """A job the user asked for, or any job for an editor; else the same 404."""
    jobs = ExportJob.objects.all()
    if not is_editor(user):
        jobs = jobs.filter(requested_by=user)
    try:
        return jobs.get(public_id=public_id)
    except (ExportJob.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None

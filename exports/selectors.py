from django.core.exceptions import ValidationError
from django.http import Http404

from casehub import roles

from .models import ExportJob


def job_get_for_user(*, public_id, user) -> ExportJob:
    """A job the user asked for, or any job for an editor; else the same 404."""
    jobs = ExportJob.objects.all()
    if not roles.sees_every_export(user):
        jobs = jobs.filter(requested_by=user)
    try:
        return jobs.get(public_id=public_id)
    except (ExportJob.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None

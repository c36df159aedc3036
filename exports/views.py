"""Word exports: start one, follow it while it is built, download the file."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from casehub.exceptions import NotPermitted

from . import selectors, services
from .models import DOCX_CONTENT_TYPE, ExportJob
from .sources import SOURCES, ExportSourceMissing, source_get


@method_decorator(require_POST, name="dispatch")
class ExportStartView(LoginRequiredMixin, View):
    def post(self, request, kind, object_id):
        if kind not in SOURCES:
            raise Http404
        try:
            job = services.export_request(
                kind=kind, object_id=object_id, acting_user=request.user
            )
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        except ExportSourceMissing:
            raise Http404 from None
        return redirect(job)


@method_decorator(never_cache, name="dispatch")
class ExportJobDetailView(LoginRequiredMixin, View):
    template_name = "exports/job_detail.html"

    def get(self, request, public_id):
        job = selectors.job_get_for_user(public_id=public_id, user=request.user)
        context = {
            "job": job,
            "source_url": _source_url(job),
            "file_size": _file_size(job),
        }
        return render(request, self.template_name, context)


@method_decorator(never_cache, name="dispatch")
class ExportJobStatusView(LoginRequiredMixin, View):
    """What the job page's script polls: the state of one job, as JSON."""

    def get(self, request, public_id):
        job = selectors.job_get_for_user(public_id=public_id, user=request.user)
        done = job.status == ExportJob.Status.DONE
        return JsonResponse(
            {
                "status": job.status,
                "status_display": job.get_status_display(),
                "done": job.done_count,
                "total": job.total_count,
                "percent": job.percent,
                "progress_text": job.progress_text(),
                "finished": job.is_finished,
                "download_url": reverse("exports:job_download", args=[job.public_id])
                if done
                else None,
                "error": job.error_message,
                "notice": job.notice(),
                "stalled": job.is_stalled,
            },
            json_dumps_params={"ensure_ascii": False},
        )


@method_decorator(never_cache, name="dispatch")
class ExportJobDownloadView(LoginRequiredMixin, View):
    def get(self, request, public_id):
        job = selectors.job_get_for_user(public_id=public_id, user=request.user)
        if job.status != ExportJob.Status.DONE or not job.file:
            raise Http404
        try:
            handle = job.file.open("rb")
        except OSError:
            raise Http404 from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=job.file_name,
            content_type=DOCX_CONTENT_TYPE,
        )


def _source_url(job: ExportJob) -> str:
    try:
        return source_get(kind=job.kind, object_id=job.object_id).url
    except ExportSourceMissing:
        return ""


def _file_size(job: ExportJob) -> int | None:
    if job.status != ExportJob.Status.DONE or not job.file:
        return None
    try:
        return job.file.size
    except OSError:
        return None

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from submissions.exceptions import CaseActionError, NotPermitted


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def permission_denied(request, exception):
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


def server_error(request):
    return render(request, "500.html", status=500)


def bad_request(request, exception):
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in, in the site's own look."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/lockout.html", context, status=429)


def service_run(request, action, *, success="") -> bool:
    """Run a workflow service for a view and tell the user how it went.

    A role that may not act gets the 403 page; a state in which the action
    does not apply is explained in a message. True when the action went through.
    """
    try:
        action()
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except CaseActionError as error:
        messages.error(request, error.message)
        return False
    if success:
        messages.success(request, success)
    return True

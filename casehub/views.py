from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from casehub.exceptions import CaseActionError, NotPermitted
from casehub.middleware import api_request


def page_not_found(request, exception):
    if api_request(request):
        # An address under the API that names nothing, answered as the API
        # answers anything missing.
        return JsonResponse(
            {"detail": _("Nothing published is found at this address."), "errors": []},
            status=404,
            json_dumps_params={"ensure_ascii": False},
            headers={"Cache-Control": "no-cache"},
        )
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
    """django-axes' answer to a locked-out sign-in, in the site's own look.

    The same page whether or not the username exists, as the sign-in form's
    own error is: axes counts failures for any name typed.
    """
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": minutes,
        "address_locked": getattr(request, "casehub_address_locked", False),
    }
    return render(request, "registration/lockout.html", context, status=429)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, with each wrong old password counted as a
    failed sign-in to the account.

    Otherwise whoever holds a signed-in session (an unlocked office computer, a
    stolen cookie) could guess the password there without limit and take the
    account over. While the account is locked, no old password is checked. The
    session whose guesses lock the account is signed out: it has just shown it
    cannot prove it is the owner, and the owner can sign in again after the
    cool-off or ask the administrator to unlock the account.
    """

    def post(self, request, *args, **kwargs):
        if not AxesProxyHandler.is_allowed(request, self._credentials()):
            return login_locked_out(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password", "password_incorrect"):
            request = self.request
            user_login_failed.send(
                sender=__name__, credentials=self._credentials(), request=request
            )
            if getattr(request, "axes_locked_out", False):
                logout(request)
                # Answered here, not again by AxesMiddleware.
                request.axes_locked_out = False
                return login_locked_out(request)
        return super().form_invalid(form)

    def _credentials(self) -> dict:
        return get_credentials(self.request.user.get_username())


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


def query_without_page(query) -> str:
    """A list page's query string without its page number, for the pagination
    links to add their own to."""
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()

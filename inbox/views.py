from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from casehub import roles
from casehub.views import query_without_page
from submissions.models import Case
from submissions.selectors import branches_for_user

from .models import Notification
from .selectors import notifications_for


class InboxView(LoginRequiredMixin, ListView):
    template_name = "inbox/inbox.html"
    context_object_name = "notifications"
    paginate_by = 30

    def get_queryset(self):
        notifications = notifications_for(user=self.request.user)
        if self.request.GET.get("unread"):
            notifications = notifications.filter(read_at__isnull=True)
        return notifications

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["unread_only"] = bool(self.request.GET.get("unread"))
        context["query_string"] = query_without_page(self.request.GET)
        return context


class NotificationOpenView(LoginRequiredMixin, View):
    """Go to where a notification's case can be acted on.

    Only the reader's own click in the inbox (a POST) marks it read. A GET
    (the link in the email, or a page that points an image at this address)
    only leads the way: a GET changes nothing.
    """

    def get(self, request, pk):
        return redirect(_notification_target(self._notification(pk), request.user))

    def post(self, request, pk):
        notification = self._notification(pk)
        if notification.read_at is None:
            Notification.objects.filter(pk=pk).update(read_at=timezone.now())
        return redirect(_notification_target(notification, request.user))

    def _notification(self, pk) -> Notification:
        return get_object_or_404(
            Notification.objects.select_related("case__current_stage"),
            pk=pk,
            recipient=self.request.user,
        )


def _notification_target(notification, user) -> str:
    # The workflow's pages are named by URL, not imported: the inbox sits
    # below the apps that serve them.
    if notification.campaign_id is not None:
        return reverse("submissions:case_list")
    case = notification.case
    if branches_for_user(user=user).filter(pk=case.branch_id).exists():
        return case.get_absolute_url()
    stage = case.current_stage
    in_review = case.status == Case.Status.IN_REVIEW
    if notification.kind == Notification.Kind.SCORING:
        # The scoring page answers with a 404 for a round that is over.
        return reverse("review:score", args=[case.pk])
    if in_review and stage is not None and roles.reviews_at(user, stage):
        return reverse("review:case", args=[case.pk])
    if case.status == Case.Status.REJECTED and roles.may_reopen(user):
        return reverse("review:rejected")
    return reverse("inbox:list")


@require_POST
def notification_mark_read(request, pk):
    if not request.user.is_authenticated:
        raise PermissionDenied
    Notification.objects.filter(
        pk=pk, recipient=request.user, read_at__isnull=True
    ).update(read_at=timezone.now())
    return redirect("inbox:list")


@require_POST
def notification_mark_all_read(request):
    if not request.user.is_authenticated:
        raise PermissionDenied
    count = Notification.objects.filter(
        recipient=request.user, read_at__isnull=True
    ).update(read_at=timezone.now())
    messages.success(
        request, _("%(count)d notification(s) marked read.") % {"count": count}
    )
    return redirect("inbox:list")

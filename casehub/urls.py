"""The site's address book: every app's addresses are included by name, so the
project package imports none of them.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve

from casehub import views as casehub_views

urlpatterns = [
    path("", include("showcase.site_urls")),
    path("", include("showcase.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        casehub_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("showcase.api_urls")),
    path("desk/", include("desk.urls")),
    path("submissions/", include("authoring.urls")),
    path("review/", include("review.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("statistics/", include("stats.urls")),
    path("inbox/", include("inbox.urls")),
    path("editor/", include("showcase.editor_urls")),
    path("exports/", include("exports.urls")),
    path("admin/", admin.site.urls),
]

if settings.SERVE_MEDIA:
    # Uploaded files were re-encoded on the way in; see casehub.images.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]

handler400 = "casehub.views.bad_request"
handler403 = "casehub.views.permission_denied"
handler404 = "casehub.views.page_not_found"
handler500 = "casehub.views.server_error"

from django.conf import settings


def site(request):
    """Names for the site header; deployments may set their own."""
    return {
        "site_name": settings.SITE_NAME or settings.DEFAULT_SITE_NAME,
        "department_name": settings.DEPARTMENT_NAME or settings.DEFAULT_DEPARTMENT_NAME,
    }

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo site's accounts and cases (`manage.py seed_demo`)."""

    name = "demo"
    verbose_name = "Demo"

"""The project's own promises about its setup: settings modes, catalogues, demo data."""

import os
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from demo import demo
from submissions.models import Branch, Case, Membership

ROOT = Path(settings.BASE_DIR)


def run_manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "CELERY_"))
    }
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


class ProductionSettingsTests:
    def test_check_deploy_is_clean(self):
        result = run_manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            DJANGO_ENV="production",
            SECRET_KEY="x7#k2-" + "a9Qz" * 16,
            ALLOWED_HOSTS="casehub.example.org",
        )
        assert result.returncode == 0, result.stderr + result.stdout
        assert "no issues" in result.stdout

    def test_production_refuses_to_start_without_a_secret_key(self):
        result = run_manage("check", DJANGO_ENV="production", SECRET_KEY="")
        assert result.returncode != 0

    def test_development_defaults_need_no_services(self):
        assert settings.LANGUAGE_CODE == "zh-hans"
        assert settings.TIME_ZONE == "Asia/Shanghai"
        assert settings.USE_TZ


class CatalogueTests:
    def test_chinese_catalogue_is_complete(self):
        catalogue = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
        assert catalogue.percent_translated() == 100
        assert not [entry.msgid for entry in catalogue.fuzzy_entries()]

    def test_english_catalogue_is_present(self):
        assert (ROOT / "locale/en/LC_MESSAGES/django.po").exists()

    def test_compilecatalogs_writes_mo_files(self, tmp_path, settings):
        source = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
        target = tmp_path / "zh_Hans/LC_MESSAGES"
        target.mkdir(parents=True)
        (target / "django.po").write_bytes(source.read_bytes())
        settings.LOCALE_PATHS = [tmp_path]
        call_command("compilecatalogs", stdout=open(os.devnull, "w"))  # noqa: SIM115
        compiled = polib.mofile(str(target / "django.mo"))
        assert compiled.find("My cases").msgstr == "我的案例"


@pytest.mark.django_db
class SeedDemoTests:
    def counts(self):
        return (
            Branch.objects.count(),
            get_user_model().objects.count(),
            Membership.objects.count(),
            Case.objects.count(),
        )

    def test_seed_builds_the_department_and_can_run_again(self):
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        first = self.counts()
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert self.counts() == first
        assert first[0] == len(demo.BRANCHES)
        User = get_user_model()
        for username in demo.ACCOUNTS:
            assert User.objects.get(username=username).check_password("casehub-demo")
        statuses = set(Case.objects.values_list("status", flat=True))
        assert statuses >= {"draft", "in_review", "withdrawn"}
        assert Branch.objects.filter(kind=Branch.Kind.COMMITTEE).count() == 1

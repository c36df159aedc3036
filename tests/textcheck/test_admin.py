"""The dictionary admin: every edit through the services, import and export."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.submissions.factories import UserFactory, signed_in
from textcheck.models import BuiltinCheck, Term, TermEvent, dictionary_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True, username="admin")


@pytest.fixture
def client(admin_user):
    return signed_in(admin_user)


def term_form(**changes):
    values = {
        "kind": "sensitive",
        "term": "违规词",
        "replacement": "",
        "severity": "warn",
        "note": "来源",
    }
    values.update(changes)
    return values


def test_add_change_delete_are_audited(client, admin_user):
    version = dictionary_version()
    response = client.post(reverse("admin:textcheck_term_add"), term_form())
    assert response.status_code == 302
    entry = Term.objects.get(term="违规词")
    response = client.post(
        reverse("admin:textcheck_term_change", args=[entry.pk]),
        term_form(term="新词", replacement="好词"),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.term, entry.replacement) == ("新词", "好词")
    response = client.post(
        reverse("admin:textcheck_term_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Term.objects.filter(pk=entry.pk).exists()
    events = list(TermEvent.objects.filter(version__gt=version).order_by("pk"))
    assert [(e.action, e.term, e.actor) for e in events] == [
        ("add", "违规词", admin_user),
        ("change", "新词", admin_user),
        ("delete", "新词", admin_user),
    ]
    assert dictionary_version() == version + 3


def test_bulk_delete_is_one_version(client):
    version = dictionary_version()
    pks = list(Term.objects.values_list("pk", flat=True)[:3])
    response = client.post(
        reverse("admin:textcheck_term_changelist"),
        {"action": "delete_selected", "_selected_action": pks, "post": "yes"},
    )
    assert response.status_code == 302
    assert not Term.objects.filter(pk__in=pks).exists()
    assert dictionary_version() == version + 1
    assert TermEvent.objects.filter(version=version + 1, action="delete").count() == 3


def test_a_bad_term_is_refused_by_the_form(client):
    version = dictionary_version()
    response = client.post(
        reverse("admin:textcheck_term_add"), term_form(kind="person", replacement="")
    )
    assert response.status_code == 200
    assert not Term.objects.filter(term="违规词").exists()
    assert dictionary_version() == version


def test_changelist_offers_import_and_export(client):
    response = client.get(reverse("admin:textcheck_term_changelist"))
    assert reverse("admin:textcheck_term_import") in response.text
    assert reverse("admin:textcheck_term_export") in response.text


def test_export_downloads_every_term(client):
    response = client.get(reverse("admin:textcheck_term_export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "kind,term,replacement,severity,note"
    assert len(lines) == Term.objects.count() + 1


def upload(text: str):
    return SimpleUploadedFile("terms.csv", text.encode("utf-8"), "text/csv")


def test_import_page(client, admin_user):
    url = reverse("admin:textcheck_term_import")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "file": upload(
                "kind,term,replacement,severity,note\nsensitive,新词,,warn,\n"
            )
        },
    )
    assert response.status_code == 302
    assert TermEvent.objects.get(term="新词").actor == admin_user


def test_import_page_shows_the_rows_refused(client):
    count = Term.objects.count()
    response = client.post(
        reverse("admin:textcheck_term_import"),
        {
            "file": upload(
                "kind,term,replacement,severity,note\nsensitive,甲,,warn,\nslang,乙,,warn,\n"
            )
        },
    )
    assert response.status_code == 200
    # The admin speaks the site's language, whatever the test's is.
    assert "第 3 行" in response.text
    assert Term.objects.count() == count


def test_import_needs_add_and_change_permissions(db):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_term"),
        Permission.objects.get(codename="add_term"),
    )
    client = signed_in(staff)
    assert client.get(reverse("admin:textcheck_term_import")).status_code == 403
    assert client.get(reverse("admin:textcheck_term_export")).status_code == 200


def test_builtin_mode_is_edited_in_the_list_and_audited(client, admin_user):
    checks = list(BuiltinCheck.objects.order_by("pk"))
    data = {
        "form-TOTAL_FORMS": len(checks),
        "form-INITIAL_FORMS": len(checks),
        "_save": "Save",
    }
    for index, check in enumerate(checks):
        data[f"form-{index}-id"] = check.pk
        data[f"form-{index}-mode"] = "block" if check.kind == "repeat" else check.mode
    version = dictionary_version()
    response = client.post(reverse("admin:textcheck_builtincheck_changelist"), data)
    assert response.status_code == 302
    assert BuiltinCheck.objects.get(kind="repeat").mode == "block"
    event = TermEvent.objects.latest("pk")
    assert (event.kind, event.after, event.actor) == (
        "repeat",
        {"mode": "block"},
        admin_user,
    )
    assert dictionary_version() == version + 1


def test_events_and_results_are_read_only(client):
    for name in ("termevent", "revisioncheck", "findingoverride"):
        assert (
            client.get(reverse(f"admin:textcheck_{name}_changelist")).status_code == 200
        )
        assert client.get(reverse(f"admin:textcheck_{name}_add")).status_code == 403

"""The dictionary CSV: round trip, and every hostile file refused whole."""

import io

import pytest
from django.core.exceptions import ValidationError

from textcheck.models import Term, TermEvent, dictionary_version
from textcheck.services import terms_export, terms_import, terms_read
from textcheck.terms_csv import MAX_BYTES, MAX_ROWS

pytestmark = pytest.mark.django_db

HEADER = "kind,term,replacement,severity,note\n"


def exported() -> str:
    stream = io.StringIO()
    terms_export(stream)
    return stream.getvalue()


def test_export_then_import_changes_nothing():
    text = exported()
    assert text.startswith("\ufeff" + HEADER.replace("\n", "\r\n"))
    lines = text.splitlines()[1:]
    assert len(lines) == Term.objects.count()
    keys = [line.split(",")[:2] for line in lines]
    assert keys == sorted(keys)
    version = dictionary_version()
    counts = terms_import(rows=terms_read(text.encode("utf-8")), acting_user=None)
    assert counts == {"added": 0, "changed": 0, "unchanged": Term.objects.count()}
    assert dictionary_version() == version


def test_import_adds_and_replaces_and_quotes_survive():
    data = (
        "\ufeff" + HEADER + 'sensitive,北朝鲜,朝鲜,block,"新华社, 修订版"\n'
        "expression,一词,“一词”,warn,\n\n"
    ).encode()
    counts = terms_import(rows=terms_read(data), acting_user=None)
    assert counts["added"] == 1 and counts["changed"] == 1
    entry = Term.objects.get(kind="sensitive", term="北朝鲜")
    assert (entry.severity, entry.note) == ("block", "新华社, 修订版")
    assert 'sensitive,北朝鲜,朝鲜,block,"新华社, 修订版"' in exported()


def body(*lines):
    return (HEADER + "".join(f"{line}\n" for line in lines)).encode()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"kind,term\nsensitive,x\n", "first row"),
        (b"", "first row"),
        ("kind,term,replacement,severity,note\n甲".encode("gbk"), "UTF-8"),
        (body("sensitive,a\x00b,,warn,"), "NUL"),
        (body("slang,词,,warn,"), "Row 2"),
        (body("sensitive,词,,warn,", "sensitive,词二,,fatal,"), "Row 3"),
        (body("sensitive,,,warn,"), "empty"),
        (body("sensitive," + "长" * 101 + ",,warn,"), "100"),
        (body("sensitive,词,,warn,", "sensitive,词,改,warn,"), "row 2"),
        (body("sensitive,词,,warn"), "columns"),
        (body("sensitive,=1+1,,warn,"), "formula"),
        (body('sensitive,"两\n行",,warn,'), "one line"),
        (b"a" * (MAX_BYTES + 1), "MB"),
        (body('sensitive,"' + "x" * 200_000 + '",,warn,'), "CSV"),
    ],
)
def test_hostile_files_are_refused_whole(data, words):
    count, version = Term.objects.count(), dictionary_version()
    events = TermEvent.objects.count()
    with pytest.raises(ValidationError) as refusal:
        terms_import(rows=terms_read(data), acting_user=None)
    assert words in " ".join(refusal.value.messages)
    assert (Term.objects.count(), dictionary_version(), TermEvent.objects.count()) == (
        count,
        version,
        events,
    )


def test_too_many_rows():
    data = (HEADER + "sensitive,x,,warn,\n" * (MAX_ROWS + 1)).encode()
    with pytest.raises(ValidationError) as refusal:
        terms_read(data)
    assert "100000" in refusal.value.messages[0]


def test_many_problems_are_listed_then_counted():
    data = body(*[f"slang,词{n},,warn," for n in range(30)])
    with pytest.raises(ValidationError) as refusal:
        terms_import(rows=terms_read(data), acting_user=None)
    messages = refusal.value.messages
    assert len(messages) == 21
    assert "10" in messages[-1]

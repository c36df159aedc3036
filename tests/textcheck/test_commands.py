"""terms_import, terms_export and text_check from the command line."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from textcheck.models import Term, TermEvent

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_terms_export_and_import(tmp_path):
    path = tmp_path / "terms.csv"
    assert run("terms_export", str(path)).startswith(f"terms={Term.objects.count()}")
    text = path.read_text(encoding="utf-8-sig")
    text += "sensitive,新敏感词,,warn,测试\r\n"
    text = text.replace("北朝鲜,朝鲜,warn", "北朝鲜,朝鲜,block")
    path.write_text(text, encoding="utf-8")
    unchanged = Term.objects.count() - 1
    assert run("terms_import", str(path)).strip() == (
        f"added=1 changed=1 unchanged={unchanged}"
    )
    assert Term.objects.get(term="北朝鲜").severity == "block"
    assert TermEvent.objects.filter(term="新敏感词", actor=None).exists()


def test_terms_import_refuses_a_bad_file_with_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("kind,term,replacement,severity,note\nslang,词,,warn,\n")
    with pytest.raises(CommandError, match="2"):
        run("terms_import", str(path))
    with pytest.raises(CommandError):
        run("terms_import", str(tmp_path / "missing.csv"))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("case.txt", "他说北朝鲜,我们的的工作。"),
        ("case.html", "<p>他说<strong>北</strong>朝鲜,我们的的工作。</p>"),
        ("case.data", "  <p>他说北朝鲜,我们的的工作。</p>"),
    ],
)
def test_text_check_json(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    lines = run("text_check", str(path), "--format", "json").splitlines()
    findings = [json.loads(line) for line in lines]
    assert [(f["kind"], f["term"], f["start"]) for f in findings] == [
        ("sensitive", "北朝鲜", 2),
        ("punctuation", ",", 5),
        ("repeat", "的的", 8),
    ]
    for finding in findings:
        assert list(finding) == [
            "kind",
            "term",
            "start",
            "end",
            "severity",
            "suggestion",
            "message",
        ]
    assert "北朝鲜" in lines[0]  # ensure_ascii=False


def test_text_check_plain_output_and_no_findings(tmp_path):
    path = tmp_path / "case.txt"
    path.write_text("北朝鲜", encoding="utf-8")
    (line,) = run("text_check", str(path)).splitlines()
    assert line.startswith("0-3 warn sensitive “北朝鲜”")
    path.write_text("一切正常。", encoding="utf-8")
    assert run("text_check", str(path)) == ""
    assert run("text_check", str(path), "--format", "json") == ""


def test_text_check_refuses_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(CommandError):
        run("text_check", str(tmp_path / "missing.txt"))
    path = tmp_path / "gbk.txt"
    path.write_bytes("中文".encode("gbk"))
    with pytest.raises(CommandError, match="UTF-8"):
        run("text_check", str(path))

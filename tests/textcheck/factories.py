"""A dictionary set up for a test, through the services as an admin would."""

from textcheck.models import Term
from textcheck.services import terms_delete, terms_import

# (kind, term, replacement, severity) the engine tests check against.
ENTRIES = [
    ("sensitive", "台湾总统", "台湾地区领导人", "block"),
    ("sensitive", "瞎子", "", "warn"),
    ("expression", "十九大", "党的十九大", "warn"),
    ("expression", "两个确立", "“两个确立”", "warn"),
    ("sensitive", "甲乙", "", "warn"),
    ("sensitive", "甲乙丙", "", "warn"),
    ("sensitive", "乙丙丁", "", "block"),
    ("person", "张三", "院长|研究员", "block"),
    ("person", "李四", "副院长", "warn"),
    ("person", "王五", "书记", "warn"),
]


def rows(entries):
    return [
        {
            "kind": kind,
            "term": term,
            "replacement": replacement,
            "severity": severity,
            "note": "测试",
        }
        for kind, term, replacement, severity in entries
    ]


def dictionary_set(entries=ENTRIES, acting_user=None):
    """The dictionary holds exactly `entries` (the starter ones go)."""
    terms_delete(terms=list(Term.objects.all()), acting_user=acting_user)
    terms_import(rows=rows(entries), acting_user=acting_user)

"""Dictionary edits (audited, versioned, re-check on commit), stored checks,
findings let through, the tasks."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from casehub.exceptions import NotPermitted, WrongState
from review import workflow
from submissions.models import Case
from tests.review.factories import case_in_state, draft, latest
from tests.submissions.factories import UserFactory
from tests.textcheck.factories import dictionary_set, rows
from textcheck import services, tasks
from textcheck.models import (
    BuiltinCheck,
    FindingOverride,
    RevisionCheck,
    Term,
    TermEvent,
    dictionary_version,
)
from textcheck.services import (
    builtin_mode_save,
    finding_override_record,
    revision_block_message,
    revision_check,
    revision_open_findings,
    term_delete,
    term_save,
    terms_import,
)

pytestmark = pytest.mark.django_db

BODY = "<p>他称台湾总统，我们的的工作。</p><p>学习十九大精神。</p>"


def saved(term, acting_user=None, **changes):
    values = {
        "kind": "sensitive",
        "term": term,
        "replacement": "",
        "severity": "warn",
        "note": "来源",
    }
    values.update(changes)
    return term_save(acting_user=acting_user, **values)


def submitted(who, **content):
    case = draft(who, **{"body": BODY, "title": "党建引领新篇章", **content})
    workflow.case_submit(case=case, acting_user=who.secretary)
    return latest(case)


@pytest.fixture
def dictionary(db):
    dictionary_set()


class DictionaryEditTests:
    def test_starter_dictionary_is_version_one_with_its_sources(self):
        assert dictionary_version() == 1
        terms = Term.objects.all()
        assert 25 <= terms.count() <= 40
        assert all(term.note for term in terms)
        assert not terms.filter(kind=Term.Kind.PERSON).exists()
        events = TermEvent.objects.all()
        assert events.count() == terms.count()
        assert {(e.action, e.version, e.actor) for e in events} == {("add", 1, None)}
        assert dict(BuiltinCheck.objects.values_list("kind", "mode")) == {
            "numbering": "warn",
            "punctuation": "warn",
            "repeat": "warn",
        }

    @pytest.mark.parametrize(
        ("edit", "action", "before", "after"),
        [
            ("add", "add", None, {"replacement": ""}),
            ("change", "change", {"replacement": ""}, {"replacement": "另一词"}),
            ("delete", "delete", {"replacement": ""}, None),
        ],
    )
    def test_each_edit_bumps_the_version_once_and_is_audited(
        self, edit, action, before, after
    ):
        editor = UserFactory(is_staff=True, is_superuser=True)
        if edit != "add":
            saved("违规词")
        version = dictionary_version()
        if edit == "add":
            saved("违规词", acting_user=editor)
        elif edit == "change":
            saved("违规词", acting_user=editor, replacement="另一词")
        else:
            term_delete(term=Term.objects.get(term="违规词"), acting_user=editor)
        assert dictionary_version() == version + 1
        event = TermEvent.objects.latest("pk")
        assert (event.action, event.kind, event.term, event.version, event.actor) == (
            action,
            "sensitive",
            "违规词",
            version + 1,
            editor,
        )
        for recorded, expected in ((event.before, before), (event.after, after)):
            if expected is None:
                assert recorded is None
            else:
                assert recorded.items() >= expected.items()

    def test_saving_what_is_there_changes_nothing(self):
        saved("违规词")
        version, events = dictionary_version(), TermEvent.objects.count()
        saved("违规词")
        assert (dictionary_version(), TermEvent.objects.count()) == (version, events)

    def test_a_rename_is_one_change(self):
        entry = saved("违规词")
        entry.term = "新词"
        saved("新词", current=entry)
        assert list(
            Term.objects.filter(term__in=["违规词", "新词"]).values_list(
                "term", flat=True
            )
        ) == ["新词"]
        event = TermEvent.objects.latest("pk")
        assert (event.action, event.before["term"], event.after["term"]) == (
            "change",
            "违规词",
            "新词",
        )

    def test_a_builtin_switch_is_audited_and_bumps_the_version(self):
        version = dictionary_version()
        builtin_mode_save(kind="repeat", mode="block", acting_user=None)
        builtin_mode_save(kind="repeat", mode="block", acting_user=None)
        assert dictionary_version() == version + 1
        event = TermEvent.objects.latest("pk")
        assert (event.kind, event.before, event.after) == (
            "repeat",
            {"mode": "warn"},
            {"mode": "block"},
        )

    def test_import_bumps_once_and_counts(self):
        saved("甲词", replacement="旧")
        saved("乙词")
        version = dictionary_version()
        counts = terms_import(
            rows=[
                row | {"note": "来源"}
                for row in rows(
                    [
                        ("sensitive", "甲词", "新", "warn"),
                        ("sensitive", "乙词", "", "warn"),
                        ("expression", "丙词", "丙词语", "block"),
                    ]
                )
            ],
            acting_user=None,
        )
        assert counts == {"added": 1, "changed": 1, "unchanged": 1}
        assert dictionary_version() == version + 1
        assert Term.objects.get(term="甲词").replacement == "新"
        assert set(
            TermEvent.objects.filter(version=version + 1).values_list("action", "term")
        ) == {("change", "甲词"), ("add", "丙词")}

    @pytest.mark.parametrize(
        ("changes", "words"),
        [
            ({"kind": "slang"}, "kind"),
            ({"severity": "fatal"}, "severity"),
            ({"term": "  "}, "empty"),
            ({"term": "长" * 101}, "100"),
            ({"term": "=cmd|x"}, "formula"),
            ({"term": "两行\n词"}, "one line"),
            ({"kind": "expression", "replacement": ""}, "standard form"),
            ({"kind": "person", "replacement": " | "}, "titles"),
        ],
    )
    def test_a_bad_entry_is_refused_and_nothing_changes(self, changes, words):
        version = dictionary_version()
        with pytest.raises(ValidationError) as refusal:
            saved(changes.pop("term", "违规词"), **changes)
        assert words in " ".join(refusal.value.messages)
        assert dictionary_version() == version

    def test_the_admins_model_permissions_are_needed(self):
        nobody = UserFactory(is_staff=True)
        with pytest.raises(NotPermitted):
            saved("违规词", acting_user=nobody)
        nobody.user_permissions.add(Permission.objects.get(codename="add_term"))
        nobody = type(nobody).objects.get(pk=nobody.pk)
        saved("违规词", acting_user=nobody)
        with pytest.raises(NotPermitted):
            saved("违规词", acting_user=nobody, replacement="改")
        with pytest.raises(NotPermitted):
            term_delete(term=Term.objects.get(term="违规词"), acting_user=nobody)
        with pytest.raises(NotPermitted):
            builtin_mode_save(kind="repeat", mode="off", acting_user=nobody)

    @pytest.mark.parametrize(
        "edit",
        [
            lambda: saved("违规词"),
            lambda: term_delete(term=Term.objects.first(), acting_user=None),
            lambda: terms_import(
                rows=rows([("sensitive", "新词", "", "warn")]), acting_user=None
            ),
            lambda: builtin_mode_save(kind="numbering", mode="off", acting_user=None),
        ],
        ids=["save", "delete", "import", "builtin"],
    )
    def test_a_recheck_is_queued_on_commit(
        self, edit, django_capture_on_commit_callbacks
    ):
        with mock.patch.object(tasks.open_revisions_recheck, "delay") as delay:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                edit()
            assert not delay.called
            assert len(callbacks) == 1
            callbacks[0]()
        delay.assert_called_once_with()


class RevisionCheckTests:
    def test_computed_once_and_stored_with_the_version(self, who, dictionary):
        revision = submitted(who)
        check = revision_check(revision)
        assert check.version == dictionary_version()
        assert [f["term"] for f in check.findings["body"]] == [
            "台湾总统",
            "的的",
            "十九大",
        ]
        assert set(check.findings) == {"title", "tagline", "lead", "body"}
        assert RevisionCheck.objects.count() == 1

    def test_reused_while_the_version_is_current(
        self, who, dictionary, django_assert_num_queries
    ):
        revision = submitted(who)
        revision_check(revision)
        revision = type(revision).objects.get(pk=revision.pk)
        with mock.patch.object(services, "fields_check") as checker:
            with django_assert_num_queries(2):  # the version, the stored result
                check = revision_check(revision)
            with django_assert_num_queries(1):  # the stored result is cached
                revision_check(revision)
        assert not checker.called
        assert check.version == dictionary_version()

    def test_recomputed_after_a_dictionary_change(self, who, dictionary):
        revision = submitted(who)
        first = revision_check(revision)
        saved("精神")
        second = revision_check(type(revision).objects.get(pk=revision.pk))
        assert second.pk == first.pk
        assert second.version == first.version + 1
        assert "精神" in [f["term"] for f in second.findings["body"]]

    def test_an_older_result_never_replaces_a_newer_one(self, who, dictionary):
        revision = submitted(who)
        check = revision_check(revision)
        RevisionCheck.objects.filter(pk=check.pk).update(version=check.version + 5)
        fresh = revision_check(type(revision).objects.get(pk=revision.pk))
        assert fresh.version == check.version + 5

    def test_overrides_leave_the_open_findings(self, who, dictionary):
        revision = submitted(who)
        blocking = revision_open_findings(revision, severity="block")
        assert [(field, f.term) for field, f in blocking] == [("body", "台湾总统")]
        message = revision_block_message(revision)
        assert "台湾总统" in message and "1" in message
        override = finding_override_record(
            revision=revision,
            field="body",
            finding=blocking[0][1],
            reason="  引用原文  ",
            actor=who.editor,
        )
        assert (override.reason, override.term, override.actor) == (
            "引用原文",
            "台湾总统",
            who.editor,
        )
        assert revision_open_findings(revision, severity="block") == []
        assert revision_block_message(revision) is None
        terms = [f.term for _, f in revision_open_findings(revision)]
        assert "台湾总统" not in terms and "的的" in terms

    def test_an_override_survives_a_recheck(self, who, dictionary):
        revision = submitted(who)
        ((field, finding),) = revision_open_findings(revision, severity="block")
        finding_override_record(
            revision=revision,
            field=field,
            finding=finding,
            reason="理由",
            actor=who.editor,
        )
        saved("精神")
        assert revision_open_findings(revision, severity="block") == []

    @pytest.mark.parametrize(
        ("field", "reason", "shift", "words"),
        [
            ("body", "   ", 0, "why"),
            ("body", "理由", 1, "not in"),
            ("cover", "理由", 0, "not in"),
        ],
    )
    def test_an_override_needs_a_reason_and_a_real_finding(
        self, who, dictionary, field, reason, shift, words
    ):
        revision = submitted(who)
        ((_, finding),) = revision_open_findings(revision, severity="block")
        moved = type(finding)(**{**finding.as_dict(), "start": finding.start + shift})
        with pytest.raises(WrongState) as refusal:
            finding_override_record(
                revision=revision,
                field=field,
                finding=moved,
                reason=reason,
                actor=who.editor,
            )
        assert words in refusal.value.message
        assert not FindingOverride.objects.exists()

    def test_an_override_is_recorded_once(self, who, dictionary):
        revision = submitted(who)
        ((_, finding),) = revision_open_findings(revision, severity="block")
        finding_override_record(
            revision=revision,
            field="body",
            finding=finding,
            reason="理由",
            actor=who.editor,
        )
        with pytest.raises(WrongState):
            finding_override_record(
                revision=revision,
                field="body",
                finding=finding,
                reason="再次",
                actor=who.editor,
            )
        assert FindingOverride.objects.count() == 1


class TaskTests:
    def test_revision_check_task(self, who, dictionary):
        revision = submitted(who)
        assert tasks.revision_check_task(revision.pk) is True
        assert (
            RevisionCheck.objects.get(revision=revision).version == dictionary_version()
        )
        assert tasks.revision_check_task(10**9) is False

    def test_recheck_reads_the_latest_revision_of_open_cases_only(
        self, who, dictionary
    ):
        in_review = case_in_state(who, "in_review_1")
        approved = case_in_state(who, "approved")
        returned = case_in_state(who, "returned")
        resubmitted = case_in_state(who, "returned")
        workflow.case_resubmit(
            case=Case.objects.get(pk=resubmitted.pk), acting_user=who.secretary
        )
        assert latest(resubmitted).number == 2
        assert tasks.open_revisions_recheck() == 3
        checked = set(RevisionCheck.objects.values_list("revision_id", flat=True))
        assert checked == {
            latest(in_review).pk,
            latest(approved).pk,
            latest(resubmitted).pk,
        }
        assert latest(returned).pk not in checked

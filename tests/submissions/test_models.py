import pytest
from django.core.exceptions import ValidationError

from submissions.models import Branch, CaseRevision
from tests.submissions.factories import BranchFactory, CaseFactory

pytestmark = pytest.mark.django_db


class BranchTests:
    def test_lineage_runs_from_the_top(self):
        committee = BranchFactory(name="院党委", kind=Branch.Kind.COMMITTEE)
        general = BranchFactory(
            name="总支", kind=Branch.Kind.GENERAL_BRANCH, parent=committee
        )
        branch = BranchFactory(name="支部", kind=Branch.Kind.BRANCH, parent=general)
        assert branch.lineage() == [committee, general, branch]

    def test_branch_cannot_sit_above_a_committee(self):
        branch = BranchFactory(kind=Branch.Kind.BRANCH)
        committee = Branch(name="党委", kind=Branch.Kind.COMMITTEE, parent=branch)
        with pytest.raises(ValidationError) as caught:
            committee.full_clean()
        assert "parent" in caught.value.message_dict

    def test_organisation_cannot_sit_below_itself(self):
        top = BranchFactory(kind=Branch.Kind.COMMITTEE)
        middle = BranchFactory(kind=Branch.Kind.GENERAL_BRANCH, parent=top)
        top.parent = middle
        with pytest.raises(ValidationError):
            top.full_clean()


class CaseTests:
    def test_body_is_sanitised_whenever_it_is_saved(self):
        case = CaseFactory(body='<p onclick="x()">正文</p><script>alert(1)</script>')
        case.refresh_from_db()
        assert case.body == "<p>正文</p>"

    def test_source_defaults_to_the_organisation(self):
        case = CaseFactory(source="")
        assert case.source_display == case.branch.name
        case.source = "党建工作部"
        assert case.source_display == "党建工作部"


class CaseRevisionTests:
    def test_a_revision_cannot_be_changed_or_deleted(self):
        case = CaseFactory()
        revision = CaseRevision.objects.create(
            case=case,
            number=1,
            branch_name=case.branch.name,
            title=case.title,
            source=case.source_display,
            submitted_by=case.created_by,
        )
        revision.title = "改过的标题"
        with pytest.raises(ValueError):
            revision.save()
        with pytest.raises(ValueError):
            revision.delete()
        revision.refresh_from_db()
        assert revision.title == case.title

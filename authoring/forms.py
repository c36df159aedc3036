from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_ckeditor_5.widgets import CKEditor5Widget

from campaigns.forms import CampaignChoiceField
from campaigns.models import Campaign
from campaigns.selectors import campaigns_accepting
from casehub.images import image_clean
from casehub.richtext import richtext_clean, validate_richtext
from submissions.models import Branch, Case, Theme

from .docx_import import legacy_conversion_available
from .services import CaseContent


def _editor_config() -> str:
    return "en" if (get_language() or "").startswith("en") else "default"


class CaseForm(forms.ModelForm):
    """The case text as a branch member writes it."""

    branch = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Branch.objects.none(), empty_label=None
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    cover_image = forms.FileField(
        label=_("Cover image"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF, at most 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )
    campaign = CampaignChoiceField(
        label=_("Call for cases"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("Not for a call"),
        help_text=_("The open call this case answers, if any."),
    )
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Case
        fields = [
            "campaign",
            "title",
            "tagline",
            "author_name",
            "source",
            "lead",
            "body",
            "themes",
        ]
        widgets = {"lead": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._campaign_choices(branches)
        if self.instance.pk:
            # The organisation of an existing case does not change.
            del self.fields["branch"]
            self.fields["version"].initial = self.instance.version
            self.fields["cover_image"].initial = self.instance.cover_image
        else:
            del self.fields["version"]
            self.fields["branch"].queryset = branches
            if branches is not None and len(branches) == 1:
                self.fields["branch"].widget = forms.HiddenInput()
                self.fields["branch"].initial = branches[0].pk
        # The editor hides the textarea, so the browser must not demand it;
        # completeness is checked when the case is submitted.
        self.fields["body"].required = False
        self.fields["body"].widget = CKEditor5Widget(config_name=_editor_config())
        self.fields["body"].label = _("Body")
        self.fields["lead"].help_text = _(
            "One or two paragraphs that say what the case is about."
        )

    def _campaign_choices(self, branches):
        """Calls open to the organisation(s) now, and the one already chosen."""
        if self.instance.pk:
            branches = [self.instance.branch]
        accepting = campaigns_accepting(branches=branches or []).values("pk")
        choices = Campaign.objects.filter(
            Q(pk__in=accepting) | Q(pk=self.instance.campaign_id)
        ).order_by("closes_on", "pk")
        if not choices.exists():
            del self.fields["campaign"]
            return
        self.fields["campaign"].queryset = choices

    def clean_cover_image(self):
        upload = self.cleaned_data.get("cover_image")
        if upload is False:
            return False  # the "clear" box was ticked
        if not upload:
            return None
        return image_clean(upload)

    def clean_version(self):
        version = self.cleaned_data.get("version")
        if version is None:
            raise ValidationError(
                _("The form is incomplete; reload the page and try again."),
                code="no_version",
            )
        return version

    def to_content(self) -> CaseContent:
        data = self.cleaned_data
        cover = data.get("cover_image")
        return CaseContent(
            title=data["title"].strip(),
            tagline=data.get("tagline", "").strip(),
            author_name=data.get("author_name", "").strip(),
            source=data.get("source", "").strip(),
            lead=data.get("lead", "").strip(),
            body=data.get("body", ""),
            themes=list(data.get("themes") or []),
            campaign=data.get("campaign"),
            cover=cover or None,
            remove_cover=cover is False,
        )


class CaseWithdrawForm(forms.Form):
    comment = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DocxImportForm(forms.Form):
    """The Word file 导入 Word reads into the case form (authoring.docx_import)."""

    # The import form's button; it posts to the case form's own page.
    button_name = "docx_import"

    docx_file = forms.FileField(
        label=_("Word document"),
        error_messages={"required": _("Choose a Word document (.docx) to import.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What was read from the file, once the view has read it.
        self.imported = None
        limit = settings.CASEHUB_MAX_DOCX_BYTES // (1024 * 1024)
        field = self.fields["docx_file"]
        if legacy_conversion_available():
            field.help_text = _(
                "A Word or WPS document (.docx, .doc or .wps) of at most %(limit)d MB."
            ) % {"limit": limit}
            accept = ".docx,.doc,.wps"
        else:
            field.help_text = _("A Word document (.docx) of at most %(limit)d MB.") % {
                "limit": limit
            }
            accept = ".docx"
        field.widget.attrs["accept"] = accept


class TextCheckForm(forms.Form):
    """The text in the case form's boxes, checked unsaved (检查当前文本).

    Bounded as the case is when it is saved: the fields' lengths, and the
    body through the same rich-text bounds and cleaning, so the check reads
    what saving would store.
    """

    title = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=Case._meta.get_field("title").max_length,
    )
    tagline = forms.CharField(
        label=_("Tagline"),
        required=False,
        max_length=Case._meta.get_field("tagline").max_length,
    )
    lead = forms.CharField(
        label=_("Lead paragraph"),
        required=False,
        max_length=settings.CASEHUB_RICHTEXT_MAX_BYTES,
    )
    body = forms.CharField(label=_("Body"), required=False, strip=False)

    def first_error(self) -> str:
        name, errors = next(iter(self.errors.items()))
        return _("%(field)s: %(error)s") % {
            "field": self.fields[name].label,
            "error": errors[0],
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        validate_richtext(body)  # what was sent, held to the limit first
        return richtext_clean(body)

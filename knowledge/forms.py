from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.models import Category
from core.widgets import DateInput
from knowledge.models import Article, ArticleVersion, Audience
from org.models import Department


def _category_choices():
    """First and second levels of the tree: what a search is narrowed by."""
    rows = Category.objects.filter(level__lte=2).order_by("path").values_list("pk", "name", "level")
    return [("", _("All categories"))] + [(pk, ("　" * (level - 1)) + name) for pk, name, level in rows]


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autofocus": True,
                                                      "placeholder": _("Words from the question, e.g. 携号转网 条件")}))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[
        ("", _("Articles and cases")), ("article", _("Articles")), ("case", _("Cases"))])
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Article.Kind.choices)
    category = forms.ModelChoiceField(label=_("Category (and below)"), queryset=Category.objects.order_by("path"),
                                      required=False, empty_label=_("General (no category)"))
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    audience_department = forms.ModelChoiceField(label=_("Audience department"), required=False,
                                                 queryset=Department.objects.filter(is_active=True).order_by("name"))
    owner_department = forms.ModelChoiceField(label=_("Owned by"), required=False,
                                              queryset=Department.objects.filter(is_active=True).order_by("name"),
                                              help_text=_("Its lead may edit the article, besides the quality team."))
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput())
    expires_on = forms.DateField(label=_("Expires on"), required=False,
                                 widget=DateInput())
    body = forms.CharField(label=_("Text"), max_length=20000, widget=forms.Textarea(attrs={"rows": 12}))
    change_note = forms.CharField(label=_("What changed"), max_length=200, required=False)

    def __init__(self, *args, owner_choice: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not owner_choice:
            del self.fields["owner_department"]


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[("1", _("Helped")), ("0", _("Did not help"))], coerce=lambda v: v == "1")
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)
    # The version the agent saw; empty: the current one.
    version = forms.IntegerField(required=False, min_value=1)


class CaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    problem = forms.CharField(label=_("What the customer raised"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 4}))
    handling = forms.CharField(label=_("How it was handled"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 4}))
    lessons = forms.CharField(label=_("What others can learn"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))


class CaseReviewForm(CaseForm):
    tags = forms.CharField(label=_("Tags"), max_length=300, required=False,
                           help_text=_("Separated by commas, e.g. 资费, 携号转网."))
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False,
                              help_text=_("Required when the case is not published."))
    decision = forms.ChoiceField(choices=[("publish", _("Publish")), ("reject", _("Do not publish"))],
                                 widget=forms.HiddenInput, required=False)


class WithdrawForm(forms.Form):
    comment = forms.CharField(label=_("Why it is withdrawn"), max_length=500)


def intake_form_fields() -> dict:
    """The intake form's field of the knowledge base (workflow.hooks.intake_form_fields)."""
    return {
        # Set by "Use this answer" next to a suggested article in the side panel: the version is kept with the order.
        "article_version": forms.ModelChoiceField(
            queryset=ArticleVersion.objects.all(), required=False, widget=forms.HiddenInput,
            error_messages={"invalid_choice": _("Unknown article version.")}),
    }

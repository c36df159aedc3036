from django.utils.functional import SimpleLazyObject

from casehub import roles

from .models import ReviewStage


def workspace(request):
    """The links a user's roles open up in the header.

    Lazy, so a page that does not show them costs no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    kinds = SimpleLazyObject(lambda: _stage_kinds(user))
    return {
        # One query for the three: the kinds of the stages in use the user
        # sits on (a review stage's reviewers, a scoring stage's panel).
        "is_reviewer": SimpleLazyObject(lambda: bool(kinds)),
        "reviews_at_a_stage": SimpleLazyObject(lambda: "review" in kinds),
        "is_scorer": SimpleLazyObject(lambda: "scoring" in kinds),
        "is_editor": SimpleLazyObject(lambda: roles.is_editor(user)),
        # 评选 opens to an editor where a scoring stage is in use.
        "scoring_in_use": SimpleLazyObject(_scoring_in_use),
    }


def _scoring_in_use() -> bool:
    return ReviewStage.objects.filter(
        kind=ReviewStage.Kind.SCORING, is_active=True
    ).exists()


def _stage_kinds(user) -> set:
    return set(
        user.groups.filter(review_stages__is_active=True).values_list(
            "review_stages__kind", flat=True
        )
    )

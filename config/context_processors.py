from accountability.selectors import may_see_accountability
from core.permissions import is_centre_or_quality, may_intake
from quality.selectors import may_see_dashboards
from quality.warning_views import may_see_warnings
from support.selectors import may_use_support


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_roles": user.role_names,
        "can_intake": may_intake(user),
        "can_see_dashboards": may_see_dashboards(user),
        "can_work_follow_ups": is_centre_or_quality(user),
        "can_see_accountability": may_see_accountability(user),
        "can_see_warning": may_see_warnings(user),
        "can_see_support": may_use_support(user),
    }


def work(request):
    """The counts in the navigation: orders waiting in the user's work lists and unread notifications.
    Each is one capped COUNT over a partial index; computed only when a template asks for them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_channel_system:
        return {}
    from django.utils.functional import SimpleLazyObject

    from workflow import selectors
    from workflow.countdown import countdown_words

    counts = SimpleLazyObject(lambda: selectors.work_list_counts(user=user))
    return {
        "deadline_words": countdown_words(),
        "work_counts": counts,
        "work_total": SimpleLazyObject(lambda: _total(counts)),
        "unread_count": SimpleLazyObject(lambda: selectors.notifications_unread_count(user=user)),
    }


def _total(counts: dict) -> int:
    return sum(counts.get(key, 0) for key in ("mine", "queue", "callback", "dispatch", "answer", "review", "extensions"))

"""Words of third-party apps that ship no Chinese catalogue, listed so that `makemessages` keeps their
translations in ours (Django reads the project's catalogue for every app). Never imported."""

from django.utils.translation import gettext_noop, pgettext_lazy

AXES = [  # django-axes: login attempts, failures and lockouts in admin
    gettext_noop("access attempt"), gettext_noop("access attempts"), gettext_noop("access failure"),
    gettext_noop("access failures"), gettext_noop("access log"), gettext_noop("access logs"),
    gettext_noop("access attempt expiration"), gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"), gettext_noop("Access lock out"), gettext_noop("Attempt Time"),
    gettext_noop("Expires At"), gettext_noop("Failed Logins"), gettext_noop("GET Data"), gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"), gettext_noop("Logout Time"), gettext_noop("POST Data"), gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."), gettext_noop("User Agent"),
    gettext_noop("Username"), gettext_noop("Locked Out"), gettext_noop("Form Data"), gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"), gettext_noop("Not set"), gettext_noop("Attempt Remaining"),
]

VIEWFLOW = [  # django-viewflow: the process and task tables' fields and statuses (admin: order processes, support tasks)
    gettext_noop("Flow"), gettext_noop("Created"), gettext_noop("Finished"), gettext_noop("Task"), gettext_noop("Tasks"),
    gettext_noop("Type"), gettext_noop("Scheduled"), gettext_noop("Token"), gettext_noop("Owner"),
    gettext_noop("Permission"), gettext_noop("Process"), gettext_noop("Process list"),
    gettext_noop("External Task ID"),
    pgettext_lazy("STATUS", "Assigned"), pgettext_lazy("STATUS", "Canceled"), pgettext_lazy("STATUS", "Done"),
    pgettext_lazy("STATUS", "Error"), pgettext_lazy("STATUS", "New"), pgettext_lazy("STATUS", "Revived"),
    pgettext_lazy("STATUS", "Scheduled"), pgettext_lazy("STATUS", "Started"),
]

DJANGO = [  # Django's admin strings its Chinese catalogue does not have yet
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Model name"), gettext_noop("Add link"), gettext_noop("Change or view list link"),
]

"""How django-axes counts failed sign-ins: per account, with a wider bound per address.

An account is locked after AXES_FAILURE_LIMIT wrong passwords from anywhere, so
spreading guesses over several addresses gains nothing. One address is locked
after AXES_ADDRESS_FAILURE_LIMIT failures over all the usernames it tried, which
bounds guessing one common password against many accounts; it is set well above
the account limit because a whole office may sign in from one address.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class AccountLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """The failures that count against this sign-in, on the account's scale.

        Axes compares one number with AXES_FAILURE_LIMIT; the address's count is
        scaled so that it reaches that limit exactly at the address limit.
        """
        limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        counts = {}
        for parameter, attempts in zip(parameters, attempts_list, strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"]
            failures = failures or 0
            if parameter == "ip_address":
                failures = failures * limit // settings.AXES_ADDRESS_FAILURE_LIMIT
            counts[parameter] = failures
        # The lockout page tells the owner which bound was reached.
        request.casehub_address_locked = (
            counts.get("ip_address", 0) >= limit > counts.get("username", 0)
        )
        return max(counts.values(), default=0)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A good password forgives the account's failures, not the address's:
        otherwise signing in to one's own account would reset the address
        bound between rounds of guessing at others."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count

"""The other sites allowed to embed the showcase: how an origin is written.

An origin is what a browser sends in `Origin` and what CSP's
`frame-ancestors` names: scheme, host and port, nothing else. The admin's
value is brought to the one spelling a browser uses (lower case, the host in
IDNA, no default port), so that comparing it with a request's `Origin` is a
plain string comparison, and anything that is not one origin (a path, a query,
a user name, a wildcard, another scheme, a list) is refused with a message.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ORIGIN_MAX_LENGTH = 200
DEFAULT_PORTS = {"http": 80, "https": 443}
# One label of a host name, after IDNA: letters, digits and inner hyphens.
LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def origin_normalise(value: str) -> str:
    """`value` as a browser writes the origin, e.g. "https://www.example.gov.cn";
    ValidationError when it is not one origin of the web."""
    if not isinstance(value, str):
        raise _refused()
    value = value.strip()
    if not value or len(value) > ORIGIN_MAX_LENGTH:
        raise ValidationError(
            _("Write an origin of at most %(limit)d characters."),
            code="length",
            params={"limit": ORIGIN_MAX_LENGTH},
        )
    if any(mark in value for mark in "*?#@\\ \t\r\n\x00,;'\""):
        raise _refused()
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValidationError(
            _("Only http:// and https:// origins can embed the showcase."),
            code="scheme",
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValidationError(
            _(
                "An origin is the scheme, host and port only, without a path: "
                "e.g. https://www.example.gov.cn"
            ),
            code="path",
        )
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(
            _("The port is not a number from 1 to 65535."), code="port"
        ) from None
    if port == 0:
        raise ValidationError(
            _("The port is not a number from 1 to 65535."), code="port"
        )
    host = _host(parts.hostname or "")
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _host(hostname: str) -> str:
    if not hostname or hostname.startswith("["):
        raise _refused()
    if ":" in hostname:
        # An IPv6 address: CSP's frame-ancestors has no way to name one.
        raise ValidationError(
            _(
                "Give the site's host name or IPv4 address; IPv6 addresses "
                "are not supported."
            ),
            code="ipv6",
        )
    try:
        return str(ipaddress.IPv4Address(hostname))
    except ValueError:
        pass
    try:
        host = hostname.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _refused() from None
    labels = host.split(".")
    if len(host) > 253 or not all(LABEL.match(label) for label in labels):
        raise _refused()
    if labels[-1].isdigit():
        # Numbers only at the end are an address written some other way.
        raise _refused()
    return host


def _refused() -> ValidationError:
    return ValidationError(
        _(
            "This is not an origin. Write the scheme, host and port of the site "
            "that embeds the showcase, e.g. https://www.example.gov.cn or "
            "http://192.0.2.10:8080; wildcards are not accepted."
        ),
        code="invalid",
    )

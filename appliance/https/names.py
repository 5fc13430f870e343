"""Which names the box answers to: its own, and nothing else.

A page on the hotspot that answers any ``Host`` can be reached through DNS
rebinding: a site the guider's laptop visited elsewhere points its own
name at 10.42.0.1 and scripts the box from the laptop's browser, with the
browser's idea of "same origin" on its side. The page refuses every
request naming another host (``web/hosts.py``), and the HTTPS front
answers only to these names.

>>> host_of("VIGBOX.local.:8080"), host_of("[::1]:80"), host_of("10.42.0.1")
('vigbox.local', '::1', '10.42.0.1')
>>> "vigbox.local" in box_names(("vigbox.local",), "0.0.0.0:80", "box7")
True
>>> sorted(box_names((), "127.0.0.1:8080", "box7"))
['127.0.0.1', 'box7', 'box7.local']
"""

import socket

# what a service CA may sign unless told otherwise (its name constraints):
# the box's own names and the hotspot's network (appliance/https/service_ca.py)
DEFAULT_PERMITTED = ("vigbox.local", "vigbox", "10.42.0.0/24")

# listening on every address names no host of its own
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


def host_of(header: str) -> str:
    """The host of a Host header, without port or brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):  # an IPv6 literal: [::1]:8080
        return header[1:].partition("]")[0]
    if header.count(":") == 1:
        header = header.partition(":")[0]
    # one dot: the root's (vigbox.local.); more are no name werkzeug accepts
    return header.removesuffix(".")


def box_names(allowed: tuple[str, ...], listen: str, hostname: str) -> frozenset[str]:
    """The settings' names, the address the page listens on, and the
    box's own host name (bare and in .local, as mDNS gives it)."""
    names = {host_of(name) for name in allowed}
    names.add(host_of(listen))
    names.update({hostname.lower(), f"{hostname.lower()}.local"})
    return frozenset(names - _ANY_ADDRESS)


def allowed_for(settings) -> frozenset[str]:
    return box_names(settings.allowed_hosts, settings.listen, socket.gethostname())

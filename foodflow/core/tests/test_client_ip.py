"""The client's address: behind our own proxies from what they appended to X-Forwarded-For,
never from what a client wrote into the header itself."""

import pytest
from django.test import RequestFactory, override_settings

from foodflow.core.views import client_ip


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),  # no proxy
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # a client's own header: ignored
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),  # our proxy appended the client
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the client forged the first hop
        ("10.0.0.2", "198.51.100.7, 10.0.0.3", "198.51.100.7"),  # two proxies of ours
        ("10.0.0.2", "not-an-address", "10.0.0.2"),  # nonsense: the proxy's own address
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
@override_settings(TRUSTED_PROXIES=["10.0.0.2", "10.0.0.3"])
def test_the_client_address_is_read_behind_trusted_proxies_only(remote, forwarded, expected):
    assert client_ip(request_from(remote, forwarded)) == expected

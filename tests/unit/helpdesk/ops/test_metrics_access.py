"""Who may read /metrics: the token, or straight from an allowed network."""

import pytest

from config import networks
from helpdesk.ops.metrics import allowed

LOOPBACK = networks("127.0.0.1/32, ::1/128")
TOKEN = "t" * 40


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_may_scrape_by_default(address):
    assert allowed(address, None, False, "", LOOPBACK)


@pytest.mark.parametrize("address", ["10.0.0.5", "203.0.113.9", "2001:db8::1", "", None, "x"])
def test_other_addresses_may_not(address):
    assert not allowed(address, None, False, "", LOOPBACK)


def test_a_request_through_a_proxy_is_not_taken_for_loopback():
    # Behind a reverse proxy on the same host every request comes from 127.0.0.1.
    assert not allowed("127.0.0.1", None, True, "", LOOPBACK)


def test_an_admin_network_may_scrape():
    admin = networks("10.20.0.0/16")
    assert allowed("10.20.3.4", None, False, "", admin)
    assert not allowed("10.21.3.4", None, False, "", admin)
    assert not allowed("127.0.0.1", None, False, "", admin)


def test_the_token_lets_in_from_anywhere_and_a_wrong_one_from_nowhere():
    assert allowed("203.0.113.9", f"Bearer {TOKEN}", True, TOKEN, LOOPBACK)
    assert not allowed("203.0.113.9", "Bearer wrong", False, TOKEN, LOOPBACK)
    assert not allowed("127.0.0.1", "Bearer wrong", False, TOKEN, LOOPBACK)
    assert not allowed("203.0.113.9", f"Basic {TOKEN}", False, TOKEN, LOOPBACK)


def test_no_token_configured_means_no_token_accepted():
    assert not allowed("203.0.113.9", "Bearer ", False, "", LOOPBACK)
    assert not allowed("203.0.113.9", "Bearer", False, "", networks(""))

"""The address check: what counts as public, and what never does."""

from __future__ import annotations

import pytest

from flows.netguard import GuardedBackend, is_public, parse_networks


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.100.100.200",
     "168.63.129.16", "192.0.0.192", "0.0.0.0", "::1", "fe80::1", "fec0::1", "fd00:ec2::254",
     "::ffff:127.0.0.1", "::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a9fe:a9fe", "2002:7f00:1::1",
     "224.0.0.1", "::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe"],
)  # fmt: skip
def test_private_loopback_link_local_and_metadata_addresses_are_not_public(address: str):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.0.81", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are(address: str):
    assert is_public(address)


def test_the_allow_list_opens_only_what_it_names():
    guard = GuardedBackend(parse_networks(["127.0.0.1", "10.0.0.0/8"]))
    assert guard.permitted("127.0.0.1") and guard.permitted("10.9.9.9")
    assert not guard.permitted("127.0.0.2") and not guard.permitted("169.254.169.254")
    with pytest.raises(ValueError, match="'not-an-ip' is not an IP address or network"):
        parse_networks(["not-an-ip"])


@pytest.mark.parametrize(
    "address",
    ["::ffff:0:808:808", "64:ff9b:1::808:808", "64:ff9b:1:ffff::1", "3fff::1", "3fff:fff:ffff::1", "5f00::1"],
)
def test_translated_local_nat64_documentation_and_srv6_ranges_are_refused_whatever_they_embed(address: str):
    # IPv4-translated and local-use NAT64 addresses lead wherever the local network's
    # translator sends them, even when the IPv4 address inside them is public.
    assert not is_public(address)

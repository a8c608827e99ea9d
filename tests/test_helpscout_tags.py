"""HelpScoutClient.tag_conversation: PUT tags replaces the whole set, so it reads first."""

from __future__ import annotations

import pytest

from bling.clients.helpscout import HelpScoutClient



@pytest.fixture
def helpscout():
    return HelpScoutClient("test-client-id", "test-client-secret")


@pytest.mark.vcr
def test_tags_are_added_to_the_ones_the_conversation_has(helpscout, vcr):
    assert helpscout.tag_conversation(7001, ["voting", "vip"]) == ["vip", "urgent", "voting"]
    assert vcr.all_played  # GET, then PUT {"tags": ["vip", "urgent", "voting"]}


@pytest.mark.vcr
def test_nothing_is_written_when_every_tag_is_there(helpscout, vcr):
    """Planted bug: the tags PUT even when nothing changes (an unmatched request)."""
    assert helpscout.tag_conversation(7001, ["vip"]) == ["vip", "urgent"]
    assert [r.method for r in vcr.played_requests] == ["POST", "GET"]  # token, read: no PUT

"""keyword_tagger, installed as a package and wired into a chain by routes.toml."""

from __future__ import annotations

import json

import pytest

from bling.jobs.worker import drain
from bling_keyword_tagger import keywords, matching_tags

MAILBOX_ID, PHONE = 206906, "+16175550123"


def test_it_is_discovered_as_an_installed_package(services):
    info = services.plugins["keyword_tagger"]
    assert info.source == "package: bling-keyword-tagger 0.1.0"
    assert [c.route.chain for c in services.chains] == [("inbound_sms", "keyword_tagger", "autoreply")]


@pytest.mark.vcr
def test_a_keyword_adds_its_tag_keeping_the_others(services, text, vcr):
    services.store.remember_conversation(MAILBOX_ID, PHONE, 7001, 3)
    text("Hi, I need help with my BALLOT")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # thread posted, tags read, then PUT ["vip", "voting"]
    (row,) = services.store.rows()
    assert json.loads(row["result"])["keyword_tags"] == ["vip", "voting"]


@pytest.mark.vcr
def test_a_tag_already_there_is_not_written_again(services, text, vcr):
    services.store.remember_conversation(MAILBOX_ID, PHONE, 7001, 3)
    text("How do I vote?")
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert not [r for r in vcr.requests if r.method == "PUT"]


@pytest.mark.vcr
def test_no_keyword_costs_nothing_more(services, text, vcr):
    services.store.remember_conversation(MAILBOX_ID, PHONE, 7001, 3)
    text("Thanks!")
    assert drain(services) == {"done": 1}
    assert vcr.all_played and len(vcr.requests) == 2  # token + the thread: no tag calls


@pytest.mark.parametrize("body, tags", [("VOTE", ["voting"]), ("  ballot?  vote! ", ["voting"]),
                                        ("Je suis bénévole", ["volunteers"]), ("Je suis be\u0301ne\u0301vole", ["volunteers"]),
                                        ("voter registration", []), ("", [])])
def test_keywords_match_whole_words_ignoring_case_and_unicode_form(body, tags):
    table = keywords({"keywords": {"ballot": "voting", "vote": "voting", "bénévole": "volunteers"}})
    assert matching_tags(body, table) == tags


@pytest.mark.parametrize("options, problem", [
    ({"keywords": ["ballot"]}, "key 'options.keyword_tagger.keywords': Not a valid mapping type."),
    ({"keywords": {"vote": " "}}, "key 'options.keyword_tagger.keywords': "),
    ({"keyword": {"vote": "voting"}}, "key 'options.keyword_tagger.keyword': plugin 'keyword_tagger' has no option 'keyword' (known: keywords)"),
])
def test_bad_options_stop_start_up_naming_the_key(options, problem):
    import bling_keyword_tagger
    from bling.errors import ConfigError
    from bling.routing.chains import load_options
    from bling.routing.plugin_loader import PluginInfo
    from bling.routing.routes import Route

    route = Route(name="sms", path="/bling/twilio_sms", verify="twilio", schema="twilio_sms",
                  chain=("keyword_tagger",), options={"keyword_tagger": options})
    infos = {"keyword_tagger": PluginInfo("keyword_tagger", "test", bling_keyword_tagger)}
    with pytest.raises(ConfigError) as ex:
        load_options("routes.toml: route /bling/twilio_sms", route, infos)
    assert str(ex.value).startswith(f"routes.toml: route /bling/twilio_sms: {problem}")

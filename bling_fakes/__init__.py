"""Fake Twilio and Help Scout for the sandbox, the benchmark and tests: one implementation, three users.

    state.py       what the fake accounts hold (SQL tables: Bling's store in the sandbox, memory elsewhere)
    helpscout.py   the fake Help Scout Mailbox API (options: rate limit and its accounting, credentials,
                   mailboxes, latency)
    twilio.py      the fake Twilio REST API (options: what happens to a text or call after it is accepted)
    accounting.py  Help Scout's account-wide rate limit and the request log (the benchmark's)
    http.py        how a fake is reached: a Falcon sink (the sandbox) or a loopback server (bench, tests)
    sandbox/       the sandbox: its settings, its app (Bling's, wrapped), its page
    simulate.py, commands.py   `bling simulate`: signed Twilio and Help Scout requests to a running Bling

Mobile Commons has no fake: its few calls are replayed from cassettes in the tests.

The production app never imports this package (tests/test_fakes_isolation.py): the sandbox wraps
Bling's app factory (sandbox/app.py) and makes its settings before Bling reads them; the command
line reaches it only through bling/cli/sandbox.py.
"""

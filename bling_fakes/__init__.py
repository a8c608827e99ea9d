"""Fake Twilio, Help Scout and Mobile Commons for the sandbox, the benchmark and tests.

The production app never imports this package."""

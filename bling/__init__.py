"""Bling: a hotline between Twilio (SMS and calls) and Help Scout."""

__version__ = "0.1.0"

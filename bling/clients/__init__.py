"""API clients every feature shares: Help Scout, Twilio, and supporters' conversations."""

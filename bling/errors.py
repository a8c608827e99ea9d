"""Domain exceptions shared by the host and plugins.

Plugins raise these; the edge maps them to HTTP answers once, and the
worker maps them to retry, dead-letter or done.
"""


class ConfigError(Exception):
    """A setting, routes.toml or BLING_CONFIG entry is missing or malformed.

    The message always names the file or variable and the key at fault.
    """


class PermanentError(Exception):
    """Retrying cannot help: the job goes to the dead letters at once."""


class RetryLater(Exception):
    """Try the job again later, after ``retry_after`` seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class AmbiguousOutcome(Exception):
    """Marker: an external write may or may not have happened.

    API clients mix it into their timeout/5xx-on-write errors, so
    ``Context.effect`` knows to look for the write before redoing it.
    """


class TransportError(Exception):
    """An SMS transport (Twilio, Mobile Commons, a plugin's) could not send a text.

    Plugins that send SMS catch this, never a provider's own class, so no
    plugin outside the transports needs to know which provider a mailbox
    uses. ``permanent`` says whether a retry can help, ``explanation`` says
    why in plain words for an agent's note, ``code`` is the provider's code.
    """

    permanent: bool = True
    code: int | str | None = None
    explanation: str = "the text service refused the message"

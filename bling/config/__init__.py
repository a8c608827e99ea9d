"""The host's settings: environment variables, mailboxes, per-mailbox options."""

"""The tally's per-mailbox option (BLING_CONFIG), declared by ``bling_mailbox_options``."""

from __future__ import annotations

from marshmallow import Schema, fields


class TallyOptions(Schema):
    tally = fields.Boolean(load_default=True)  # false: this mailbox's texts are not counted

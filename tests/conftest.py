"""Shared pytest fixtures: cassette location and scrubbing, settings, clients."""

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def vcr_cassette_dir(request):
    """Keep cassettes in the top-level cassettes/<test module>/ folder."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    return os.path.join(ROOT, "cassettes", module)


@pytest.fixture(scope="session")
def vcr_config():
    """Scrub credentials; match on method and full URL (body where asked)."""
    return {
        "filter_headers": ["authorization"],
        "filter_post_data_parameters": ["client_id", "client_secret"],
        "decode_compressed_response": True,
        "record_mode": "none",
    }

"""The edge: the Falcon app, signature verifiers, accepting events, the web worker and gunicorn."""

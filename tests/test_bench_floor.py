"""bench/floor_app.py serves the floor, not Bling: the ratio Bling / floor means nothing otherwise.

Planted bug it catches (it happened): the floor replaced ``bling.edge.wsgi.application_factory``
after ``run_gunicorn`` had bound it as its default, so the "floor" served Bling and the benchmark
reported Bling at 0.94x of itself.
"""

from __future__ import annotations

import importlib.util
import sys

from bling.config.settings import ROOT


def test_the_floor_runs_its_own_app_on_blings_runner(monkeypatch):
    import bling.edge.wsgi as wsgi

    spec = importlib.util.spec_from_file_location("floor_app", ROOT / "bench" / "floor_app.py")
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)
    served = {}
    monkeypatch.setattr(wsgi, "run_gunicorn", lambda bind, workers, **kw: served.update(bind=bind, workers=workers, **kw))
    monkeypatch.setattr(sys, "argv", ["floor_app.py", "--bind", "127.0.0.1:5999", "--workers", "2"])
    floor.main()
    assert served["bind"] == "127.0.0.1:5999" and served["workers"] == 2
    assert served.get("app_factory") is floor.create_app, "the floor must hand run_gunicorn its own app"

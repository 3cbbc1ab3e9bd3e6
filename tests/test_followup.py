from rag import Turn
from rag.followup import continues, leans_back, retrieval_query

HISTORY = [Turn("why Pakistan?", "…")]


def test_continuations_borrow_the_previous_question():
    for question in ("and what could go wrong?", "وما المخاطر؟", "ماذا عن الولايات المتحدة؟", "What about the risks?"):
        assert continues(question), question
        assert retrieval_query(question, HISTORY) == f"why Pakistan? {question}"


def test_self_contained_questions_stand_alone():
    for question in ("What do the United States and its allies fear after the war?",
                     "وزير الخارجية الباكستاني ماذا قال عن الخطة الأمريكية في غزة؟",
                     "فرنسا هل تشارك في القوة الدولية المقترحة؟"):
        assert not leans_back(question), question
        assert retrieval_query(question, HISTORY) == question


def test_short_questions_lean_back_without_being_continuations():
    assert leans_back("Why Pakistan?") and not continues("Why Pakistan?")


def test_chains_keep_their_topic():
    history = [Turn("why Pakistan?"), Turn("and what could go wrong?")]
    assert retrieval_query("and locally?", history) == "why Pakistan? and what could go wrong? and locally?"


def test_no_history_no_change():
    assert retrieval_query("and what could go wrong?", []) == "and what could go wrong?"

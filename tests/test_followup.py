from rag import Turn
from rag.followup import continues, leans_back, retrieval_query, wants_new

from conftest import ROOT

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


def test_only_open_continuations_hold_back_what_was_quoted():
    for question in ("and what could go wrong?", "وما المخاطر؟", "and regionally?"):
        assert wants_new(question), question
    # A follow-up that names its subject may be answered by a sentence the last answer quoted.
    for question in ("And who provided the sign language translation?", "How many troops would it have?",
                     "ومن كان يحمل الرقم القياسي قبله؟", "Why Pakistan?"):
        assert not wants_new(question), question


def test_follow_up_set_second_turn(seed_engine):
    """eval/followups.py over the seed article: every follow-up finds its passage in the top five, and
    the open one («وما المخاطر؟») does not repeat the previous answer."""
    from eval import followups

    conversations = [c for c in followups.load(followups.DEFAULT_SET) if c["library"] == "seed"]
    rows = followups.run(conversations, {"seed-ar": ROOT / "seeds"}, engine_for=lambda folder: seed_engine)
    conversation, alone = rows["seed-ar"]["conversation"], rows["seed-ar"]["alone"]
    assert len(conversation) == len(alone) == len(conversations) == 12
    assert all(row.first_relevant_rank is not None and row.first_relevant_rank <= 5 for row in conversation)
    risks = next(row for row in conversation if row.id == "seed-risks-ar")
    assert not risks.abstained and "باكستان" not in risks.answer.split("\n", 1)[1]
    assert followups.table(rows)[-1].startswith("| all | both | 12 |")

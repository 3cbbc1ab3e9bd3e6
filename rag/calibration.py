"""How questions this library cannot answer score in it, measured once per index generation.

The abstention floors (settings.abstain_below...) are absolute cosines calibrated on XQuAD's Wikipedia
paragraphs, and a library of one's own documents sits elsewhere on that scale: off-topic questions
reach a margin of -0.065 (median, Arabic) over the seed article alone, -0.015 over ten short pages on
ten topics, and above the floor over XQuAD's 48 articles (docs/natural.md). So a fixed set of
off-topic probe questions, in Arabic and in English, is asked of the library the way the answerer
asks (retrieval, then the best sentence's margin over its direction's floor), and the median margin
per question language is kept with the index generation.

With an LLM, that is the off-topic floor: a question that scores no better than a typical off-topic
question in this library is refused without asking the model; anything above, up to the extractive
floor, is the model's to judge (rag/llm_answer.py). The probes are everyday and general-knowledge
questions on many subjects; a library about one or two of them (a cookery book answers the pasta
question) moves the median little.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .index_state import write_json

VERSION = 1
FILE = "probes.json"  # in the index generation's state folder, removed with it

PROBES_EN = (
    "What is the boiling point of water at the top of Mount Everest?",
    "How many moons does Jupiter have?",
    "Who wrote the novel War and Peace?",
    "How do I reset a forgotten email password?",
    "What is the offside rule in football?",
    "How long should pasta be boiled?",
    "Why is the sky blue?",
    "When did the first human land on the Moon?",
    "What is the capital of Australia?",
    "How does a refrigerator keep food cold?",
    "Who painted the Mona Lisa?",
    "What causes earthquakes?",
    "How much protein does an adult need each day?",
    "What is the difference between a virus and a bacterium?",
    "How do I change a flat tyre on a car?",
    "Which planet is closest to the Sun?",
    "What is inflation in economics?",
    "How many players are on a basketball team?",
    "What programming language is used to build websites?",
    "When was the printing press invented?",
    "How do bees make honey?",
    "What is the tallest building in the world?",
    "How can I improve my sleep?",
    "Who discovered penicillin?",
    "What is the speed of light?",
    "How do solar panels produce electricity?",
    "What are the rules of chess castling?",
    "Why do leaves change colour in autumn?",
    "How much does a new smartphone cost?",
    "Where is the Amazon rainforest?",
    "What is the population of Japan?",
    "How do vaccines train the immune system?",
    "Who won the last football World Cup?",
    "What is a black hole?",
    "How do I bake sourdough bread at home?",
    "What does a stock market index measure?",
    "How old is the universe?",
    "What language is spoken in Brazil?",
    "How does a jet engine work?",
    "Why do cats purr?",
)

PROBES_AR = (
    "ما درجة غليان الماء على قمة إيفرست؟",
    "كم قمراً لكوكب المشتري؟",
    "من كتب رواية الحرب والسلام؟",
    "كيف أستعيد كلمة مرور البريد الإلكتروني المنسية؟",
    "ما قاعدة التسلل في كرة القدم؟",
    "كم دقيقة تحتاج المعكرونة لتنضج؟",
    "لماذا تبدو السماء زرقاء؟",
    "متى هبط أول إنسان على سطح القمر؟",
    "ما عاصمة أستراليا؟",
    "كيف تحفظ الثلاجة الطعام بارداً؟",
    "من رسم لوحة الموناليزا؟",
    "ما الذي يسبب الزلازل؟",
    "كم غراماً من البروتين يحتاج البالغ يومياً؟",
    "ما الفرق بين الفيروس والبكتيريا؟",
    "كيف أغيّر إطار السيارة المثقوب؟",
    "ما أقرب كوكب إلى الشمس؟",
    "ما هو التضخم في الاقتصاد؟",
    "كم لاعباً في فريق كرة السلة؟",
    "ما لغة البرمجة المستخدمة في بناء المواقع؟",
    "متى اخترعت المطبعة؟",
    "كيف يصنع النحل العسل؟",
    "ما أطول مبنى في العالم؟",
    "كيف أحسّن نومي ليلاً؟",
    "من اكتشف البنسلين؟",
    "ما سرعة الضوء؟",
    "كيف تولّد الألواح الشمسية الكهرباء؟",
    "ما قواعد التبييت في الشطرنج؟",
    "لماذا تتغير ألوان أوراق الشجر في الخريف؟",
    "كم سعر الهاتف الذكي الجديد؟",
    "أين تقع غابات الأمازون؟",
    "كم عدد سكان اليابان؟",
    "كيف تدرّب اللقاحات جهاز المناعة؟",
    "من فاز بكأس العالم الأخيرة لكرة القدم؟",
    "ما هو الثقب الأسود؟",
    "كيف أخبز خبز العجين المخمر في البيت؟",
    "ماذا يقيس مؤشر سوق الأسهم؟",
    "كم عمر الكون؟",
    "ما اللغة الرسمية في البرازيل؟",
    "كيف يعمل المحرك النفاث؟",
    "لماذا تخرخر القطط؟",
)


@dataclass(frozen=True)
class Calibration:
    """Per question language, the median margin over the abstention floor that the off-topic probes
    reach in this library (negative: under the floor)."""

    typical: dict[str, float]
    embedder: str
    probes: int

    def off_topic_floor(self, language: str, lowest: float) -> float:
        """The margin below which a question in `language` is off-topic here: what a typical probe
        reaches, never below `lowest` and never above the extractive floor (0)."""
        return min(0.0, max(lowest, self.typical.get(language, lowest)))

    def to_json(self) -> dict:
        return {"version": VERSION, "embedder": self.embedder, "probes": self.probes, "typical": self.typical}

    @classmethod
    def from_json(cls, data: dict) -> "Calibration | None":
        if data.get("version") != VERSION:
            return None
        return cls(typical={k: float(v) for k, v in data["typical"].items()}, embedder=data["embedder"],
                   probes=int(data["probes"]))


_VECTORS: dict[tuple[str, str], list[np.ndarray]] = {}


def measure(search: Callable, decide: Callable, embed: Callable[[list[str]], Sequence[np.ndarray]],
            embedder: str) -> Calibration:
    """Ask every probe of the library: `search(question, vector)` gives the hits the answerer would
    get, `decide(question, hits, vector)` the margin it decides on (ExtractiveAnswerer.decision),
    `embed` the query vectors."""
    typical: dict[str, float] = {}
    for language, probes in (("en", PROBES_EN), ("ar", PROBES_AR)):
        if (embedder, language) not in _VECTORS:  # the same for every library this process measures
            _VECTORS[embedder, language] = list(embed(list(probes)))
        margins = [m for probe, vector in zip(probes, _VECTORS[embedder, language])
                   if (m := decide(probe, search(probe, vector), vector)) is not None]
        if margins:
            typical[language] = round(float(np.median(margins)), 4)
    return Calibration(typical=typical, embedder=embedder, probes=len(PROBES_EN) + len(PROBES_AR))


def load(folder: Path, embedder: str) -> Calibration | None:
    """The calibration stored with an index generation, if it was made with this embedder."""
    try:
        found = Calibration.from_json(json.loads((folder / FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return found if found is not None and found.embedder == embedder else None


def save(folder: Path, calibration: Calibration) -> None:
    temporary = folder / (FILE + ".tmp")  # a reader never sees half a file
    write_json(temporary, calibration.to_json())
    temporary.replace(folder / FILE)

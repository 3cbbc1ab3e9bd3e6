"""Answer-type cues: what kind of fact a question asks for, and whether a sentence holds one.

A "who" question is answered by a sentence naming a person, "when" by a date, "how many" by a
number, "where" by a place, "why" by a cause. The embedder ranks sentences by topic, so the
document's topical opening often outranks the sentence holding the fact; these cues let the
answerer prefer the sentence of the right type (eval/natural: docs/natural.md). Both languages,
and both ways across them: the question's type is read in its language, the cue in the sentence's.
"""
from __future__ import annotations

import re

from .text import normalize

WHO, WHEN, NUMBER, WHERE, WHY = "who", "when", "number", "where", "why"
# Numbers of one kind: a price is answered by an amount of money, a speed by a speed, an age by an
# age. Any number does not do: "how much does a consultation cost?" over a clinic's page that gives
# only its patient count has no answer, and the sentence with the count must not pass for one.
PRICE, SPEED, AGE = "price", "speed", "age"
SPECIFIC = frozenset({PRICE, SPEED, AGE})

# Question words, matched on normalised text (أ/إ/آ -> ا, ى -> ي, ة -> ه, tashkeel gone).
_QUESTION = (
    (WHY, re.compile(r"\b(?:why|how come|what caused|what made|reason)\b|(?:^|\s)(?:لماذا|لم|ما سبب|ما الذي ادي|ما الذي جعل)(?:\s|[؟?]|$)")),
    (WHERE, re.compile(r"\bwhere\b|(?:^|\s)(?:اين|من اين|الي اين)(?:\s|[؟?]|$)")),
    (WHEN, re.compile(r"\b(?:when|what year|which year|what date|which month|what month|which day|what day|what time|since when)\b"
                      r"|(?:^|\s)(?:متي|في اي (?:عام|سنه|شهر|يوم)|اي يوم|اي شهر|منذ متي)(?:\s|[؟?]|$)")),
    (NUMBER, re.compile(r"\b(?:how (?:many|much|long|old|far|big|large|tall|high|wide|deep|heavy)|what size|what (?:does|did) it cost|what is the (?:price|cost|budget)|"
                        r"number of|what cut|budget)\b|(?:^|\s)(?:كم|ما عدد|ما ثمن|ما سعر|ما ميزانيه|ما حجم|ما طول|ما مساحه)(?:\s|[؟?]|$)")),
    (WHO, re.compile(r"\b(?:who|whom|whose)\b|^\s*(?:من|ومن)\s(?!اين)|(?:^|\s)(?:من هو|من هي|من هم)(?:\s|[؟?]|$)")),
)

# Checked when the question asks for a number or for nothing the cues above know ("what is the price of ...").
_SPECIFIC_QUESTION = (
    (AGE, re.compile(r"\b(?:how old|what age|at what age)\b|(?:^|\s)(?:كم|ما)\s(?:كان |يبلغ |كانت |تبلغ )?عمر")),
    (SPEED, re.compile(r"\b(?:how fast|what speed|top speed|speed)\b|(?:^|\s)سرعه(?=\s|[؟?]|$)")),
    (PRICE, re.compile(r"\b(?:cost|costs|price|prices|priced|fee|fees|fare|fares|budget|how much money)\b"
                       r"|(?:^|\s)(?:ثمن|سعر|اسعار|ميزانيه|تكلفه|رسوم|يكلف|تكلف|اجر|راتب)(?=\s|[؟?]|$)|(?:^|\s)(?:ما|كم) كلفه(?=\s|[؟?]|$)")),
)
# Words that ask for a price only in a "how much" question: "a charge moving through a magnetic field",
# "refusing to pay taxes", «الطرف الذي كلفه المجلس» (whom the council charged with a task) ask for none.
_PAID = re.compile(r"\b(?:paid|pay|pays|charge|charges|charged)\b")
_COUNT = re.compile(r"\bhow many\b|(?:^|\s)(?:كم مره|كم عدد|ما عدد)(?=\s|[؟?]|$)")
_CURRENCY = re.compile(r"[£$€]|\b(?:pounds?|pence|dollars?|euros?|dinars?|shekels?|riyals?|dirhams?)\b"
                       r"|(?:دينار|دنانير|شيكل|جنيه|دولار|ريال|درهم|ليره|قرش|فلس)")
_SPEED = re.compile(r"\b(?:km/h|kph|mph|rpm|knots|(?:miles|kilometres|kilometers|metres|meters|revolutions|rotations) "
                    r"(?:an|per|a) (?:hour|minute|second))\b|كم/س|(?:كيلومتر|ميل|متر|دوره|دورات|عقده)\w* (?:في ال|بال)(?:ساعه|دقيقه|ثانيه)(?=\s|[،,.)]|$)")
_AGE = re.compile(r"\b(?:years? old|year-old|aged \d+|aged [a-z]+|at the age of|at age|age of \d+|at \d+ years|"
                  r"years ago|(?:thousand|million|billion) years)\b"
                  r"|(?:^|\s)(?:عن عمر|في سن|بعمر|عمره|عمرها|من العمر|في عمر)(?=\s|[،,.]|$)"
                  r"|(?:الف|مليون|مليار|ملايين|الاف) (?:سنه|عام)|(?:ملايين|الاف) السنين")
_DIGITS = re.compile(r"\d")
_NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half|third|quarter)\b"
    r"|(?:^|\s)[وب]?(?:ال)?(?:واحد|اثنان|اثنين|اثنتان|ثلاث\w*|اربع\w*|خمس\w*|ست\w*|سبع\w*|ثماني\w*|تسع\w*|عشر\w*|"
    r"مئه|مئتين|مئتي|ماءه|الف|الفين|الفي|الاف|مليون|مليوني|ملايين|نصف|ثلث|ربع|خمس)(?=\s|[،,.؛]|$)")
_MONEY = re.compile(r"[£$€]|\b(?:pounds?|dollars?|euros?|per cent|percent)\b|(?:دينار|دنانير|شيكل|جنيه|دولار|ريال|درهم|في المئه)")
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|winter")
_AR_MONTHS = (r"يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|كانون|شباط|اذار|"
              r"نيسان|ايار|حزيران|تموز|اب|ايلول|تشرين|السبت|الاحد|الاثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|"
              r"صيف|شتاء|ربيع|خريف|صباحا|مساء|فجرا")
_DATE = re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})\b|\b(?:{_MONTHS})\b|(?:^|\s)[وفب]?(?:ال)?(?:{_AR_MONTHS})(?=\s|[،,.؛]|$)"
                   rf"|(?:^|\s)(?:عام|سنه|القرن)(?=\s)")
# People: a title before a name, or (English) two capitalised words inside the sentence.
_PERSON = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Sir|Professor|Prof)\b\.?|(?<=[a-z,;] )[A-Z][a-z]+ [A-Z][a-z]+")
_AR_PERSON = re.compile(r"(?:^|\s)[وب]?(?:ال)?(?:دكتور|دكتوره|مهندس|معلم|معلمه|خطاط|مزارع|صياد|امين|امينه|استاذ|استاذه|"
                        r"شيخ|سيد|سيده|رئيس|مدير|مديره|ابن|ابنته|بن|ابو|ام)(?=\s)")
_PLACE = re.compile(r"\b(?:in|at|from|near|to) (?:the )?[A-Z][a-z]+")
_AR_PLACE = re.compile(r"(?:^|\s)(?:في|قرب|من|الي|شمال|جنوب|شرق|غرب)\s+(?:ال)?\w+|(?:مدينه|قريه|شارع|واحه|حي|ميناء|جامعه|مزرعه)")
_CAUSE = re.compile(r"\b(?:because|due to|owing to|as a result|caused|so that|since|after|thanks to|led to|therefore)\b")
_AR_CAUSE = re.compile(r"(?:^|\s)[وف]?(?:لان|لانه|لانها|بسبب|نظرا|اثر|بعد ان|لذلك|ولهذا|لهذا|مما|بفضل|لكي|كي|كون|كونه|كونها|اذ|حيث ان|حيث انه|حيث انها)(?=\s|[،,]|$)")


def question_type(question: str) -> str | None:
    """The kind of fact the question asks for, or None (what, how, yes/no: no cue helps)."""
    text = normalize(question).lower().strip()
    asked = next((kind for kind, pattern in _QUESTION if pattern.search(text)), None)
    # "How many times more did they pay?" asks for a count, not a price.
    if asked in (NUMBER, None) and not _COUNT.search(text):
        specific = next((kind for kind, pattern in _SPECIFIC_QUESTION if pattern.search(text)), None)
        if specific is None and asked == NUMBER and _PAID.search(text):
            specific = PRICE
        return specific or asked
    return asked


def holds(kind: str | None, sentence: str) -> bool:
    """Whether the sentence holds a fact of that kind (in English or Arabic, digits of either script)."""
    if kind is None:
        return False
    folded = normalize(sentence)
    lowered = folded.lower()
    if kind == PRICE:
        return bool(_CURRENCY.search(lowered))
    if kind == SPEED:
        return bool(_SPEED.search(lowered))
    if kind == AGE:
        return bool(_AGE.search(lowered))
    if kind == NUMBER:
        return bool(_DIGITS.search(folded) or _NUMBER_WORDS.search(lowered) or _MONEY.search(lowered))
    if kind == WHEN:
        return bool(_DATE.search(lowered))
    if kind == WHO:
        return bool(_PERSON.search(sentence) or _AR_PERSON.search(folded))
    if kind == WHERE:
        return bool(_PLACE.search(sentence) or _AR_PLACE.search(folded))
    if kind == WHY:
        return bool(_CAUSE.search(lowered) or _AR_CAUSE.search(folded))
    return False

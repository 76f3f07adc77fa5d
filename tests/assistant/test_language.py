"""The language check: texts confidently in another language are named; English never is."""

from __future__ import annotations

import pytest

from assistant.language import LangidLanguageDetector, count_words, language_name

NOT_ENGLISH = {
    "es": "No quiero vivir más. Tengo las pastillas preparadas para esta noche.",
    "fr": "Je ne veux plus vivre. J'ai préparé les médicaments pour ce soir.",
    "de": "Ich will nicht mehr leben. Die Tabletten liegen für heute Nacht bereit.",
    "pt": "Não quero mais viver. Tenho os comprimidos prontos para esta noite.",
    "ar": "لا أريد أن أعيش بعد الآن. جهزت الحبوب لهذه الليلة.",
    # Hindi in Latin letters, which py3langid reads as English
    "hi": "mujhe ab jeena nahi hai, bahut akela feel hota hai, kuch accha nahi lagta",
}


@pytest.mark.parametrize(("code", "text"), NOT_ENGLISH.items())
def test_texts_in_other_languages_are_named(
    language_detector: LangidLanguageDetector, code: str, text: str
) -> None:
    assert language_detector.non_english(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "kms fr fr",  # slang: a low-confidence guess at another language
        "I am anxious",  # short plain English: low-confidence English
        "ngl im so done w everything",
        "I've written goodbye letters and saved up pills.",
        "Had a nice walk with my dog today, work was fine.",
        "Muy bien",  # too short to tell, whatever the language
        "My therapist [NAME] says I have PTSD and I can't sleep.",
        "yaar I am so tired of everything, accha whatever",  # a Hindi word or two in English
    ],
)
def test_english_and_short_texts_are_not_flagged(
    language_detector: LangidLanguageDetector, text: str
) -> None:
    assert language_detector.non_english(text) == ""


def test_redaction_placeholders_do_not_count_as_english(
    language_detector: LangidLanguageDetector,
) -> None:
    assert language_detector.non_english("Me llamo [NAME] y no quiero vivir más.") == "es"
    assert count_words("no quiero vivir") == 3 and count_words("我不想活了") == 5


def test_language_names_are_readable() -> None:
    assert language_name("es") == "Spanish (es)"
    assert language_name("qu") == "language code 'qu'"


def test_the_model_loads_on_first_use_not_when_built() -> None:
    detector = LangidLanguageDetector()
    assert detector._identifier is None
    assert detector.non_english("ok then") == ""  # too short: the model is not needed
    assert detector._identifier is None
    assert detector.detect("Ich will nicht mehr leben.")[0] == "de"
    assert detector._identifier is not None

"""A small, fixed set of knowledge-base passages for the assistant tests.

Written for the tests (so edits to the real corpus cannot break them) and validated by the real
schema (:class:`knowledge_base.schema.Passage`), so they look exactly like corpus passages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from knowledge_base.schema import Passage

_EVIDENCE = {
    "guideline": "NICE NG222",
    "section": "Treatment for a new episode of depression",
    "year": 2022,
    "url": "https://www.nice.org.uk/guidance/ng222",
}

_RAW: list[dict[str, Any]] = [
    {
        "id": "test-dep-behavioural-activation",
        "title": "Behavioural activation: small planned activities for low mood",
        "conditions": ["depression"],
        "severity": ["mild", "moderate"],
        "risk": ["none", "indicator"],
        "intervention_type": "behaviour_change",
        "audience": "person",
        "text": (
            "When mood is low it is natural to withdraw, but doing less usually makes the low mood "
            "deeper. Behavioural activation reverses this cycle by planning small activities in "
            "advance rather than waiting to feel motivated. Write down what you do each hour for a "
            "few days and rate your mood from 0 to 10 alongside it. Then pick routine, pleasant and "
            "necessary activities, such as a shower, a short walk or a call with a friend. Schedule "
            "one or two small ones each day at a set time, and make them easy enough to complete on "
            "a bad day. Build up gradually over two to four weeks."
        ),
    },
    {
        "id": "test-dep-cbt-referral",
        "title": "Referral for psychological therapy in moderate depression",
        "conditions": ["depression"],
        "severity": ["moderate", "severe"],
        "risk": ["none", "indicator", "ideation"],
        "intervention_type": "psychological_therapy",
        "audience": "practitioner",
        "text": (
            "For moderate or severe depression, offer a course of individual cognitive behavioural "
            "therapy or behavioural activation delivered by a trained therapist, usually over "
            "sixteen sessions. Discuss the options with the person, including what each involves "
            "and how long it takes, and respect their preference. Review progress within four weeks "
            "using a validated measure such as the PHQ-9. If there is little improvement, consider "
            "a combination of therapy and an antidepressant after a review with a prescriber, and "
            "ask about suicidal thoughts at every review."
        ),
    },
    {
        "id": "test-anx-breathing",
        "title": "Slow breathing to ride out anxiety and panic",
        "conditions": ["anxiety"],
        "severity": ["minimal", "mild", "moderate"],
        "risk": ["none", "indicator"],
        "intervention_type": "guided_self_help",
        "audience": "person",
        "text": (
            "During a wave of anxiety or panic, breathing tends to become fast and shallow, which "
            "makes the physical symptoms stronger. Slow breathing helps the body settle. Breathe in "
            "gently through the nose for a count of four, then out through the mouth for a count of "
            "six, and repeat for a few minutes. Practise it daily when calm, so it is easier to use "
            "when anxiety rises. Panic sensations are unpleasant but not dangerous, and they pass, "
            "usually within ten minutes. Avoiding places where panic happened tends to keep the fear "
            "going."
        ),
    },
    {
        "id": "test-suicide-safety-plan",
        "title": "Collaborative safety planning after suicidal thoughts",
        "conditions": ["suicide_risk"],
        "severity": ["moderate", "severe"],
        "risk": ["ideation", "behavior", "attempt"],
        "intervention_type": "safety_planning",
        "audience": "practitioner",
        "text": (
            "When a person describes suicidal thoughts, ask directly about intent, plans and access "
            "to means; asking does not increase risk. Develop a written safety plan together: "
            "warning signs, internal coping strategies, people and places that distract, people to "
            "ask for help, professionals and crisis lines, and steps to make the environment safer, "
            "such as removing stockpiled medication. Give the person a copy and agree who else may "
            "see it. Arrange a same-day assessment when there is a plan, preparatory behaviour or a "
            "recent attempt, and follow up within a week in every case."
        ),
    },
    {
        "id": "test-general-sleep",
        "title": "Regular sleep routine for mood and anxiety",
        "conditions": ["general_wellbeing", "depression", "anxiety"],
        "severity": ["minimal", "mild", "moderate"],
        "risk": ["none", "indicator"],
        "intervention_type": "behaviour_change",
        "audience": "person",
        "text": (
            "Poor sleep and low mood feed each other. Going to bed and getting up at the same times "
            "every day, including weekends, steadies the body clock within a couple of weeks. Keep "
            "the bedroom dark and cool, put screens away an hour before bed, and avoid caffeine "
            "after midday and alcohol close to bedtime. If you cannot sleep after about twenty "
            "minutes, get up and do something calm in dim light until you feel sleepy. Short "
            "daytime naps are fine, but long ones make night-time sleep harder."
        ),
    },
]


def sample_passages() -> list[Passage]:
    """The samples as validated :class:`Passage` objects."""
    return [
        Passage.model_validate({**raw, "evidence": _EVIDENCE, "reviewed": "2026-11-25"})
        for raw in _RAW
    ]


def write_sample_corpus(folder: Path) -> Path:
    """Write the samples as corpus files (YAML front matter + Markdown body) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for passage in sample_passages():
        meta = passage.model_dump(mode="json", exclude={"text"})
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
        (folder / f"{passage.id}.md").write_text(f"---\n{front}---\n{passage.text}\n", "utf-8")
    return folder


def passage_dicts() -> list[dict[str, Any]]:
    """The samples as ``RetrievedPassage.to_dict()``-like rows, in file order."""
    return [
        {
            "id": p.id,
            "title": p.title,
            "text": p.text,
            "metadata": {"intervention_type": p.intervention_type, "audience": p.audience},
            "score": 1.0,
            "scores": {},
            "citation": p.citation,
        }
        for p in sample_passages()
    ]

"""A small, hand-written intervention corpus for tests (written into tmp_path, never the repo)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.settings import KnowledgeBaseSettings


@dataclass(frozen=True)
class FixturePassage:
    id: str
    title: str
    conditions: tuple[str, ...]
    severity: tuple[str, ...]
    risk: tuple[str, ...]
    type: str
    text: str
    audience: str = "person"
    population: tuple[str, ...] = ()
    after_treatment: bool = False
    long_standing: bool = False
    requires: tuple[str, ...] = ()


_TAIL = (
    " Talk it through with your GP or practitioner, who can adapt this to your situation, check how"
    " things are going after a few weeks and suggest another option if it is not helping enough."
)

LOW = ("minimal", "mild", "moderate")
ALL_SEV = ("minimal", "mild", "moderate", "severe")
NO_RISK = ("none", "indicator")
CRISIS = ("ideation", "behavior", "attempt")

PASSAGES: tuple[FixturePassage, ...] = (
    FixturePassage(
        "dep-behavioural-activation",
        "Behavioural activation for low mood",
        ("depression",),
        ("mild", "moderate"),
        NO_RISK,
        "behaviour_change",
        "When mood is low, people stop doing the things that used to give them pleasure or a sense of"
        " achievement, and withdrawing makes the low mood deeper. Behavioural activation breaks the"
        " cycle: list small activities you used to enjoy, schedule one or two each day, and notice"
        " how your mood changes afterwards. Start with very small steps such as a short walk or a"
        " call to a friend." + _TAIL,
    ),
    FixturePassage(
        "dep-guided-self-help-cbt",
        "Guided self-help based on CBT for depression",
        ("depression",),
        ("mild", "moderate"),
        NO_RISK,
        "guided_self_help",
        "Guided self-help uses a workbook or an online course based on cognitive behavioural therapy,"
        " with short regular sessions with a trained practitioner who supports you through it. You"
        " learn to spot unhelpful thinking patterns such as all-or-nothing thinking, test them"
        " against the evidence and plan activities. Most courses run for six to eight weeks."
        + _TAIL,
    ),
    FixturePassage(
        "dep-cbt-individual",
        "Individual cognitive behavioural therapy for depression",
        ("depression",),
        ("moderate", "severe"),
        ("none", "indicator", "ideation"),
        "psychological_therapy",
        "For more severe depression, individual cognitive behavioural therapy with a therapist over"
        " sixteen or more sessions is one of the most effective treatments, alone or combined with"
        " an antidepressant. Sessions focus on how thoughts, feelings and behaviour keep each other"
        " going, and on practical changes between sessions. Ask your GP about a referral to talking"
        " therapies." + _TAIL,
    ),
    FixturePassage(
        "dep-antidepressant-review",
        "Reviewing antidepressant medication",
        ("depression",),
        ("moderate", "severe"),
        ("none", "indicator", "ideation"),
        "medication_review",
        "Antidepressants such as sertraline can help with moderate or severe depression. They take"
        " two to four weeks to work, side effects are common early on, and stopping suddenly can"
        " cause withdrawal symptoms, so changes should be planned with the prescriber. A review"
        " after starting, especially for younger adults, checks benefit, side effects and any"
        " increase in suicidal thoughts." + _TAIL,
    ),
    FixturePassage(
        "dep-specialist-referral",
        "Referral to specialist mental-health services for severe depression",
        ("depression",),
        ("severe",),
        ("none", "indicator", "ideation", "behavior"),
        "referral",
        "When depression is severe, keeps coming back, or has not improved after two treatments, a"
        " referral to a specialist mental-health team is appropriate. The team can offer combined"
        " treatment, review the diagnosis and support the person and their family. Urgent referral"
        " is needed when there is significant risk, psychotic symptoms or severe self-neglect."
        + _TAIL,
        "practitioner",
    ),
    FixturePassage(
        "anx-breathing-panic",
        "Slow breathing to ride out a panic attack",
        ("anxiety",),
        LOW,
        NO_RISK,
        "behaviour_change",
        "During a panic attack the racing heart, dizziness and breathlessness feel dangerous but are"
        " the body's alarm system and pass within minutes. Slow breathing helps: breathe in through"
        " the nose for four counts, hold briefly, and breathe out slowly for six counts. Stay where"
        " you are rather than escaping, so you learn the panic passes on its own." + _TAIL,
    ),
    FixturePassage(
        "anx-worry-time",
        "Worry time: postponing worries about the future",
        ("anxiety",),
        LOW,
        NO_RISK,
        "guided_self_help",
        "Generalised anxiety often means worrying about many things most of the day. Worry time is"
        " a technique from guided self-help: write each worry down when it comes, postpone it to a"
        " fixed twenty minute slot later in the day, and during that slot sort worries into ones you"
        " can act on and ones you cannot. Many people find the worries feel smaller later." + _TAIL,
    ),
    FixturePassage(
        "anx-cbt-therapy",
        "Cognitive behavioural therapy for generalised anxiety and panic",
        ("anxiety",),
        ("moderate", "severe"),
        NO_RISK,
        "psychological_therapy",
        "When anxiety or panic attacks have not improved with self-help, individual cognitive"
        " behavioural therapy with a therapist is recommended. It helps you understand the cycle of"
        " anxious thoughts, physical sensations and avoidance, and gradually face feared situations."
        " Applied relaxation is an alternative with similar results for generalised anxiety."
        + _TAIL,
    ),
    FixturePassage(
        "sub-alcohol-reduction",
        "Cutting down on drinking alcohol",
        ("substance_use",),
        LOW,
        NO_RISK,
        "behaviour_change",
        "If you drink alcohol to cope with stress or sleep, keeping a drink diary for a week shows"
        " patterns. Set drink-free days, swap to smaller glasses and lower strength drinks, and plan"
        " what to do instead at the times you usually drink. Heavy daily drinkers should not stop"
        " suddenly because withdrawal can be dangerous; ask for medical support first." + _TAIL,
    ),
    FixturePassage(
        "sub-specialist-treatment",
        "Specialist treatment services for alcohol and drug dependence",
        ("substance_use",),
        ("moderate", "severe"),
        ("none", "indicator", "ideation"),
        "referral",
        "Specialist alcohol and drug services offer assessment, medically assisted withdrawal,"
        " medication to prevent relapse, psychological support and mutual-aid groups. People can"
        " often refer themselves. Dependence on alcohol, opioids or benzodiazepines needs planned"
        " withdrawal with medical supervision rather than stopping abruptly." + _TAIL,
        "practitioner",
    ),
    FixturePassage(
        "gen-sleep-hygiene",
        "Sleep routines that support mental health",
        ("general_wellbeing",),
        ALL_SEV,
        ("none", "indicator", "ideation"),
        "psychoeducation",
        "Poor sleep and insomnia make low mood, anxiety and irritability worse. Keep regular times"
        " for going to bed and getting up, even at weekends, avoid caffeine after midday and screens"
        " in the last hour, and get out of bed if you cannot sleep after twenty minutes. Daylight in"
        " the morning and physical activity during the day help the body clock." + _TAIL,
    ),
    FixturePassage(
        "gen-peer-support",
        "Peer support and staying connected",
        ("general_wellbeing",),
        ALL_SEV,
        ("none", "indicator", "ideation"),
        "social_support",
        "Loneliness and isolation make most mental-health problems harder. Peer support groups, run"
        " by people with lived experience, offer understanding and practical tips, in person or"
        " online. Reconnecting with one trusted friend or family member, even by message, is a good"
        " first step; community activities and volunteering can build connection over time."
        + _TAIL,
    ),
    FixturePassage(
        "sr-safety-plan",
        "Making a safety plan for suicidal thoughts",
        ("suicide_risk", "depression"),
        ALL_SEV,
        ("indicator", "ideation", "behavior", "attempt"),
        "safety_planning",
        "A safety plan is a short written list made in a calm moment to use when suicidal thoughts"
        " build: your warning signs, things you can do alone to get through the moment, people and"
        " places that distract you, people you can ask for help, professionals and crisis lines to"
        " contact, and how to make your surroundings safer by putting means out of reach." + _TAIL,
    ),
    FixturePassage(
        "sr-safety-plan-practitioner",
        "Collaborative safety planning with a person at risk",
        ("suicide_risk",),
        ALL_SEV,
        ("ideation", "behavior", "attempt"),
        "safety_planning",
        "Practitioners should develop a safety plan together with the person rather than for them,"
        " in their own words, and agree who holds copies. Review it at every contact, include"
        " reducing access to means such as stockpiled medication, and involve family or carers when"
        " the person agrees. A no-suicide contract is not a substitute for a safety plan." + _TAIL,
        "practitioner",
    ),
    FixturePassage(
        "sr-crisis-lines",
        "Crisis lines and emergency help",
        ("suicide_risk",),
        ALL_SEV,
        ("ideation", "behavior", "attempt"),
        "crisis_resources",
        "If you are thinking about ending your life or have harmed yourself, you do not have to cope"
        " alone. Call or text a crisis line such as 988 in the United States to talk to a trained"
        " counsellor any time of day or night. If you are in immediate danger, call emergency"
        " services or go to the nearest emergency department, and tell someone close to you."
        + _TAIL,
    ),
    FixturePassage(
        "sr-urgent-assessment",
        "Urgent same-day assessment after self-harm or a suicide attempt",
        ("suicide_risk",),
        ALL_SEV,
        ("behavior", "attempt"),
        "crisis_resources",
        "After self-harm or a suicide attempt, the person should be offered an urgent same-day"
        " assessment by a mental-health crisis team or the emergency department, with physical"
        " treatment first. Stay with the person, remove means where it is safe, and arrange follow"
        " up within days, because the weeks after an attempt carry the highest risk." + _TAIL,
        "practitioner",
    ),
    FixturePassage(
        "dep-stopping-antidepressants",
        "Stopping antidepressants safely",
        ("depression",),
        ("mild", "moderate", "severe"),
        ("none", "indicator"),
        "medication_review",
        "When you and your prescriber agree it is time to stop an antidepressant, reduce the dose"
        " gradually over weeks or months rather than stopping at once. Dizziness, low mood,"
        " anxiety and sleep changes can follow a fast reduction; note them and slow down if they"
        " come. Keep up what helped you recover, such as routine and activity, while you taper."
        + _TAIL,
        after_treatment=True,
    ),
    FixturePassage(
        "sub-family-support",
        "Support for families affected by someone's drinking",
        ("substance_use",),
        ALL_SEV,
        ("none", "indicator"),
        "social_support",
        "If someone close to you drinks too much, you can get support in your own right, whether"
        " or not they want to change. Family groups and carer services help you look after your"
        " own health, set limits calmly, stop covering for their drinking and respond to anger"
        " or hidden bottles safely. Talk with them when they are sober about what you have"
        " noticed, without blaming." + _TAIL,
        population=("families_carers",),
    ),
    FixturePassage(
        "ed-early-referral",
        "Early referral for eating disorders",
        ("eating_disorder",),
        ALL_SEV,
        ("none", "indicator", "ideation"),
        "referral",
        "Restricting food, bingeing, purging by vomiting or laxatives, and intense fear of weight"
        " gain are signs that need assessment by an eating-disorder service without waiting for"
        " weight to fall. Early specialist treatment works better. A GP can check physical health"
        " such as heart rate and blood tests while the referral is made." + _TAIL,
    ),
)

EVIDENCE = {
    "guideline": "NICE NG222",
    "section": "Test section",
    "year": 2022,
    "url": "https://www.nice.org.uk/guidance/ng222",
}


def passage_markdown(p: FixturePassage, **overrides: object) -> str:
    """The passage as a Markdown file with YAML front matter."""
    fields: dict[str, object] = {
        "id": p.id,
        "title": json.dumps(p.title),
        "conditions": "[" + ", ".join(p.conditions) + "]",
        "severity": "[" + ", ".join(p.severity) + "]",
        "risk": "[" + ", ".join(p.risk) + "]",
        "intervention_type": p.type,
        "audience": p.audience,
    }
    if p.population:
        fields["population"] = "[" + ", ".join(p.population) + "]"
    if p.after_treatment:
        fields["after_treatment"] = "true"
    if p.long_standing:
        fields["long_standing"] = "true"
    if p.requires:
        fields["requires"] = "[" + ", ".join(p.requires) + "]"
    fields.update(overrides)
    lines = ["---", *(f"{k}: {v}" for k, v in fields.items())]
    lines += [
        "evidence:",
        f"  guideline: {EVIDENCE['guideline']}",
        f"  section: {json.dumps(p.title.split(' for ')[0])}",
        f"  year: {EVIDENCE['year']}",
        f"  url: {EVIDENCE['url']}",
        "reviewed: 2026-11-25",
        "---",
    ]
    return "\n".join(lines) + "\n" + p.text + "\n"


def write_corpus(root: Path, passages: tuple[FixturePassage, ...] = PASSAGES) -> Path:
    """Write the passages as ``<root>/<condition>/<id>.md``; returns ``root``."""
    for p in passages:
        folder = root / p.conditions[0]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{p.id}.md").write_text(passage_markdown(p), encoding="utf-8")
    return root


def passage_file(root: Path, passage_id: str) -> Path:
    """Path of a fixture passage's file."""
    p = next(p for p in PASSAGES if p.id == passage_id)
    return root / p.conditions[0] / f"{p.id}.md"


def kb_settings(root: Path, extra_paths: list[Path] | None = None) -> KnowledgeBaseSettings:
    """Knowledge-base settings pointing at a fixture corpus."""
    return KnowledgeBaseSettings(passages_dir=root, extra_paths=extra_paths or [])


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A real one-page PDF with the given text lines (matplotlib's PDF backend, Type 42 fonts)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        for i, line in enumerate(lines):
            fig.text(0.05, 0.95 - i * 0.03, line, fontsize=9, family="DejaVu Sans")
        pdf.savefig(fig)
        plt.close(fig)
    return path


@contextlib.contextmanager
def read_only_store(store_dir: Path) -> Iterator[None]:
    """Make an on-disk Chroma store read-only for the block (as a read-only mount would).

    Root ignores file modes, so as root the database file is made immutable (``chattr +i``);
    the test is skipped where neither works.
    """
    import pytest
    from chromadb.api.shared_system_client import SharedSystemClient

    db = store_dir / "chroma.sqlite3"
    modes = {p: p.stat().st_mode for p in [store_dir, *store_dir.rglob("*")]}
    if os.geteuid() != 0:
        for p, mode in modes.items():
            p.chmod(mode & ~0o222)
    elif shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(db)]).returncode:
        pytest.skip("cannot make the store read-only here (root without chattr)")
    # Chroma keeps one open client per path and process; a new process opens the file anew.
    SharedSystemClient.clear_system_cache()
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(db)], check=True)
        for p, mode in modes.items():
            p.chmod(mode)
        SharedSystemClient.clear_system_cache()

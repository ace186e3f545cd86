"""The workbench's catalogue: every text in both languages, every key a template uses in it."""

import re
from pathlib import Path

from services.workbench.domain.calls import CHOICES, CONSENTS
from services.workbench.i18n import MESSAGES, language_of, translate

TEMPLATES = Path(__file__).parents[2] / "services" / "workbench" / "templates"
CODES = {
    "urgency.": ("urgent", "non_urgent", "insufficient_information"),
    "role.": ("specialist", "supervisor"),
    "purpose.": (
        "assess_risk",
        "plan_response",
        "call_back",
        "review_disclosure",
        "prepare_referral",
        "quality_review",
    ),
    "part.": ("narrative", "contact", "named_persons", "handover_notes"),
    "reporter.": CHOICES["reporter_role"],
    "answer.": (*CHOICES["answer"], "not_asked"),
    "kind.": CHOICES["trafficking_type"],
    "need.": CHOICES["need"],
    "gender.": CHOICES["gender_identity"],
    "status.": CHOICES["status_in_canada"],
    "heard.": CHOICES["heard_via"],
    "channel.": ("phone", "chat"),
    "call.q.consent_": CONSENTS,
    "call.help.consent_": CONSENTS,
}


def test_every_message_has_an_english_and_a_french_text() -> None:
    for key, (english, french) in MESSAGES.items():
        assert english.strip() and french.strip(), key


def test_every_key_a_template_names_is_in_the_catalogue() -> None:
    named = set()
    for template in TEMPLATES.glob("*.html"):
        named |= set(re.findall(r"""\bt\(["']([a-z_.]+)["']\)""", template.read_text()))
    assert named and named <= set(MESSAGES), named - set(MESSAGES)
    for prefix, codes in CODES.items():
        assert {prefix + code for code in codes} <= set(MESSAGES)


def test_french_is_chosen_when_the_browser_prefers_it_and_english_otherwise() -> None:
    assert language_of("fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert language_of("en-CA,fr;q=0.5") == "en"
    assert language_of(None) == "en"
    assert translate("queue.take", "fr") == "Prendre"

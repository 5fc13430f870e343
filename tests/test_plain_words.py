"""The words a guider reads: none of the store's own (a guider does not
know "sealed", "age recipient", "keyframe", "catalog", "Purge"), and the
principles by their names. Checked in every template a guider sees and in
the sentences the page's scripts write; the technician's status page and
the certificate (written for a data-protection officer) are not in it."""

import re
from pathlib import Path

import pytest

WEB = Path(__file__).parent.parent / "web"
NOT_FOR_GUIDERS = {"status.html"}
BANNED = ["seal", "sealed", "sealing", "unsealed", "recipient", "keyframe", "catalog",
          "catalogue", "purge", "ciphertext", "identity", "objects", "cryptographic",
          "re-encoding", "fmp4", "csrf", "json"]
SHOWN_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|alt|aria-label)="([^"]*)"')


def shown_text(template: str) -> str:
    """What a template shows: its text and the attributes a reader sees,
    without Jinja's code or the tags' names and values."""
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", template, flags=re.S)
    shown = " ".join(SHOWN_ATTRIBUTES.findall(text))
    return re.sub(r"<[^>]*>", " ", text) + " " + shown


def script_sentences(script: str) -> str:
    """The strings a script puts on the page: those with a space in them."""
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`', script)
    return " ".join(s for pair in strings for s in pair if " " in s)


PAGES = sorted(p.name for p in (WEB / "templates").glob("*.html")
               if p.name not in NOT_FOR_GUIDERS)
SCRIPTS = sorted(p.name for p in (WEB / "static").glob("*.js"))


@pytest.mark.parametrize("name", PAGES + SCRIPTS)
def test_no_word_of_the_store_s_own(name):
    source = (WEB / ("templates" if name.endswith(".html") else "static") / name).read_text()
    text = shown_text(source) if name.endswith(".html") else script_sentences(source)
    found = sorted({w for w in BANNED if re.search(rf"\b{w}\b", text, re.I)})
    assert found == [], f"{name} says {found}"


def test_the_check_finds_what_it_looks_for():
    assert shown_text('<p title="a sealed picture">x</p>{{ sealed }}').count("sealed") == 1
    assert "age key" in script_sentences('t.textContent = "the receiver\'s age key";')

"""The practitioner's handout printed to PDF by Debian's Chromium, read
back as text and as page images (poppler): the question, the goal, the
practitioner's words, and the still's picture on the page. The PDF stays
in memory: it goes to poppler through a pipe."""

import subprocess
import time

from appliance.film.clips import Still
from appliance.intervention.record import OWNER
from browser import chromium, live_server, unlock
from conftest import PASSPHRASE, begin_intervention
from media import synthetic_film
from test_browser import assert_no_plaintext

WORDS = "I waited, and Sam came to me"
QUESTION = "How can I help Sam join in at circle time?"


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def ink(pdf: bytes) -> float:
    """The share of the first page that is not paper, from a 40 dpi grey image."""
    pgm = subprocess.run(["pdftoppm", "-r", "40", "-gray", "-singlefile", "-f", "1", "-"],
                         input=pdf, capture_output=True, check=True).stdout
    # P5 <width> <height> <max>\n<pixels>
    magic, width, height, _, pixels = pgm.split(maxsplit=4)
    assert magic == b"P5"
    page = pixels[:int(width) * int(height)]
    return sum(1 for value in page if value < 200) / len(page)


def test_the_handout_prints_with_its_words_and_its_picture(app, intervention, settings,
                                                            tmp_path):
    store, identity = intervention
    begin_intervention(store)
    film = synthetic_film(store, 3, (640, 360))
    Still(store, film, identity, at=1.0, fps=30, caption="3.4").run()
    store.catalog.put_sealed_text("review-1", "reflections", store.seal_text(WORDS))
    store.catalog.put_sealed_text(OWNER, "question", store.seal_text(QUESTION))
    started = time.time()
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/handout/1")
        page.wait_for_function("() => [...document.images].every((i) => i.naturalWidth > 0)")
        with_still = page.pdf(format="A4", print_background=False)
        page.goto(f"{url}/handout/1?still={'f' * 32}")  # none of the cycle's: no picture
        words_only = page.pdf(format="A4", print_background=False)
    text = pdf_text(with_still)
    assert QUESTION in text
    assert "What went well" in text and "To wait for Sam" in text and WORDS in text
    assert "Receiving initiatives" in text, "the still's caption"
    assert "Show these stills" not in text and "Print" not in text, "the page's controls"
    # the picture is on the page: far more ink than the same page without it
    assert ink(with_still) > ink(words_only) + 0.05
    assert_no_plaintext(tmp_path, started)
    assert_no_plaintext(settings.home, started)

"""What the documents say of the box, held against the code: the LED's
error codes in the README are the button's table, and no page promises
what is already there."""

import re
from pathlib import Path

from appliance.capture.button import ERROR_BLINKS

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_lists_every_error_blink_code_and_no_other():
    readme = " ".join((ROOT / "README.md").read_text().split())
    said = readme.split("Errors blink a count, then pause:")[1].split("(the page and the journal")[0]
    codes = {int(n) for n in re.findall(r"(?:^|,)\s*(\d) ", said.strip())}
    assert codes == {blinks for _, blinks in ERROR_BLINKS}, said


def test_no_page_says_the_editor_is_still_to_come():
    for page in (ROOT / "web" / "templates").glob("*.html"):
        assert "next release" not in page.read_text(), page.name

"""The guest's constraints: markers settled for its Python, not the host's
(CI's fresh camera root could not resolve numpy for Python 3.13)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location(
    "guest_constraints", ROOT / "tests/system/guest_constraints.py")
guest_constraints = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guest_constraints)

PINS = ('numpy==1.24.2; python_version < "3.12"\n'
        'numpy==2.2.4; python_version >= "3.12"  # apt\'s\n'
        '# a comment\n\nflask==3.1.3\n')


def pins(text):
    return text.split()


def test_trixies_python_gets_the_numpy_it_has_wheels_for():
    assert pins(guest_constraints.for_python(PINS, "313")) == ["numpy==2.2.4", "flask==3.1.3"]


def test_bookworms_python_keeps_its_own():
    assert pins(guest_constraints.for_python(PINS, "3.11")) == ["numpy==1.24.2", "flask==3.1.3"]


def test_the_projects_constraints_pin_one_numpy_for_each_guest():
    text = (ROOT / "constraints.txt").read_text()
    for version in ("311", "313"):
        numpys = [p for p in pins(guest_constraints.for_python(text, version))
                  if p.startswith("numpy==")]
        assert len(numpys) == 1, (version, numpys)

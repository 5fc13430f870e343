"""constraints.txt as the guest's Python reads it.

`pip download --python-version 3.13` picks wheels for 3.13 but evaluates
the environment markers of a constraints file against the Python running
pip (3.11 here): `numpy==1.24.2; python_version < "3.12"` then pins the
guest to a numpy with no 3.13 wheel, and the download cannot resolve.
So the markers are settled here, for the guest, before pip sees them.

    python tests/system/guest_constraints.py 313 < constraints.txt > guest.txt
"""
import sys

from packaging.requirements import Requirement


def for_python(text: str, version: str) -> str:
    """The constraint lines that hold on Python `version` ("313" or "3.13"),
    markers removed; comments and blank lines dropped."""
    dotted = version if "." in version else f"{version[0]}.{version[1:]}"
    environment = {"python_version": dotted, "python_full_version": f"{dotted}.0"}
    kept = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        requirement.marker = None
        kept.append(str(requirement))
    return "\n".join(kept) + "\n"


if __name__ == "__main__":
    sys.stdout.write(for_python(sys.stdin.read(), sys.argv[1]))

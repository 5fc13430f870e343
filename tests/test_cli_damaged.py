"""The command line with damaged and piped files (issue 14, points 10 and
11): `vigbox recover` recovers every recording it can and names the ones
it cannot; `vigbox unseal` reads a pipe in bounded memory."""

import hashlib
import os
import random
import subprocess
import sys

from appliance import age
from appliance.capture.recovery import find_interrupted
from conftest import PASSPHRASE
from test_age_stream import SEAL_TO_STDOUT
from test_cli import VIGBOX, passphrase_pipe, vigbox
from test_damaged_files import break_header, cut_off


def test_recover_recovers_the_others_and_names_the_one_it_cannot(intervention, settings):
    """Before: the broken one made `vigbox recover` exit 1 at once, and the
    good one stayed interrupted."""
    store, identity = intervention
    bad, _ = cut_off(store, identity, 2)
    good, _ = cut_off(store, identity, 3)
    break_header(store.partial_path(bad))
    find_interrupted(store)
    fd = passphrase_pipe(PASSPHRASE)
    result = vigbox("recover", "--passphrase-fd", fd, home=settings.home, pass_fds=(fd,),
                    check=False)
    assert result.returncode == 1
    out, err = result.stdout.decode(), result.stderr.decode()
    assert f"{good} recovered:" in out and f"{bad} cannot be recovered: its header" in out
    assert "1 of 2 interrupted recordings could not be recovered" in err and bad in err
    assert "Traceback" not in err
    assert store.catalog.get(good).state == "recovered"
    assert store.catalog.get(bad).state == "interrupted"


def _peak_rss(args, stdin) -> tuple[bytes, int]:
    process = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    digest = hashlib.sha256()
    while block := process.stdout.read(1 << 20):
        digest.update(block)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return digest.hexdigest(), usage.ru_maxrss << 10


def test_unseal_from_a_pipe_runs_in_bounded_memory(tmp_path):
    """Before: a pipe was read whole into memory (1.1 GB of RSS for 1 GiB;
    here 64 MiB piped peaked 34-42 MiB above 1 MiB piped). Now the two
    peak within a few MiB of each other."""
    identity = age.X25519Identity.generate()
    key = tmp_path / "key.txt"
    key.write_text(f"{identity}\n")
    peaks = {}
    for mib in (1, 64):
        sealer = subprocess.Popen([sys.executable, "-c", SEAL_TO_STDOUT,
                                   str(identity.recipient()), str(mib)], stdout=subprocess.PIPE)
        got, peaks[mib] = _peak_rss([VIGBOX, "unseal", "-i", key], sealer.stdout)
        sealer.stdout.close()
        assert sealer.wait() == 0
        rng, digest = random.Random(0), hashlib.sha256()
        for _ in range(mib):
            digest.update(rng.randbytes(1 << 20))
        assert got == digest.hexdigest()
    assert peaks[64] - peaks[1] < 16 << 20, f"{peaks[64] >> 20} MiB against {peaks[1] >> 20}"


def test_unseal_a_range_and_salvage_from_a_pipe(tmp_path):
    identity = age.X25519Identity.generate()
    key = tmp_path / "key.txt"
    key.write_text(f"{identity}\n")
    data = os.urandom(5 * 65536 + 99)
    sealed = vigbox("seal", "-r", identity.recipient(), stdin=data).stdout
    assert vigbox("unseal", "-i", key, "--range", "70000-140000", stdin=sealed).stdout \
        == data[70000:140001]
    past = vigbox("unseal", "-i", key, "--range", "400000-", stdin=sealed, check=False)
    assert past.returncode == 1 and b"past the end" in past.stderr
    cut = vigbox("unseal", "--salvage", "-i", key, stdin=sealed[:-50])
    assert cut.stdout == data[:5 * 65536] and b"salvaged 327680 bytes" in cut.stderr
    refused = vigbox("unseal", "-i", key, stdin=sealed[:-50], check=False)
    assert refused.returncode == 1 and b"truncated" in refused.stderr

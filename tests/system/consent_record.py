"""The consent a guider records in the page's set-up, given here for the
VM's air test, whose intervention is made at the console (which records
none): every use, the box's analysis of the sound among them, so the
laptop on the air can ask for a film's interaction map. Run as the
service's user, with its settings:

    runuser -u vigbox -- env VIGBOX_CONFIG=/etc/vigbox/config.toml \\
        /opt/vigbox/venv/bin/python /opt/systemtest/consent_record.py
"""

from datetime import date

from appliance.config import load_settings
from appliance.intervention.consent import CODES
from appliance.intervention.record import Consent, InterventionRecord
from appliance.store.objects import Store


def main() -> None:
    store = Store(load_settings().store_dir, create=False)
    InterventionRecord(store.catalog).begin(
        label="VM air test", role="teacher", goals=[("To wait for the child", 3, 8)],
        consent=Consent(date.today(), frozenset(CODES)), seal=store.seal_text)
    print("consent recorded:", ", ".join(CODES))


if __name__ == "__main__":
    main()

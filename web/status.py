"""The status page: what the box is and holds, with no personal data.

Simulation or device, whether an intervention is set up, and how many
sealed objects the store holds: what a technician may read without the
passphrase.
"""

import shutil

from flask import Blueprint, jsonify, render_template

from appliance import __version__
from appliance.errors import CaptureError

from .services import services

bp = Blueprint("status", __name__)


def appliance_status() -> dict:
    settings = services().settings
    store = services().store
    usage = shutil.disk_usage(store.root)
    objects = store.list()
    return {
        "version": __version__,
        "mode": "simulation" if settings.simulate else "device",
        "intervention": store.keys.exists(),
        "objects": len(objects),
        "recordings": sum(1 for o in objects if o.entry.kind == "recording"),
        "free_bytes": usage.free,
        "recorder": recorder_status(),
    }


def recorder_status() -> dict:
    recorder = services().recorder
    if recorder is None:
        return {"state": "absent"}
    try:
        status = recorder.status()
    except CaptureError:
        return {"state": "not running"}
    return {k: status[k] for k in ("state", "elapsed", "marks", "error")}


@bp.get("/status")
def index():
    return render_template("status.html", status=appliance_status())


@bp.get("/api/status")
def status_json():
    return jsonify(appliance_status())

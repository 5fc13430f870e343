"""Settings: read in one place, from defaults, a TOML file and the environment.

Precedence, lowest first: built-in defaults (simulation, ``./var``), the
TOML file (``/etc/vigbox/config.toml`` on the device, or the file named by
``VIGBOX_CONFIG``), ``VIGBOX_HOME``, then ``--home`` on the command line (``--store`` names
the store folder alone, for reading a card mounted elsewhere).
``home`` points the whole appliance (store, catalog, keys, audit) at one
folder, which is how tests and the demo run side by side.

>>> s = load_settings(home="/tmp/x", environ={})
>>> str(s.store_dir), s.simulate
('/tmp/x/store', True)
"""

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEVICE_CONFIG = Path("/etc/vigbox/config.toml")
DEFAULT_HOME = Path("var")
# the passphrase rules assume at least age's own default work factor
MIN_WORK_FACTOR, MAX_WORK_FACTOR = 18, 22
FRONTS = ("nginx", "none")


def parse_listen(text: str) -> tuple[str, int]:
    """A listen setting, ``HOST:PORT`` (an IPv6 host in brackets), as a pair.

    >>> parse_listen("[::1]:8443")
    ('::1', 8443)
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"listen address {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Settings:
    home: Path = DEFAULT_HOME
    # the footage store; on the device, the mount point of the LUKS volume
    store: Path | None = None
    simulate: bool = True
    # most seconds between fsyncs of a recording's sealed chunks
    sync_interval: float = 1.0
    scrypt_work_factor: int = 18
    # where the page is: HTTPS (the front, nginx) unless front = "none"
    listen: str = "127.0.0.1:8080"
    # nginx: TLS in front of the page, which listens on web_socket;
    # none: the page itself on listen, plain HTTP (a comparison in tests)
    front: str = "nginx"
    # plain HTTP that only redirects to HTTPS ("" = none; the device: port 80)
    http_redirect: str = ""
    # the box's TLS key and certificate (None: in home); the device's is
    # /etc/vigbox/tls, readable by the front's user alone
    tls_dir: Path | None = None
    # the names its certificate carries (its host name only if listed here)
    tls_names: tuple[str, ...] = ("vigbox.local", "vigbox", "10.42.0.1")
    # the page's Unix socket behind the front (None: in home)
    web_socket_path: Path | None = None
    log_level: str = "INFO"
    # capture
    source: str = "synthetic"          # synthetic | v4l2 | picamera
    video_width: int = 1920
    video_height: int = 1080
    fps: int = 30
    video_bitrate: int = 6_000_000     # the stream for the hotspot (VideoProfile)
    camera_device: str = "/dev/video0"
    # the synthetic camera's sound: its beeping tone, or this sound file
    # played over and over (a synthesised dialogue: the demo's interaction map)
    synthetic_sound: str = ""
    # picamera2 (the camera module) | virtual (a simulated sensor below
    # picamera2's encoders: the test VM, which has no camera)
    camera: str = "picamera2"
    # auto: the USB microphone, found by its ALSA card at each take; or an
    # ALSA device, e.g. "plug:'dsnoop:CARD=Device,DEV=0'" (provisioning
    # writes the card it found)
    audio_device: str = "auto"
    max_recording_seconds: int = 1800
    reserve_mib: int = 64
    gpio: str = "auto"                 # auto | mock (a machine without GPIO: the test VM)
    button_pin: int = 17
    led_pin: int = 27
    hold_seconds: float = 2.0
    # the store's LUKS2 volume: a partition or a file-backed container;
    # "" = a plain folder (simulation, no LUKS)
    luks_device: str = ""
    luks_keyfile: str = "/etc/vigbox/store.key"
    # file: the key file is the key; otp: derived from the Pi's OTP private
    # key and the volume's UUID, written to luks_keyfile (put it on /run)
    luks_key_source: str = "file"
    otp_tool: str = "rpi-otp-private-key"
    luks_name: str = "vigbox-store"
    # whether vigbox maps and mounts the volume itself (at the store
    # folder); false: only its header is managed (a container in simulation)
    luks_mapped: bool = True
    # the device's signing key: file (made once, kept in the audit folder,
    # on the card) or otp (derived from the OTP key at boot into
    # device_key_runtime, in RAM; the audit folder holds only a link to it)
    device_key_source: str = "file"
    # a folder of its own, the service's user's (/run/vigbox is root's)
    device_key_runtime: Path = Path("/run/vigbox-key/device-ed25519.pem")
    # the set-up window's file (None: in home); on the device, in the
    # recorder's runtime folder, which the page can read and a reboot empties
    setup_window_path: Path | None = None
    # the names and addresses the page answers to (any port); a request for
    # any other Host is refused (421), so a rebound DNS name reaches nothing.
    # The listen address is always allowed.
    allowed_hosts: tuple[str, ...] = ("vigbox.local", "vigbox", "10.42.0.1",
                                      "localhost", "127.0.0.1", "::1")
    # minutes a long press of the record button opens the box for set-up
    setup_window_minutes: float = 10.0
    # printed on the wipe certificate: where the box is kept, whom to ask,
    # and the organisation's asset number ("" = the board's serial number)
    location: str = ""
    contact: str = ""
    asset_id: str = ""

    @property
    def store_dir(self) -> Path:
        return self.store if self.store is not None else self.home / "store"

    @property
    def control_socket(self) -> Path:
        """The recorder's control socket, which the web process talks to."""
        return self.home / "recorder.sock"

    @property
    def tls_folder(self) -> Path:
        return self.tls_dir or self.home / "tls"

    @property
    def web_socket(self) -> Path:
        """The page behind the HTTPS front (only the front may open it)."""
        return self.web_socket_path or self.home / "web.sock"

    @property
    def clock_socket(self) -> Path:
        """The clock helper's socket (the only process that may set the time)."""
        return self.home / "clock.sock"

    @property
    def wipe_dir(self) -> Path:
        """A wipe's progress, outside the store it erases."""
        return self.home / "wipe"

    @property
    def setup_window_file(self) -> Path:
        """Whether the holder opened the page's set-up window (the recorder
        writes it on a long press, the page reads it)."""
        return self.setup_window_path or self.home / "setup-window"

    @property
    def certificates_dir(self) -> Path:
        return self.home / "certificates"

    @property
    def evaluations_dir(self) -> Path:
        """Evaluation summaries: pseudonymous, kept after the wipe."""
        return self.home / "evaluations"

    @property
    def audit_dir(self) -> Path:
        """Outside the store: the audit log survives the wipe."""
        return self.home / "audit"


# the settings' declared types, as objects (this module has no postponed
# annotations): _coerce compares and checks against them
_TYPES: dict[str, Any] = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value):
    kind = _TYPES[name]
    if kind == tuple[str, ...]:
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"setting {name!r} must be a list of strings, not {value!r}")
        return tuple(value)
    if kind in (Path, Path | None):
        if not isinstance(value, str):
            raise ConfigError(f"setting {name!r} must be a path string, not {value!r}")
        return Path(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"setting {name!r} must be {kind.__name__}, not {value!r}")
    return value


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    unknown = sorted(set(data) - set(_TYPES))
    if unknown:
        raise ConfigError(f"{path}: unknown settings {unknown}")
    return {k: _coerce(k, v) for k, v in data.items()}


def load_settings(home: str | os.PathLike | None = None, *, store=None,
                  config: Path | None = None, environ=os.environ) -> Settings:
    """The one place settings are read."""
    settings = Settings()
    path = config or (Path(environ["VIGBOX_CONFIG"]) if "VIGBOX_CONFIG" in environ
                      else DEVICE_CONFIG)
    if path.exists():
        settings = replace(settings, **read_toml(path))
    # VIGBOX_HOME and --home point the whole appliance at one folder,
    # the store included, whatever the file says
    if environ.get("VIGBOX_HOME"):
        settings = replace(settings, home=Path(environ["VIGBOX_HOME"]), store=None)
    if home is not None:
        settings = replace(settings, home=Path(home), store=None)
    if store is not None:
        settings = replace(settings, store=Path(store))
    if settings.front not in FRONTS:
        raise ConfigError(f"front {settings.front!r}: choose one of {', '.join(FRONTS)}")
    if not MIN_WORK_FACTOR <= settings.scrypt_work_factor <= MAX_WORK_FACTOR:
        raise ConfigError(f"scrypt_work_factor {settings.scrypt_work_factor} outside "
                          f"{MIN_WORK_FACTOR}..{MAX_WORK_FACTOR}")
    return replace(settings, home=settings.home.absolute())

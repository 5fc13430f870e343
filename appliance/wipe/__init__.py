"""The auditable wipe and handover (issue 5): cryptographic erase of the
intervention's footage, verified, with a signed certificate.

>>> from pathlib import Path
>>> from appliance.config import Settings
>>> volume_for(Settings(home=Path("/tmp/box"))).describe()["type"]
'plain folder (simulation: no LUKS volume)'
"""

from ..store.volume import FolderVolume, LuksVolume, luks_volume
from .procedure import Wipe, intervention_code, wipe_pending
from .site import Site
from .state import REASONS, STEPS, WipeRequest, WipeState


def volume_for(settings) -> FolderVolume | LuksVolume:
    """The store's volume as the settings describe it."""
    if not settings.luks_device:
        return FolderVolume(settings.store_dir)
    return luks_volume(settings)


def wipe_for(settings, store, audit, **options) -> Wipe:
    """The wipe of this box's store, as the settings place it."""
    options = {"site": Site.from_settings(settings), **options}
    return Wipe(store, volume_for(settings), audit, wipe_dir=settings.wipe_dir,
                certificates_dir=settings.certificates_dir,
                evaluations_dir=settings.evaluations_dir, search=[settings.home],
                **options)


__all__ = ["REASONS", "STEPS", "Wipe", "WipeRequest", "WipeState", "intervention_code", "wipe_pending",
           "volume_for", "wipe_for", "FolderVolume", "LuksVolume"]
